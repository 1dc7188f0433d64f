"""Feed benchmark: first page of the personal feed for 200 people, dense and sparse, and the
fan-out of one post to 10,000 followers. Run it on datasets S and M (bench/feeds_dataset.py):
the figures should not grow from S to M.

    .venv/bin/python bench/feed.py                                              # M
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_bench_s .venv/bin/python bench/feed.py
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")

from bench.common import queries_for, report, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import transaction
    from django.test import Client

    from accounts.models import User
    from accounts.services import api_token_create
    from feeds import fanout, services
    from feeds.models import Activity, Follow, TimelineEntry
    from tickets.models import Service

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(args.seed)
    print(f"{Activity.objects.count()} activities, {Follow.objects.count()} follows, "
          f"{TimelineEntry.objects.count()} feed entries, {User.objects.count()} people")

    dense = list(User.objects.filter(username__startswith="quser").order_by("pk").values_list("pk", flat=True))
    dense = [User.objects.get(pk=pk) for pk in rng.sample(dense, min(args.people, len(dense)))]
    # Sparse: people who follow one quiet ticket and nothing else.
    sparse = []
    quiet = Activity.objects.order_by("pk").values_list("object_key", flat=True).first()
    for i in range(min(args.people, 50)):
        person, _ = User.objects.get_or_create(username=f"sparse{i:03d}", defaults={"display_name": f"Sparse {i}"})
        if not Follow.objects.filter(user=person).exists():
            services.follow_write(user=person, target_type="ticket", target_key=quiet, target_id=int(quiet))
            services.timeline_backfill(user_id=person.pk, target_type="ticket", target_key=quiet)
        sparse.append(person)

    def run(people, label):
        samples, queries = [], None
        for person in people:
            _, key = api_token_create(user=person)
            client = Client(HTTP_AUTHORIZATION=f"Token {key}")
            client.get("/api/v1/feed/")  # warm the connection, not the data
            if queries is None:
                queries = queries_for(lambda: client.get("/api/v1/feed/"))
            start = time.perf_counter()
            response = client.get("/api/v1/feed/")
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        report(label, samples, queries)

    run(dense, "GET /api/v1/feed/ first page, dense")
    run(sparse, "GET /api/v1/feed/ first page, sparse")

    service = Service.objects.filter(slug="service-0").first()
    author = User.objects.filter(username__startswith="qagent").first()
    followers = Follow.objects.filter(target_type="service", target_key=str(service.pk)).count()
    # Tasks run in-process here (eager), so the fan-out happens as the post's transaction commits.
    start = time.perf_counter()
    with transaction.atomic():
        post = services.post_create(actor=author, wall_type="service", wall_key=service.pk, body="Maintenance tonight #vpn")
        created = time.perf_counter()
    done = time.perf_counter()
    written = TimelineEntry.objects.filter(activity=post.activity).count()
    print(f"post to a service with {followers} followers: write {(created - start) * 1000:.0f} ms, "
          f"fan-out {(done - created) * 1000:.0f} ms ({written} feed entries, chunks of {fanout.CHUNK})")


if __name__ == "__main__":
    main()
