"""Helpers shared by the benchmarks: Django set-up, timing, percentiles, a progress bar."""
from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import contextmanager


def setup_django(settings_module: str = "servicedesk.settings.test") -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    # As in production: keep the database connection between requests.
    os.environ.setdefault("CONN_MAX_AGE", "60")
    import django

    django.setup()


def ensure_database() -> None:
    """Create the database DATABASE_URL names if it does not exist yet (benchmarks keep their own)."""
    from urllib.parse import urlsplit

    import psycopg2

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "mean": statistics.fmean(ordered)}


@contextmanager
def count_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        yield ctx


def queries_for(fn) -> int:
    """How many SQL queries one call of `fn` makes."""
    with count_queries() as ctx:
        fn()
    return len(ctx.captured_queries)


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples_ms: list[float], queries: int | None = None) -> None:
    p = percentiles(samples_ms)
    extra = f"  queries/op={queries}" if queries is not None else ""
    print(f"{name:<44} p50={p['p50']:.2f}ms p95={p['p95']:.2f}ms p99={p['p99']:.2f}ms{extra}")
