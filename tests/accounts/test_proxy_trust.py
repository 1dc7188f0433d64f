"""One trusted-proxy setting (PROXY_COUNT) for every component that reads a client's address,
and deployment files that do not let a client choose it."""
import re
from pathlib import Path

import pytest
import yaml
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.test import RequestFactory, override_settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from servicedesk.net import client_ip

ROOT = Path(settings.BASE_DIR)

HEADERS = [
    ("10.0.0.2", None),
    ("10.0.0.2", "198.51.100.7"),
    ("10.0.0.2", "198.51.100.7, 192.0.2.10"),
    ("10.0.0.2", "1.1.1.1, 198.51.100.7, 192.0.2.10"),
]


@pytest.mark.parametrize("proxies", [0, 1, 2])
@pytest.mark.parametrize(("remote", "forwarded"), HEADERS)
def test_drf_axes_and_the_guard_judge_a_request_by_the_same_address(proxies, remote, forwarded):
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().post("/accounts/login/", **meta)
    with override_settings(PROXY_COUNT=proxies, REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}):
        ours = client_ip(request)
        assert BaseThrottle().get_ident(Request(request)) == ours
        assert get_client_ip_address(request) == ours
    if proxies == 0:
        assert ours == remote  # no proxies: the header is nobody's word


def test_the_settings_share_one_proxy_count():
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.PROXY_COUNT
    assert settings.AXES_CLIENT_IP_CALLABLE == "servicedesk.net.client_ip"


def _uvicorn_trusts_everyone(command: str) -> bool:
    return bool(re.search(r"forwarded-allow-ips[\"',\s=]+\*", command)) or "FORWARDED_ALLOW_IPS" in command


def _runs_the_server(command: str) -> bool:
    # servicedesk.serve is uvicorn's command line with a bounded, clean shutdown.
    return "uvicorn" in command or "servicedesk.serve" in command


def test_the_image_does_not_trust_forwarded_headers_from_anyone():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert _runs_the_server(cmd) and "--no-proxy-headers" in cmd and not _uvicorn_trusts_everyone(cmd)
    assert re.search(r"^ENV PROXY_COUNT=0$", dockerfile, re.M)


def test_compose_publishes_only_a_proxy_and_trusts_exactly_that_hop():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        command = " ".join(service.get("command") or [])
        if not _runs_the_server(command):
            continue
        assert "--no-proxy-headers" in command and not _uvicorn_trusts_everyone(command), name
        proxies = int(service["environment"]["PROXY_COUNT"])
        if service.get("ports"):
            assert proxies == 0, f"{name} is published directly yet trusts {proxies} proxies"
        else:
            assert proxies == 1, f"{name} sits behind the one nginx proxy"
    proxy = services["proxy"]
    assert proxy["ports"] and "nginx" in proxy["image"]
    conf_path = next(v.split(":")[0] for v in proxy["volumes"] if "nginx" in v)
    conf = (ROOT / conf_path).read_text()
    # The proxy overwrites the header with the address it saw, so nothing a client sends survives.
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", conf)
    assert "server web:8000" in conf
    # The other services (worker, beat, migrate) never serve requests; no one else is published.
    assert [n for n, s in services.items() if s.get("ports")] == ["proxy"]
