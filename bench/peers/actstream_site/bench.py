"""Load django-activity-stream with the product's data shape and time `user_stream(user)` pages.

Run by bench/peers/run_peers.py with the peer virtual environment's Python. Shape (per person, as in
bench/feeds_dataset.py): 40 followed tickets and 5 communities (actor_only=False), 5 followed
people (actor_only=True); actions: random actor, verb, a random ticket or community as target
and action object, timestamps over 180 days. A page = list(user_stream(user)[0:50]) touching
.actor, .target and .action_object of each item; 200 sampled people after 20 warm-up calls
(/work/shared/peers/README.md).
"""
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.actstream_site.settings")

import django  # noqa: E402

django.setup()

from actstream.models import Action, Follow, user_stream  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.peers.actstream_site.peerapp.models import Community, Ticket  # noqa: E402

User = get_user_model()
VERBS = ["commented on", "updated", "resolved", "posted in", "liked"]


def load(users: int, tickets: int, communities: int, actions: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE actstream_action, actstream_follow, peerapp_ticket, peerapp_community, auth_user CASCADE")
    User.objects.bulk_create([User(username=f"u{i:06d}", password="!") for i in range(users)], batch_size=5000)
    Ticket.objects.bulk_create([Ticket(title=f"Ticket {i}") for i in range(tickets)], batch_size=5000)
    Community.objects.bulk_create([Community(name=f"Community {i}") for i in range(communities)])
    uids = list(User.objects.values_list("pk", flat=True))
    tids = list(Ticket.objects.values_list("pk", flat=True))
    cids = list(Community.objects.values_list("pk", flat=True))
    ct_user, ct_ticket, ct_comm = (ContentType.objects.get_for_model(m) for m in (User, Ticket, Community))
    now = timezone.now()
    follows = []
    for uid in uids[:-1]:  # the last person stays free for the sparse case
        for t in rng.sample(tids, 40):
            follows.append(Follow(user_id=uid, content_type=ct_ticket, object_id=str(t), actor_only=False, started=now))
        for c in rng.sample(cids, 5):
            follows.append(Follow(user_id=uid, content_type=ct_comm, object_id=str(c), actor_only=False, started=now))
        for p in rng.sample(uids, 5):
            follows.append(Follow(user_id=uid, content_type=ct_user, object_id=str(p), actor_only=True, started=now))
        if len(follows) >= 20000:
            Follow.objects.bulk_create(follows, ignore_conflicts=True)
            follows = []
    Follow.objects.bulk_create(follows, ignore_conflicts=True)
    batch = []
    for i in range(actions):
        if rng.random() < 0.8:
            target_ct, target_id = ct_ticket, rng.choice(tids)
        else:
            target_ct, target_id = ct_comm, rng.choice(cids)
        batch.append(Action(
            actor_content_type=ct_user, actor_object_id=str(rng.choice(uids)), verb=rng.choice(VERBS),
            target_content_type=target_ct, target_object_id=str(target_id),
            action_object_content_type=target_ct, action_object_object_id=str(target_id),
            timestamp=now - timedelta(seconds=rng.randint(0, 180 * 86400)), public=True,
        ))
        if len(batch) == 10000:
            Action.objects.bulk_create(batch)
            batch = []
    Action.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def pct(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def page(user):
    items = list(user_stream(user)[0:50])
    for item in items:
        item.actor, item.target, item.action_object  # noqa: B018 - touching is the point
    return items


def measure(people, label, warmup=20):
    for person in people[:warmup]:
        page(person)
    samples = []
    for person in people:
        start = time.perf_counter()
        page(person)
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        page(people[0])
    return {"name": label, "config": "defaults", "p50": pct(samples, 50), "p99": pct(samples, 99),
            "mean": statistics.fmean(samples), "queries": len(ctx.captured_queries), "n": len(samples)}


def main():
    users, tickets, communities, actions = (int(x) for x in sys.argv[1:5])
    if not _migrated() or User.objects.count() != users or Action.objects.count() != actions:
        load(users, tickets, communities, actions)
    rng = random.Random(3)
    everyone = list(User.objects.order_by("pk"))
    dense = rng.sample(everyone[:-1], min(200, len(everyone) - 1))
    # Sparse: one person who follows one quiet ticket (the oldest action's target).
    sparse = everyone[-1]
    quiet = Action.objects.filter(target_content_type=ContentType.objects.get_for_model(Ticket)).order_by("timestamp").first()
    Follow.objects.filter(user=sparse).delete()
    Follow.objects.create(user=sparse, content_type=quiet.target_content_type, object_id=quiet.target_object_id, actor_only=False)
    rows = [measure(dense, "actstream page 1 dense"), measure([sparse] * 20, "actstream page 1 sparse", warmup=2)]
    start = time.perf_counter()
    user_stream(dense[0]).count()
    rows.append({"name": "actstream count()", "config": "defaults", "p50": (time.perf_counter() - start) * 1000,
                 "p99": (time.perf_counter() - start) * 1000, "queries": 1})
    print(json.dumps({"rows": rows, "shape": f"actstream: {users:,} people, {tickets:,} tickets, {communities} communities, "
                      f"{Follow.objects.count():,} follows, {actions:,} actions"}))


def _migrated():
    return "actstream_action" in connection.introspection.table_names()


if __name__ == "__main__":
    main()
