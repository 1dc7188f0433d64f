"""Event spine benchmark: publish cost, resume cost and live push latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_bench .venv/bin/python bench/spine.py --users 2000 --activities 200000

Builds its own dataset in the database named by DATABASE_URL (created if missing, then reused;
`--fresh` empties it first). Figures are server-side, from this process.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")

from bench.common import count_queries, ensure_database, progress, report, setup_django, timed  # noqa: E402



def build(users: int, activities: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import User
    from feeds.models import Activity, ActivityAudience

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    have_users = User.objects.filter(username__startswith="bench").count()
    batch = []
    for i in range(have_users, users):
        batch.append(User(username=f"bench{i:06d}", display_name=f"Bench {i}", password="!"))
        if len(batch) == 2000 or i == users - 1:
            User.objects.bulk_create(batch)
            batch = []
            progress(i + 1, users, "users")
    ids = list(User.objects.filter(username__startswith="bench").values_list("pk", flat=True))
    have = Activity.objects.count()
    chunk = 5000
    for start in range(have, activities, chunk):
        n = min(chunk, activities - start)
        with transaction.atomic():
            rows = Activity.objects.bulk_create(
                [
                    Activity(verb="commented", object_type="ticket", object_key=str(rng.randint(1, 100_000)),
                             stream="", summary="bench")
                    for _ in range(n)
                ]
            )
            audience = []
            for row in rows:
                row.stream = f"ticket:{row.object_key}"
                if rng.random() < 0.3:
                    audience.append(ActivityAudience(activity=row, group="signed_in"))
                else:
                    audience.extend(ActivityAudience(activity=row, user_id=uid) for uid in rng.sample(ids, 3))
            Activity.objects.bulk_update(rows, ["stream"])
            ActivityAudience.objects.bulk_create(audience)
        progress(start + n, activities, "activities")


def run(repeat: int) -> None:
    from accounts.models import User
    from feeds import selectors, services
    from feeds.audience import Audience
    from feeds.models import Activity
    from feeds.services import NotificationSpec, ObjectRef

    users = list(User.objects.filter(username__startswith="bench").order_by("?")[:200])
    last = Activity.objects.order_by("-pk").values_list("pk", flat=True).first()
    people = itertools.cycle(users)

    def publish():
        person = next(people)
        services.activity_publish(
            actor=None, verb="bench", obj=ObjectRef("ticket", "1", "Bench"), audience=Audience.of(users=[person.pk]),
            notify=[person], notification=NotificationSpec(kind="bench", text="bench"),
        )

    with count_queries() as q:
        publish()
    report("publish (activity + audience + notification)", timed(publish, repeat), len(q.captured_queries))

    def resume():
        person = next(people)
        selectors.activities_since(user=person, since=last - 5000, streams=frozenset({"ticket:42", "ticket:43"}))

    with count_queries() as q:
        resume()
    report("resume (last 5,000 ids, 2 streams)", timed(resume, repeat), len(q.captured_queries))

    def unread():
        selectors.notifications_unread_count(next(people))

    report("unread count", timed(unread, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="drop the dataset first")
    args = parser.parse_args()
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_database()
    setup_django()
    if args.fresh:
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    build(args.users, args.activities, args.seed)
    print(f"dataset ready in {time.perf_counter() - started:.1f}s: {args.users} users, {args.activities} activities")
    run(args.repeat)


if __name__ == "__main__":
    main()
