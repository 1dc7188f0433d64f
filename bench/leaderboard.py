"""Leaderboard benchmark: 10,000 people and 1,000,000 ledger entries, top 50 + "my rank".

    .venv/bin/python bench/leaderboard.py                       # builds the dataset once, then times
    .venv/bin/python bench/leaderboard.py --users 10000 --entries 1000000 --repeat 1000

Uses its own database (servicedesk_bench_g, created if missing, then reused) and the Redis named
by REDIS_URL under the key prefix CHANNEL_PREFIX (default "benchg"). The ledger is written with
COPY (deterministic for a seed, about 2 % reversals), the Redis sorted sets are rebuilt from it
with the same code as `manage.py rebuild_leaderboards`, checked against SQL, then timed:
- Redis read: top 50 + the caller's rank and points (one pipeline, one ZCOUNT when outside the top);
- the selector the API uses (the above + one query for the 50 names);
- GET /api/v1/leaderboards/ through the whole Django stack with token authentication;
- the SQL fallback (no Redis) for comparison.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench_g")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CHANNEL_PREFIX", "benchg")

from bench.common import ensure_database, progress, queries_for, report, setup_django, timed  # noqa: E402



def build(users: int, entries: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Team, User
    from gamification.models import PointEntry, Rule

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    teams = [Team.objects.get_or_create(slug=f"bench-team-{i}", defaults={"name": f"Bench team {i}"})[0] for i in range(20)]
    have_users = User.objects.filter(username__startswith="gbench").count()
    batch = []
    for i in range(have_users, users):
        batch.append(User(username=f"gbench{i:06d}", display_name=f"Bench {i}", password="!", team=teams[i % len(teams)]))
        if len(batch) == 2000 or i == users - 1:
            User.objects.bulk_create(batch)
            batch = []
            progress(i + 1, users, "users")
    people = list(User.objects.filter(username__startswith="gbench").order_by("pk").values_list("pk", "team_id"))
    rules = list(Rule.objects.exclude(points=0).values_list("pk", "points"))
    have = PointEntry.objects.count()
    if have >= entries:
        return
    now = timezone.now()
    next_id = (PointEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    chunk = 50_000
    recent: list[tuple] = []
    columns = ("id", "user_id", "points", "rule_id", "reason", "actor_id", "source_type", "source_id", "source_title",
               "team_id", "tags", "reversal_of_id", "key", "created_at", "earned_at")
    reversed_ids: set[int] = set()
    for start in range(have, entries, chunk):
        buf = io.StringIO()
        for _ in range(min(chunk, entries - start)):
            # A long tail: a few people earn a lot, most a little.
            person = people[min(len(people) - 1, int(rng.paretovariate(1.2)) - 1 + rng.randrange(len(people)) // 50)]
            when = now - timedelta(seconds=rng.randrange(60 * 24 * 3600))
            if recent and rng.random() < 0.02:
                original = recent[rng.randrange(len(recent))]
                if original[0] in reversed_ids:
                    continue
                reversed_ids.add(original[0])
                oid, uid, pts, rid, team, earned = original
                row = (next_id, uid, -pts, rid, "Reversed: bench", "\\N", "ticket", oid, "", team, "", oid,
                       f"reversal:{oid}", when.isoformat(), earned.isoformat())
            else:
                rid, pts = rules[rng.randrange(len(rules))]
                row = (next_id, person[0], pts, rid, "bench", "\\N", "ticket", rng.randrange(1, 100_000), "",
                       person[1], "", "\\N", f"bench:{next_id}", when.isoformat(), when.isoformat())
                if pts > 0:
                    recent.append((next_id, person[0], pts, rid, person[1], when))
                    if len(recent) > 5000:
                        recent.pop(0)
            buf.write("\t".join(str(v) for v in row) + "\n")
            next_id += 1
        buf.seek(0)
        with connection.cursor() as cur:
            cur.copy_expert(f"COPY gamification_pointentry ({', '.join(columns)}) FROM STDIN", buf)
        progress(min(start + chunk, entries), entries, "ledger entries")
    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('gamification_pointentry', 'id'), (SELECT MAX(id) FROM gamification_pointentry))")
        cur.execute("ANALYZE gamification_pointentry")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ensure_database()
    setup_django()
    build(args.users, args.entries, args.seed)

    from django.conf import settings
    from django.test import Client, override_settings

    from accounts.models import User
    from accounts.services import api_token_create
    from gamification import leaderboard, selectors
    from gamification.models import PointEntry

    settings.ALLOWED_HOSTS = ["*"]
    print(f"{User.objects.filter(username__startswith='gbench').count()} people, {PointEntry.objects.count()} ledger entries")
    start = time.perf_counter()
    result = leaderboard.rebuild()
    print(f"rebuild from the ledger: {result['sets']} sorted sets from {result['entries']} entries "
          f"in {time.perf_counter() - start:.1f} s")
    redis_rows, _ = leaderboard.top(period="all", scope="global", limit=50)
    sql_rows, _ = leaderboard.sql_top(period="all", scope="global", limit=50)
    assert redis_rows == sql_rows, "Redis and SQL disagree"
    print("check: Redis top 50 (all time) equals the SQL aggregation")

    rng = random.Random(args.seed)
    people = list(User.objects.filter(username__startswith="gbench").order_by("pk"))
    sample = [people[rng.randrange(len(people))] for _ in range(args.repeat)]
    team_scope = f"team:{people[0].team_id}"
    it = iter(sample * 4)

    for period, scope in (("all", "global"), ("week", "global"), ("month", team_scope)):
        report(f"Redis: top 50 + my rank ({period}, {scope})",
               timed(lambda p=period, s=scope: leaderboard.top(period=p, scope=s, limit=50, user_id=next(it).pk), args.repeat))
    it = iter(sample)
    viewer = sample[0]
    report("selector: top 50 + my rank + names (all)",
           timed(lambda: selectors.board(viewer=next(it), period="all", scope="global"), args.repeat),
           queries_for(lambda: selectors.board(viewer=viewer, period="all", scope="global")))

    _, key = api_token_create(user=viewer)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/leaderboards/?period=all")
    samples = []
    for _ in range(min(args.repeat, 300)):
        t0 = time.perf_counter()
        response = client.get("/api/v1/leaderboards/?period=all")
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    report("GET /api/v1/leaderboards/?period=all", samples, queries_for(lambda: client.get("/api/v1/leaderboards/?period=all")))

    with override_settings(REDIS_URL=""):
        it = iter(sample)
        report("SQL fallback: top 50 + my rank (all)",
               timed(lambda: leaderboard.top(period="all", scope="global", limit=50, user_id=next(it).pk), 20))
        report("SQL fallback: top 50 + my rank (week)",
               timed(lambda: leaderboard.top(period="week", scope="global", limit=50, user_id=next(it).pk), 20))


if __name__ == "__main__":
    main()
