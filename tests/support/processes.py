"""Start and stop the real processes the integration and browser tests talk to."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, as in a crash."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def spawn(name: str, args: list[str], env: dict, log_dir: Path) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    popen = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name=name, popen=popen, log_path=log_path)


def http(method: str, url: str, *, body: dict | None = None, headers: dict | None = None, timeout: float = 10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"null")
        except ValueError:
            return error.code, payload.decode(errors="replace")


def start_asgi_server(env: dict, log_dir: Path, port: int | None = None) -> Process:
    port = port or free_port()
    proc = spawn(
        "asgi",
        ["-m", "servicedesk.serve", "servicedesk.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env,
        log_dir,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        if not proc.alive():
            raise RuntimeError(f"ASGI server exited:\n{proc.log()}")
        try:
            status, _ = http("GET", f"{base}/healthz", timeout=2)
            return status == 200
        except OSError:
            return False

    wait_for(healthy, timeout=30, what="the ASGI server")
    proc.extra["base_url"] = base
    proc.extra["port"] = port
    return proc


def start_celery_worker(env: dict, log_dir: Path, *, beat: bool = False, name: str = "worker") -> Process:
    args = [
        "-m", "celery", "-A", "servicedesk", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-mingle", "--without-gossip", "--without-heartbeat", "-Q", env["CELERY_QUEUE"],
        "-n", f"{name}-{time.monotonic_ns()}@%h",
    ]
    if beat:
        args += ["-B", "--schedule", str(log_dir / f"beat-{time.monotonic_ns()}")]
    proc = spawn(name, args, env, log_dir)

    def ready():
        if not proc.alive():
            raise RuntimeError(f"Celery worker exited:\n{proc.log()}")
        return " ready." in proc.log()

    wait_for(ready, timeout=60, what="the Celery worker")
    return proc
