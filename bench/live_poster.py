"""The agent's side of the live fan-out benchmark, in a process of its own.

The agent who posts a comment is not one of the followers: timed from the followers' asyncio client,
a POST's answer waited behind that client's own work on a thousand incoming frames. Here each line
on stdin is one request (JSON: base, method, path, token, body); each line on stdout is its status,
its start (time.perf_counter, CLOCK_MONOTONIC on Linux, so comparable with the client's) and its
duration in milliseconds.
"""
from __future__ import annotations

import http.client
import json
import sys
import time
from urllib.parse import urlsplit


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        url = urlsplit(job["base"])
        body = json.dumps(job["body"]).encode() if job.get("body") is not None else None
        started = time.perf_counter()
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            connection.request(job["method"], job["path"], body=body, headers={
                "Authorization": f"Token {job['token']}", "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        sys.stdout.write(json.dumps({"status": status, "started": started, "ms": ms}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
