"""HTTP load with wrk (Debian package `wrk`) against a running stack, authenticated by token header
or session cookie through a small Lua script; the script's `done` hook prints the figures as JSON."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

LUA = r"""
wrk.method = "%(method)s"
wrk.headers["%(header)s"] = "%(value)s"
wrk.headers["Content-Type"] = "application/json"
%(body)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("WRKJSON " .. string.format(
    '{"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, ' ..
    '"p50": %%.3f, "p95": %%.3f, "p99": %%.3f, "max": %%.3f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(base: str, name: str, path: str, *, connections: int, seconds: int, token: str | None = None,
        cookie: str | None = None, method: str = "GET", body: dict | None = None) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    header, value = ("Authorization", f"Token {token}") if token else ("Cookie", cookie)
    body_line = f"wrk.body = {json.dumps(json.dumps(body))}" if body is not None else ""
    script = OUT / f"wrk-{name}.lua"
    script.write_text(LUA % {"method": method, "header": header, "value": value, "body": body_line})
    threads = min(2, connections)
    completed = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(script), f"{base}{path}"],
        capture_output=True, text=True, timeout=seconds + 60,
    )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        return {"name": name, "connections": connections, "error": (completed.stdout + completed.stderr)[-500:]}
    figures = json.loads(line[len("WRKJSON "):])
    seconds_run = figures["duration_us"] / 1e6
    errors = figures["connect"] + figures["read"] + figures["write"] + figures["status"] + figures["timeout"]
    return {"name": name, "connections": connections, "rps": figures["requests"] / seconds_run,
            "errors": errors, "non_2xx": figures["status"], **figures}
