"""`make run`: serve the site, plus a Celery worker and beat when Redis is configured.

One command, one Ctrl-C: children get SIGTERM, then SIGKILL if they linger.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _commands() -> list[tuple[str, list[str]]]:
    py = sys.executable
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    # Forwarded headers are the application's business (PROXY_COUNT), never uvicorn's.
    # servicedesk.serve is uvicorn with a bounded graceful shutdown that closes open sockets.
    web = [py, "-m", "servicedesk.serve", "servicedesk.asgi:application", "--host", host, "--port", port, "--no-proxy-headers"]
    web_workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    if web_workers > 1:
        # Several processes share live events only through Redis.
        if not os.environ.get("REDIS_URL"):
            sys.exit("WEB_CONCURRENCY > 1 needs REDIS_URL (the in-memory channel layer is per process).")
        web += ["--workers", str(web_workers)]
    commands = [("web", web)]
    if os.environ.get("REDIS_URL"):
        celery = [py, "-m", "celery", "-A", "servicedesk"]
        commands.append(("worker", celery + ["worker", "-l", "info", "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2")]))
        commands.append(("beat", celery + ["beat", "-l", "info"]))
    if os.environ.get("MAIL_RECEIVER_PORT"):
        # The SMTP/LMTP receiver for mail routed straight to the desk (127.0.0.1 only).
        commands.append(("mail", [py, "-m", "intake.receiver"]))
    return commands


def main() -> int:
    children: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in _commands():
        print(f"[run] starting {name}: {' '.join(command[1:])}", flush=True)
        children.append((name, subprocess.Popen(command, start_new_session=True)))
    print(f"[run] serving http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/ (Ctrl-C to stop)", flush=True)

    exit_code = 0
    while not stopping:
        for name, proc in children:
            if proc.poll() is not None:
                print(f"[run] {name} exited with {proc.returncode}; stopping the rest", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.3)

    for _, proc in children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for name, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[run] {name} did not stop in time; killing it", flush=True)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    print("[run] stopped", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
