"""`make bench`: build datasets, run every benchmark, write bench/REPORT.md.

    .venv/bin/python bench/run_all.py            # datasets S and M, everything
    .venv/bin/python bench/run_all.py --quick    # dataset S only, fewer sockets, shorter load runs

Databases: servicedesk_bench_s (S), servicedesk_bench (M), servicedesk_bench_peers_* (peers), all
on the PostgreSQL of DATABASE_HOST (127.0.0.1). Redis: REDIS_URL (default db 0) under the key
prefix CHANNEL_PREFIX (default "bench"). An existing dataset is reused when its shape matches.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CHANNEL_PREFIX", "bench")

SIZES = {
    "S": {"db": "servicedesk_bench_s", "tickets": 10_000, "users": 1_000, "agents": 20, "activities": 100_000},
    "M": {"db": "servicedesk_bench", "tickets": 100_000, "users": 10_000, "agents": 100, "activities": 1_000_000},
}
LINE = re.compile(r"^(?P<name>.+?)\s+p50=(?P<p50>[\d.]+)ms p95=(?P<p95>[\d.]+)ms p99=(?P<p99>[\d.]+)ms(?:\s+queries/op=(?P<q>\d+))?")

TARGETS = {
    "post_p50_ms": 60, "live_p50_ms": 100, "live_p99_1000_ms": 250, "live_p99_2000_ms": 500,
    "storm_last_s": 10, "feed_rps_c64": 500,
    "queue_p50_ms": 20, "ticket_page_p50_ms": 10, "dashboard_p50_ms": 30,
}


def log(msg: str, phase: str | None = None) -> None:
    if phase:
        SAMPLER.phase = phase
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", flush=True)


def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")), "0")
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(mem) / 1024 / 1024, 1),
        "postgres": sh(f"psql '{PG}/postgres' -Atc 'SHOW server_version'"),
        "postgres_at": PG.rsplit("@", 1)[-1],
        "postgres_settings": sh(f"psql '{PG}/postgres' -Atc \"SELECT string_agg(name || '=' || setting, ', ') FROM pg_settings "
                                f"WHERE name IN ('max_connections', 'shared_buffers', 'work_mem')\""),
        "redis": sh("redis-cli -h 127.0.0.1 INFO server | grep redis_version | cut -d: -f2"),
        "python": platform.python_version(), "load_before": os.getloadavg(),
        "kernel": platform.release(),
    }


class LoadSampler:
    """The 1-minute load average every `every` seconds while the run lasts, with the phase it was
    taken in: the machine may be shared, and the report says how busy it was during each part."""

    def __init__(self, every: float = 15.0):
        self.every, self.phase, self.samples = every, "start", []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopped.wait(self.every):
            self.samples.append((self.phase, os.getloadavg()[0]))

    def start(self) -> "LoadSampler":
        self.thread.start()
        return self

    def summary(self, stop: bool = True) -> dict:
        if stop:
            self.stopped.set()
        phases: dict[str, list[float]] = {}
        for phase, load in self.samples:
            phases.setdefault(phase, []).append(load)
        every = [load for _, load in self.samples]

        def stats(values):
            return {"mean": round(sum(values) / len(values), 2), "max": round(max(values), 2), "samples": len(values)}

        return {"all": stats(every) if every else None, "phases": {k: stats(v) for k, v in phases.items()}}


SAMPLER = LoadSampler()


def run_script(script: str, db: str, *args: str, timeout: int = 7200) -> str:
    env = {**os.environ, "DATABASE_URL": f"{PG}/{db}"}
    log(f"{script} {' '.join(args)} on {db}", phase=f"{script} ({db})")
    done = subprocess.run([PY, str(BENCH / script), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    (OUT / f"{script}-{db}.log").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr[-20000:])
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def parse_lines(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if match:
            rows.append({"name": match["name"].strip(), "p50": float(match["p50"]), "p95": float(match["p95"]),
                         "p99": float(match["p99"]), "queries": int(match["q"]) if match["q"] else None})
    return rows


def dataset_shape(db: str) -> dict:
    out = sh(f"psql '{PG}/{db}' -Atc \"SELECT (SELECT count(*) FROM tickets_ticket), "
             f"(SELECT count(*) FROM accounts_user WHERE username LIKE 'quser%'), (SELECT count(*) FROM feeds_activity "
             f"WHERE summary LIKE '%replied on INC-%')\" 2>/dev/null")
    parts = out.split("|") if out else []
    return {"tickets": int(parts[0]), "users": int(parts[1]), "activities": int(parts[2])} if len(parts) == 3 else {}


def build_dataset(size: str) -> dict:
    spec = SIZES[size]
    shape = dataset_shape(spec["db"])
    want = {"tickets": spec["tickets"], "users": spec["users"], "activities": spec["activities"]}
    # The benchmarks themselves add a ticket and a few activities: within 1 % is the same shape.
    if shape and shape["users"] == want["users"] and all(
            want[k] <= shape[k] <= want[k] * 1.01 for k in ("tickets", "activities")):
        log(f"dataset {size} reused: {shape}")
        return {"size": size, "reused": True, "seconds": 0, **shape}
    started = time.perf_counter()
    fresh = ["--fresh"] if shape else []
    run_script("tickets_dataset.py", spec["db"], "--tickets", str(spec["tickets"]), "--users", str(spec["users"]),
               "--agents", str(spec["agents"]), *fresh)
    run_script("feeds_dataset.py", spec["db"], "--activities", str(spec["activities"]), *fresh)
    took = time.perf_counter() - started
    return {"size": size, "reused": False, "seconds": took, **dataset_shape(spec["db"])}


def vacuum(db: str) -> None:
    """What autovacuum does on a live database (it may be switched off where the bench runs): without
    it, every row the dataset builder updated stays twice in the table and index-only scans read the
    heap, which no production database would show."""
    log(f"VACUUM (ANALYZE) {db}", phase=f"vacuum ({db})")
    subprocess.run(["psql", f"{PG}/{db}", "-qc", "VACUUM (ANALYZE)"], capture_output=True, text=True, timeout=3600)


def in_process(size: str, quick: bool) -> dict:
    db = SIZES[size]["db"]
    vacuum(db)
    feed_out = run_script("feed.py", db, "--people", "50" if quick else "200")
    pages_out = run_script("ticket_pages.py", db, "--repeat", "30" if quick else "200")
    # The manager dashboard has a dataset of its own: a year of tickets, read through the daily rollups.
    tickets = SIZES[size]["tickets"]
    dashboard_out = run_script("dashboard.py", f"{SIZES[size]['db']}_d", "--tickets", str(tickets),
                               "--people", str(SIZES[size]["users"] // 2), "--repeat", "30" if quick else "200")
    fanout = re.search(r"post to a service with (\d+) followers: write (\d+) ms, fan-out (\d+) ms", feed_out)
    return {"feed": parse_lines(feed_out), "pages": parse_lines(pages_out), "dashboard": parse_lines(dashboard_out),
            "fanout_line": fanout.group(0) if fanout else None}


def stack_benchmarks(size: str, quick: bool) -> dict:
    """HTTP load, live fan-out, reconnect storm and Celery throughput on the real stack."""
    db = SIZES[size]["db"]
    os.environ["DATABASE_URL"] = f"{PG}/{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # set-up in this process only
    sys.path.insert(0, str(ROOT))
    from bench.common import setup_django

    setup_django()
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from accounts.services import api_token_create
    from bench import http_load, live
    from bench.stack import Stack
    from feeds.models import OutboxMessage
    from tickets.models import Ticket

    counts = [250, 500] if quick else [1000, 2000]
    log(f"live set-up for {max(counts)} followers")
    data = live.prepare(max(counts))
    agent = User.objects.filter(username__startswith="qagent").order_by("pk").first()
    reader = User.objects.filter(username__startswith="quser").order_by("pk").first()
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session["_auth_user_backend"] = "accounts.backends.ModelBackend"
    session["_auth_user_hash"] = agent.get_session_auth_hash()
    session.create()
    cookie = f"sessionid={session.session_key}"
    _, reader_token = api_token_create(user=reader)
    _, agent_token = api_token_create(user=agent)
    # The ticket page and API read a dataset ticket with 8 comments (the dataset's busiest); comments
    # are POSTed to another one, so that repeated runs do not grow the page that is read.
    from django.db.models import Count

    with_comments = (Ticket.objects.exclude(title__startswith="Major incident").annotate(n=Count("comments")).filter(n__gte=1)
                     .order_by("pk").values_list("pk", "n"))
    target = with_comments.filter(status__in=["new", "in_progress"]).first()[0]  # closed tickets refuse comments
    busy = next(pk for pk, n in with_comments.filter(pk__gt=1000)[:5000] if n == 8 and pk != target)
    from django.db import connection

    connection.close()  # the stack gets the connections

    result: dict = {"http": [], "live": [], "celery": None, "shutdown": {},
                    "conn_max_age": os.environ.get("BENCH_CONN_MAX_AGE") or "application default"}

    def retrying(fn, seconds=120):
        """The harness's own reads: the stack under test may hold every PostgreSQL connection."""
        from django.db import OperationalError

        deadline = time.monotonic() + seconds
        while True:
            try:
                return fn()
            except OperationalError:
                connection.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
            finally:
                connection.close()

    def save():
        (OUT / "stack-partial.json").write_text(json.dumps(result, indent=2, default=str))

    # Each phase gets a fresh stack, so that what one phase leaves behind (connections, queues)
    # does not decide the next one's figures.
    if http_load.available():
        stack = Stack(f"{PG}/{db}").start()
        try:
            seconds = 8 if quick else 20
            cases = [
                ("feed", "/api/v1/feed/", {"token": reader_token}),
                ("queue", "/queue/", {"cookie": cookie}),
                ("ticket page", f"/tickets/{busy}/", {"cookie": cookie}),
                ("ticket API", f"/api/v1/tickets/{busy}/", {"token": agent_token}),
                ("post a comment", f"/api/v1/tickets/{target}/comments/",
                 {"token": agent_token, "method": "POST", "body": {"body": "Load test reply", "internal": True}}),
            ]
            for connections in (16, 64):
                for name, path, kwargs in cases:
                    log(f"wrk {name} c={connections}", phase="HTTP load")
                    result["http"].append(http_load.run(stack.base, name.replace(" ", "-") + f"-{connections}", path,
                                                        connections=connections, seconds=seconds, **kwargs)
                                          | {"name": name})
                    save()
        finally:
            result["shutdown"]["after HTTP load"] = stack.stop()
    else:
        log("wrk is not installed (apt-get install wrk): HTTP load skipped")
    for count in counts:
        log(f"live fan-out to {count} sockets + reconnect storm", phase=f"live {count} sockets")
        before = retrying(lambda: OutboxMessage.objects.filter(kind="email").order_by("-pk")
                          .values_list("pk", flat=True).first() or 0)
        stack = Stack(f"{PG}/{db}").start()
        try:
            outcome = live.run(stack.base, data, count)
            result["live"].append(outcome)
            save()
            # Celery: the e-mail deliveries those comments queued, drained by one worker (prefork 2);
            # throughput from the rows' own times (first to last sent), whenever the drain happened.
            from django.db.models import Max, Min

            emails = OutboxMessage.objects.filter(kind="email", pk__gt=before)
            started = time.perf_counter()
            while time.perf_counter() - started < 120 and retrying(lambda: emails.filter(status="pending").exists()):
                time.sleep(0.5)
            span = retrying(lambda: emails.filter(status="sent").aggregate(
                n=Count("pk"), first_created=Min("created_at"), first_sent=Min("sent_at"), last_sent=Max("sent_at")))
            seconds = (span["last_sent"] - span["first_sent"]).total_seconds() if span["n"] > 1 else None
            celery = {
                "sockets": count, "emails": retrying(emails.count), "sent": span["n"],
                "left": retrying(lambda: emails.filter(status="pending").count()),
                "send_span_s": seconds, "tasks_per_s": span["n"] / seconds if seconds else None,
                "last_sent_after_first_queued_s": (span["last_sent"] - span["first_created"]).total_seconds() if span["n"] else None,
            }
            # Both phases post on the same incident; the later one's repeats may coalesce: keep the larger sample.
            if result["celery"] is None or celery["sent"] >= result["celery"]["sent"]:
                result["celery"] = celery
            save()
        finally:
            result["shutdown"][f"after {count} sockets"] = stack.stop()
    return result


def peers(size: str) -> dict:
    log("peers", phase="peers")
    done = subprocess.run([PY, str(BENCH / "peers" / "run_peers.py"), "--size", size], cwd=ROOT,
                          capture_output=True, text=True, timeout=7200)
    (OUT / f"peers-{size}.log").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr[-20000:])
    if done.returncode != 0:
        return {"error": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="dataset S only, 250/500 sockets, short load runs")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-stack", action="store_true")
    parser.add_argument("--remeasure", action="store_true",
                        help="keep the datasets and the peers' figures of bench/out/results.json; measure the "
                             "in-process reads and (unless --skip-stack) the stack again")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"mode": "quick (S)" if args.quick else "full (S and M)", "machine": machine(), "sizes": {}}
    if args.remeasure:
        earlier = json.loads((OUT / "results.json").read_text())
        results = {**earlier, "machine": {**earlier["machine"], "reads_measured": results["machine"]["date"]}}
    SAMPLER.start()
    sizes = ["S"] if args.quick else ["S", "M"]
    notes = BENCH / "NOTES.md"  # the written analysis of the last run (why a target is missed)

    def publish(done: bool) -> None:
        """Write results.json and REPORT.md with what has been measured so far (a long run on a busy
        machine leaves a report after every phase, marked unfinished until the last)."""
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from bench.report import write_report

        results["finished"] = done
        results["machine"]["load_after"] = os.getloadavg()
        results["machine"]["reads_load_during" if args.remeasure else "load_during"] = SAMPLER.summary(stop=done)
        if notes.exists():
            results["notes"] = [ln[2:].strip() for ln in notes.read_text().splitlines() if ln.startswith("- ")]
        (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
        write_report(results, BENCH / "REPORT.md", TARGETS)

    for size in sizes:
        dataset = results["sizes"][size]["dataset"] if args.remeasure else build_dataset(size)
        results["sizes"][size] = {"dataset": dataset, "in_process": in_process(size, args.quick)}
        publish(False)
    top = sizes[-1]
    # The stack (live fan-out, storm, HTTP load) before the peers: it holds this product's targets.
    if not args.skip_stack:
        results["stack"] = stack_benchmarks(top, args.quick)
        publish(False)
    if not args.skip_peers and not args.remeasure:
        results["peers"] = peers(top)
    publish(True)
    log("wrote bench/REPORT.md")


if __name__ == "__main__":
    main()
