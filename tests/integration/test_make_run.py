"""`make run` on the embedded defaults: SQLite, in-memory channel layer, eager Celery; with
MAIL_RECEIVER_PORT set, also the SMTP receiver for desk@localhost."""
import http.cookiejar
import os
import re
import signal
import smtplib
import subprocess
import urllib.parse
import urllib.request

import pytest

from tests.support.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.integration


def test_make_run_serves_the_login_page_with_demo_data(tmp_path):
    port, mail_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "REDIS_", "DATABASE_", "CELERY_", "EMAIL_", "CHANNEL_"))}
    env.update({"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEMO_PASSWORD": "demo-pass",
                "MAIL_RECEIVER_PORT": str(mail_port)})
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def login_page():
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / "run.log").read_text())
        try:
            with opener.open(f"{base}/accounts/login/", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None

    try:
        page = wait_for(login_page, timeout=120, interval=0.5, what="make run to serve")
        assert "Sign in" in page
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "alice", "password": "demo-pass", "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
        with opener.open(request, timeout=10) as response:
            home = response.read().decode()
            assert response.url == f"{base}/"
        assert "Alice Martin" in home
        with opener.open(f"{base}/healthz", timeout=5) as response:
            assert b'"redis": "embedded"' in response.read()

        # Mail to the demo desk from alice's address is a ticket of alice's.
        wait_for(lambda: "receiver on 127.0.0.1" in (tmp_path / "run.log").read_text(), timeout=30, what="the receiver")
        with smtplib.SMTP("127.0.0.1", mail_port, timeout=20) as smtp:
            smtp.sendmail("alice@example.com", ["desk@localhost"], (
                "From: Alice <alice@example.com>\r\nTo: desk@localhost\r\nSubject: Badge reader at door 3 is dead\r\n"
                "Message-ID: <make-run-1@example.com>\r\n\r\nIt beeps red for everyone.\r\n").encode())
        with opener.open(f"{base}/tickets/mine/", timeout=10) as response:
            assert "Badge reader at door 3 is dead" in response.read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert "[run] stopped" in (tmp_path / "run.log").read_text()
