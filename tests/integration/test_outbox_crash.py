"""A worker killed between commit and send: the next worker delivers the e-mail exactly once."""
from pathlib import Path

import pytest

from feeds.models import OutboxMessage
from tests.conftest import PASSWORD
from tests.support.processes import http, wait_for

pytestmark = pytest.mark.integration


def mails(path: Path) -> list[Path]:
    return sorted(path.glob("*.log")) if path.exists() else []


def test_killed_worker_then_new_worker_delivers_exactly_once(alice, asgi_server, start_worker, stack_env, tmp_path):
    mail_dir = Path(stack_env["EMAIL_FILE_PATH"])
    markers = tmp_path / "markers"
    doomed = start_worker(
        name="doomed",
        env_overrides={
            "EMAIL_BACKEND": "tests.support.email_backends.SlowFileBackend",
            "SLOW_EMAIL_MARKER_DIR": str(markers),
            "SLOW_EMAIL_SECONDS": "60",
        },
    )
    base = asgi_server.extra["base_url"]
    for agent in ("laptop", "new-phone"):  # the second sign-in is from a new device: notify by e-mail
        status, _ = http("POST", f"{base}/api/v1/auth/token/", body={"username": "alice", "password": PASSWORD}, headers={"User-Agent": agent})
        assert status == 200

    wait_for(lambda: markers.exists() and any(markers.iterdir()), timeout=20, what="the send to start")
    doomed.kill()
    assert mails(mail_dir) == []
    message = OutboxMessage.objects.get(kind="email")
    assert message.status == OutboxMessage.Status.PENDING, "the kill rolled the half-done send back"

    start_worker(beat=True, name="survivor")
    wait_for(lambda: mails(mail_dir), timeout=20, what="the e-mail")
    wait_for(lambda: OutboxMessage.objects.get(kind="email").status == OutboxMessage.Status.SENT, timeout=10, what="the outbox row")
    # Several more sweeps run; none sends again.
    import time

    time.sleep(3)
    sent = mails(mail_dir)
    assert len(sent) == 1
    content = sent[0].read_text()
    assert "To: alice@example.com" in content and "new-phone" in content
    assert content.count("X-Servicedesk-Delivery") == 1
