"""A real HTTP server on 127.0.0.1 playing a webhook / Slack target, run in a thread.

Behaviours: answer 200; answer 500 for the first N requests, then 200; or read the request and
never answer (the connection stays open until the server stops); or let `decide(body, n)` say,
for the n-th request (1-based) carrying that body: "ok", "fail" (500) or "hang". Every request
that reached the server is recorded, whether or not it was answered, with its outcome.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Target:
    def __init__(self, *, fail_first: int = 0, hang: bool = False, body: bytes = b"ok", content_type: str = "text/plain",
                 decide=None):
        self.fail_first = fail_first
        self.decide = decide
        self.hang = hang
        self.body = body
        self.content_type = content_type
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", target.content_type)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with target._lock:
                    number = len(target.requests) + 1
                    same = 1 + sum(1 for r in target.requests if r["body"] == raw)
                    if target.decide is not None:
                        outcome = target.decide(raw, same)
                    else:
                        outcome = "hang" if target.hang else "fail" if number <= target.fail_first else "ok"
                    target.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw, "outcome": outcome})
                if outcome == "hang":
                    target._release.wait(60)
                    return
                status = 500 if outcome == "fail" else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def json_bodies(self) -> list[dict]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]

    def __enter__(self) -> Target:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
