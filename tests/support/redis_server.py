"""A private redis-server on a free port, so a test can stop and restart Redis without touching
the shared one: `--save "" --appendonly no`, so a restart comes back empty, as after a crash."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from .processes import free_port, wait_for


class RedisServer:
    def __init__(self, work_dir: Path):
        self.port = free_port()
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.popen: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        log = open(self.work_dir / f"redis-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - owned by the child
        self.popen = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.work_dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self.ping, timeout=15, interval=0.05, what=f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop it hard (SIGKILL: connections drop, nothing is saved), and wait until it is gone."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self.popen = None

    def restart(self) -> None:
        self.stop()
        self.start()
