"""Deterministic feed dataset on top of the ticket dataset (run bench/tickets_dataset.py first).

    .venv/bin/python bench/feeds_dataset.py --activities 1000000          # size M on servicedesk_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_bench_s \\
      .venv/bin/python bench/feeds_dataset.py --activities 100000          # size S

Per person about 50 follows (40 tickets, 5 people, 3 services, 2 tags); two services with
5,000+ followers and one with everyone; activities on tickets, fanned out exactly as the
services do (into the timelines of the ticket's and the actor's followers). Bulk SQL, because
writing a million activities one by one takes hours; the rows are the ones the services write.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")

from bench.common import progress, setup_django  # noqa: E402

STEPS = [
    ("follows: tickets", """
        INSERT INTO feeds_follow (user_id, target_type, target_key, target_id, reason, created_at)
        SELECT u.id, 'ticket', t.id::text, t.id, 'manual', now()
        FROM accounts_user u
        CROSS JOIN LATERAL generate_series(1, 40) g
        JOIN tickets_ticket t ON t.id = 1 + ((u.id::bigint * 7919 + g * 104729) %% %(tickets)s)
        WHERE u.username LIKE 'quser%%'
        ON CONFLICT DO NOTHING"""),
    ("follows: people", """
        INSERT INTO feeds_follow (user_id, target_type, target_key, target_id, reason, created_at)
        SELECT u.id, 'user', p.username, p.id, 'manual', now()
        FROM accounts_user u
        CROSS JOIN LATERAL generate_series(1, 5) g
        JOIN accounts_user p ON p.id = (SELECT min(id) FROM accounts_user) + ((u.id * 31 + g * 977) %% %(users)s)
        WHERE u.username LIKE 'quser%%' AND p.id <> u.id
        ON CONFLICT DO NOTHING"""),
    ("follows: services and tags", """
        INSERT INTO feeds_follow (user_id, target_type, target_key, target_id, reason, created_at)
        SELECT u.id, 'service', s.id::text, s.id, 'manual', now()
        FROM accounts_user u JOIN tickets_service s ON s.slug IN ('service-0', 'service-1', 'service-2')
        WHERE u.username LIKE 'quser%%' AND (s.slug = 'service-0' OR (u.id + s.id) %% 2 = 0)
        UNION ALL
        SELECT u.id, 'tag', t.tag, NULL, 'manual', now()
        FROM accounts_user u CROSS JOIN (VALUES ('vpn'), ('outlook'), ('printing'), ('laptops')) AS t(tag)
        WHERE u.username LIKE 'quser%%' AND (u.id + length(t.tag)) %% 2 = 0
        ON CONFLICT DO NOTHING"""),
]

ACTIVITY_BATCH = """
    WITH made AS (
        INSERT INTO feeds_activity (actor_id, verb, object_type, object_key, object_title, stream, target_type,
                                    target_key, target_title, target_stream, summary, data, created_at)
        SELECT a.id, 'commented', 'ticket', t.id::text, 'INC-' || lpad(t.id::text, 6, '0'), 'ticket:' || t.id,
               'queue', 'all', 'Ticket queue', 'queue:all',
               a.display_name || ' replied on INC-' || lpad(t.id::text, 6, '0'),
               jsonb_build_object('actor_username', a.username, 'ticket', t.id),
               now() - make_interval(secs => (%(total)s - g))
        FROM generate_series(%(start)s, %(stop)s) g
        JOIN tickets_ticket t ON t.id = 1 + ((g::bigint * 48271) %% %(tickets)s)
        JOIN accounts_user a ON a.id = (SELECT min(id) FROM accounts_user) + ((g::bigint * 16807) %% %(users)s)
        RETURNING id, object_key, data->>'actor_username' AS actor
    ), audience AS (
        INSERT INTO feeds_activityaudience (activity_id, user_id, "group")
        SELECT id, NULL, 'signed_in' FROM made
    )
    INSERT INTO feeds_timelineentry (user_id, activity_id, context)
    SELECT f.user_id, m.id, 'tickets' FROM made m
      JOIN feeds_follow f ON f.target_type = 'ticket' AND f.target_key = m.object_key
    UNION
    SELECT f.user_id, m.id, 'tickets' FROM made m
      JOIN feeds_follow f ON f.target_type = 'user' AND f.target_key = m.actor
    ON CONFLICT DO NOTHING
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--fresh", action="store_true", help="drop the generated activities and follows first")
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    if args.fresh:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE feeds_activity, feeds_timelineentry, feeds_activityaudience, feeds_activitytag CASCADE")
            cursor.execute("DELETE FROM feeds_follow WHERE reason = 'manual'")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM accounts_user")
        users = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feeds_activity")
        have = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feeds_follow WHERE target_type = 'user'")
        followed_people = cursor.fetchone()[0]
    if tickets == 0:
        sys.exit("Run bench/tickets_dataset.py first.")
    started = time.perf_counter()
    params = {"tickets": tickets, "users": users}
    if followed_people == 0:
        for label, sql in STEPS:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
            print(f"{label}: done", file=sys.stderr, flush=True)
    for start in range(have + 1, args.activities + 1, args.batch):
        stop = min(args.activities, start + args.batch - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ACTIVITY_BATCH, {**params, "start": start, "stop": stop, "total": args.activities})
        progress(stop, args.activities, "activities")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # as autovacuum would; it may be off
        cursor.execute("SELECT count(*) FROM feeds_timelineentry")
        entries = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feeds_follow")
        follows = cursor.fetchone()[0]
    print(f"ready in {time.perf_counter() - started:.0f}s: {args.activities} activities, {follows} follows, {entries} feed entries")


if __name__ == "__main__":
    main()
