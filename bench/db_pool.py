"""Database connections under load: Django's psycopg 3 pool vs PgBouncer (transaction mode) vs none.

Starts 2 uvicorn processes (`uvicorn --workers 2`) on the benchmark's own database, drives
`/healthz`, the feed and posting a comment at concurrency 16 and 64 with an asyncio httpx client,
and prints per run: requests per second, p50/p99 latency, 5xx count, other errors and the peak
number of PostgreSQL backends on the benchmark database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench_pool REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/db_pool.py --mode pool --mode pgbouncer --mode direct --seconds 8

Modes: `pool` (DB_POOL on, DB_POOL_MAX per process), `direct` (DB_POOL=false, CONN_MAX_AGE=0:
a connection per request), `pgbouncer` (DB_POOL=false through a PgBouncer in transaction mode
that this script starts on a free port; needs Debian's `pgbouncer`).

`direct` at concurrency 64 opens up to 64 PostgreSQL backends per run: on a shared server
(max_connections=100) run it at 16 only (`--mode direct --concurrency 16`).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit, urlunsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import ensure_database, percentiles  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def seed() -> dict:
    """An agent with a token, a public incident with some followers and some feed activity."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("celery").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    from accounts import services as accounts
    from accounts.models import Role, User
    from tickets import services as tickets

    agent = User.objects.filter(username="bench-agent").first()
    if agent is None:
        agent = accounts.user_create(username="bench-agent", password="bench-password-1", role=Role.AGENT,
                                     email="bench-agent@example.com")
        requester = accounts.user_create(username="bench-user", password="bench-password-1",
                                         email="bench-user@example.com")
        ticket = tickets.ticket_create(actor=requester, kind="incident", title="Bench incident",
                                       description="Load", visibility="public")
        for i in range(20):
            tickets.comment_add(actor=agent, ticket=ticket, body=f"Warm-up reply {i}")
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(title="Bench incident").order_by("id").first()
    _, key = accounts.api_token_create(user=agent)
    from django.db import connection

    connection.close()
    return {"token": key, "ticket": ticket.pk}


class BackendSampler(threading.Thread):
    """Peak number of PostgreSQL backends connected to the benchmark database."""

    def __init__(self, url: str, dbname: str):
        super().__init__(daemon=True)
        self.url, self.dbname, self.peak, self.stop = url, dbname, 0, threading.Event()

    def run(self):
        import psycopg

        parts = urlsplit(self.url)
        with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                             dbname="postgres", autocommit=True) as conn:
            while not self.stop.is_set():
                (count,) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                        [self.dbname]).fetchone()
                self.peak = max(self.peak, count - 0)
                time.sleep(0.1)


async def drive(base: str, method: str, path: str, headers: dict, body, concurrency: int, seconds: float) -> dict:
    import httpx

    latencies, statuses, errors = [], {}, 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        async def worker(n: int):
            nonlocal errors
            i = 0
            while time.monotonic() < deadline:
                i += 1
                start = time.perf_counter()
                try:
                    if method == "POST":
                        response = await client.post(path, json={"body": f"Update {n}-{i}"})
                    else:
                        response = await client.get(path)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.monotonic() - started
    p = percentiles(latencies) if latencies else {"p50": 0, "p99": 0}
    return {
        "rps": len(latencies) / elapsed, "p50": p["p50"], "p99": p["p99"], "statuses": statuses,
        "5xx": sum(v for k, v in statuses.items() if k >= 500), "errors": errors,
    }


def start_pgbouncer(db_url: str, workdir: str) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        raise SystemExit("pgbouncer is not installed (apt-get install pgbouncer)")
    parts = urlsplit(db_url)
    port = free_port()
    user = parts.username or "postgres"
    with open(os.path.join(workdir, "userlist.txt"), "w") as fh:
        fh.write(f'"{user}" ""\n')
    with open(os.path.join(workdir, "pgbouncer.ini"), "w") as fh:
        fh.write(
            "[databases]\n"
            f"* = host={parts.hostname} port={parts.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {workdir}/userlist.txt\n"
            "pool_mode = transaction\nmax_client_conn = 4000\n"
            f"default_pool_size = {os.environ.get('PGBOUNCER_POOL_SIZE', '20')}\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
    os.chmod(workdir, 0o755)
    command = [binary, os.path.join(workdir, "pgbouncer.ini")]
    if os.geteuid() == 0:
        command.insert(1, "-u")
        command.insert(2, "postgres")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_port(port, 15)
    return proc, port


def run_mode(mode: str, args, seeded: dict) -> list[str]:
    db_url = os.environ["DATABASE_URL"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test", "DEBUG": "false",
           "CELERY_TASK_ALWAYS_EAGER": "false", "RATE_LIMIT_COMMENTS_STAFF": "1000000/min",
           "RATE_LIMIT_COMMENTS": "1000000/min", "PYTHONUNBUFFERED": "1",
           "CELERY_QUEUE": os.environ.get("BENCH_CELERY_QUEUE", "bench-db-pool")}
    workdir = tempfile.mkdtemp(prefix="bench-db-pool-")
    bouncer = None
    if mode == "pool":
        env.update(DB_POOL="true", DB_POOL_MIN=str(args.pool_min), DB_POOL_MAX=str(args.pool_max),
                   DB_POOL_TIMEOUT=str(args.pool_timeout))
    elif mode == "direct":
        env.update(DB_POOL="false", CONN_MAX_AGE="0")
    elif mode == "pgbouncer":
        bouncer, bport = start_pgbouncer(db_url, workdir)
        parts = urlsplit(db_url)
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{bport}"
        env.update(DB_POOL="false", CONN_MAX_AGE="0", DATABASE_URL=urlunsplit(parts._replace(netloc=netloc)))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "servicedesk.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--no-proxy-headers", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "uvicorn.log"), "w"),
        start_new_session=True,
    )
    lines = []
    try:
        wait_port(port, 60)
        time.sleep(2)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Token {seeded['token']}"}
        targets = [
            ("healthz", "GET", "/healthz", {}),
            ("feed", "GET", "/api/v1/feed/", auth),
            ("comment", "POST", f"/api/v1/tickets/{seeded['ticket']}/comments/", auth),
        ]
        dbname = urlsplit(db_url).path.lstrip("/")
        for concurrency in args.concurrency:
            for name, method, path, headers in targets:
                sampler = BackendSampler(db_url, dbname)
                sampler.start()
                result = asyncio.run(drive(base, method, path, headers, None, concurrency, args.seconds))
                sampler.stop.set()
                sampler.join(2)
                line = (f"{mode:<9} c={concurrency:<3} {name:<8} {result['rps']:7.1f} req/s  p50={result['p50']:7.1f}ms "
                        f"p99={result['p99']:7.1f}ms  5xx={result['5xx']:<5} errors={result['errors']:<4} "
                        f"backends(peak)={sampler.peak:<3} statuses={result['statuses']}")
                print(line, flush=True)
                lines.append(line)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if bouncer is not None:
            bouncer.terminate()
            bouncer.wait(10)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", action="append", choices=["pool", "pgbouncer", "direct"])
    parser.add_argument("--concurrency", type=int, action="append")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--pool-min", type=int, default=2)
    parser.add_argument("--pool-max", type=int, default=10)
    parser.add_argument("--pool-timeout", type=float, default=5.0)
    args = parser.parse_args()
    args.mode = args.mode or ["pool", "pgbouncer", "direct"]
    args.concurrency = args.concurrency or [16, 64]
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (a benchmark database) and REDIS_URL (a Redis db of its own)")
    ensure_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.test")
    seeded = seed()
    for mode in args.mode:
        run_mode(mode, args, seeded)


if __name__ == "__main__":
    main()
