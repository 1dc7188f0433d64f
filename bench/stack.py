"""Start the real stack for the load benchmarks: 2 ASGI processes (servicedesk.serve, i.e. uvicorn) and a Celery worker.

Only public interfaces are used afterwards (HTTP, websockets), so the benchmarks keep working
whatever the fan-out, the connection pool or the consumer look like inside.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(database_url: str) -> dict:
    # The harness process sets CONN_MAX_AGE for its own in-process reads; the stack keeps the
    # application's own connection settings unless BENCH_CONN_MAX_AGE says otherwise.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "CONN_MAX_AGE"}
    if os.environ.get("BENCH_CONN_MAX_AGE"):
        env["CONN_MAX_AGE"] = os.environ["BENCH_CONN_MAX_AGE"]
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ["REDIS_URL"],
            "CHANNEL_PREFIX": os.environ["CHANNEL_PREFIX"],
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "EMAIL_URL": "filemail://",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(OUT / "mail"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The benchmark measures throughput, not the content rate limits (they would answer 429).
            "RATE_LIMIT_COMMENTS": "1000000/min",
            "RATE_LIMIT_COMMENTS_STAFF": "1000000/min",
            "RATE_LIMIT_LIVE_TICKETS": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Stack:
    def __init__(self, database_url: str, *, web_workers: int = 2, worker_concurrency: int = 2):
        self.env = stack_env(database_url)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        OUT.mkdir(parents=True, exist_ok=True)
        log = open(OUT / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def start(self, *, worker: bool = True) -> "Stack":
        self._spawn("web", ["-m", "servicedesk.serve", "servicedesk.asgi:application", "--host", "127.0.0.1",
                            "--port", str(self.port), "--workers", str(self.web_workers), "--no-access-log",
                            "--no-proxy-headers", "--backlog", "4096"])
        if worker:
            self._spawn("worker", ["-m", "celery", "-A", "servicedesk", "worker", "-l", "warning",
                                   "--concurrency", str(self.worker_concurrency), "-Q", self.env["CELERY_QUEUE"]])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError("uvicorn did not answer /healthz within 90 s; see bench/out/web.log")
        if worker:
            time.sleep(3)  # let the worker connect to the broker
        return self

    def stop(self) -> dict[str, float]:
        """SIGTERM every process group; SIGKILL what is still there after 15 s. Returns exit times."""
        took = {}
        for name, proc in self.procs:
            if proc.poll() is None:
                started = time.monotonic()
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                    took[name] = time.monotonic() - started
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
                    took[name] = float("inf")
        self.procs = []
        return took

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
