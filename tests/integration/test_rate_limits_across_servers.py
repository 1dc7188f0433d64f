"""Two real ASGI server processes share one person's rate-limit counters through Redis."""
import json
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from accounts import services as account_services
from servicedesk.ratelimit import parse_rate
from tests.support import processes

pytestmark = pytest.mark.integration


def post(url: str, token: str, body: dict) -> tuple[int, dict, str | None]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers.get("Retry-After")


def test_the_post_limit_holds_across_two_server_processes(alice, stack_env, log_dir):
    _, token = account_services.api_token_create(user=alice)
    servers = [processes.start_asgi_server(stack_env, log_dir) for _ in range(2)]
    try:
        bases = [s.extra["base_url"] for s in servers]
        rate = parse_rate(settings.CONTENT_RATE_LIMITS["post"])
        allowance = rate.count
        # The servers' clocks are real: a burst that straddles the end of a fixed window would be
        # let through by the next, so start it with 20 s or more of one left.
        left = rate.seconds - time.time() % rate.seconds
        if left < 20:
            time.sleep(left + 0.5)
        body = {"body": "Status update", "wall": {"type": "user", "key": "alice"}}
        statuses = [post(f"{bases[n % 2]}/api/v1/posts/", token, body)[0] for n in range(allowance)]
        assert statuses == [201] * allowance
        for base in bases:
            status, answer, retry_after = post(f"{base}/api/v1/posts/", token, body)
            assert status == 429 and answer["code"] == "rate_limited"
            assert retry_after is not None and int(retry_after) == answer["retry_after"] >= 1
    finally:
        for server in servers:
            server.stop()
