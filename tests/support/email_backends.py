"""E-mail backends the integration tests put into worker processes."""
import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class SlowFileBackend(EmailBackend):
    """Announces that a send has started, then stalls, so a test can kill the worker mid-send."""

    def send_messages(self, email_messages):
        marker_dir = Path(os.environ["SLOW_EMAIL_MARKER_DIR"])
        marker_dir.mkdir(parents=True, exist_ok=True)
        (marker_dir / f"sending-{os.getpid()}").write_text("started")
        time.sleep(float(os.environ.get("SLOW_EMAIL_SECONDS", "30")))
        return super().send_messages(email_messages)


class PausableFileBackend(EmailBackend):
    """Writes e-mail files, but while `<SLOW_EMAIL_MARKER_DIR>/pause` exists each send announces
    itself (`sending-<pid>`) and waits before writing, so a test can kill the worker mid-send."""

    def send_messages(self, email_messages):
        marker_dir = Path(os.environ["SLOW_EMAIL_MARKER_DIR"])
        pause = marker_dir / "pause"
        if pause.exists():
            (marker_dir / f"sending-{os.getpid()}").write_text("started")
            deadline = time.monotonic() + 60
            while pause.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().send_messages(email_messages)
