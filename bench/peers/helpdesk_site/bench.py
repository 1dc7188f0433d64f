"""Load django-helpdesk 2.6.1 with the product's ticket shape and time the agent views in-process.

Run by bench/peers/run_peers.py with the peer virtual environment's Python, once at library
defaults and once with HELPDESK_BEST=1 (owner lists restricted to staff). Shape as in
/work/shared/peers/README.md, scaled to the product's dataset: staff agents, end users,
10 queues, tickets (40 % open/reopened, 10 % unassigned), about 3 follow-ups per ticket.
Requests go through the whole Django stack with django.test.Client as a signed-in agent.
"""
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.helpdesk_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket, UserSettings  # noqa: E402

User = get_user_model()


def load(agents: int, users: int, tickets: int, seed: int = 9) -> None:
    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE helpdesk_followup, helpdesk_ticket, helpdesk_queue, helpdesk_usersettings, auth_user CASCADE")
    User.objects.bulk_create([User(username=f"agent{i:04d}", password="!", is_staff=True, email=f"agent{i}@example.test")
                              for i in range(agents)])
    User.objects.bulk_create([User(username=f"user{i:06d}", password="!", email=f"user{i}@example.test")
                              for i in range(users)], batch_size=5000)
    # What helpdesk's post_save signal would have created for each person.
    UserSettings.objects.bulk_create([UserSettings(user=u) for u in User.objects.all()], batch_size=5000)
    Queue.objects.bulk_create([Queue(title=f"Queue {i}", slug=f"q{i}") for i in range(10)])
    queues = list(Queue.objects.all())
    staff = list(User.objects.filter(is_staff=True).values_list("pk", flat=True))
    now = timezone.now()
    for start in range(0, tickets, 5000):
        rows = []
        for i in range(start, min(tickets, start + 5000)):
            created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            status = rng.choices([1, 2, 3, 4], [35, 5, 20, 40])[0]
            rows.append(Ticket(
                title=f"Ticket {i} vpn printer", queue=rng.choice(queues), created=created, modified=created,
                submitter_email=f"user{rng.randrange(users)}@example.test",
                assigned_to_id=None if rng.random() < 0.1 else rng.choice(staff),
                status=status, description="Something is broken " * 10, priority=rng.randint(1, 5),
            ))
        made = Ticket.objects.bulk_create(rows)
        FollowUp.objects.bulk_create([
            FollowUp(ticket=t, date=t.created + timedelta(hours=k), title="Comment", comment="Looking into it " * 8,
                     public=True, user_id=rng.choice(staff))
            for t in made for k in range(3)
        ], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def pct(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    agents, users, tickets, repeat = (int(x) for x in sys.argv[1:5])
    config = "best" if os.environ.get("HELPDESK_BEST") == "1" else "defaults"
    migrated = "helpdesk_ticket" in connection.introspection.table_names()
    if (not migrated or Ticket.objects.count() != tickets or User.objects.filter(is_staff=True).count() != agents
            or UserSettings.objects.count() != User.objects.count()):
        load(agents, users, tickets)
    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(5)
    agent = User.objects.filter(is_staff=True).order_by("pk").first()
    client = Client()
    client.force_login(agent)
    listing = client.get("/helpdesk/tickets/")
    assert listing.status_code == 200, listing.status_code
    json_url = re.search(rb'"url": "(/helpdesk/datatables_ticket_list/[^"]+)"', listing.content).group(1).decode()
    ids = list(Ticket.objects.values_list("pk", flat=True))
    cases = [
        ("helpdesk ticket list page", lambda: "/helpdesk/tickets/"),
        ("helpdesk ticket list JSON (25 rows)", lambda: json_url + "?draw=1&start=0&length=25"),
        ("helpdesk ticket page", lambda: f"/helpdesk/tickets/{rng.choice(ids)}/"),
        ("helpdesk dashboard", lambda: "/helpdesk/dashboard/"),
    ]
    rows = []
    for name, path in cases:
        # Counted on the first request of each view (counting after warm-up requests came back empty).
        with CaptureQueriesContext(connection) as ctx:
            client.get(path())
        for _ in range(3):
            assert client.get(path()).status_code == 200, name
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path())
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        rows.append({"name": name, "config": config, "p50": pct(samples, 50), "p99": pct(samples, 99),
                     "mean": statistics.fmean(samples), "queries": len(ctx.captured_queries), "n": repeat})
    # What an agent waits for before seeing rows: the list page and its JSON call.
    rows.append({"name": "helpdesk ticket list page + JSON", "config": config, "p50": rows[0]["p50"] + rows[1]["p50"],
                 "p99": rows[0]["p99"] + rows[1]["p99"], "queries": rows[0]["queries"] + rows[1]["queries"]})
    print(json.dumps({"rows": rows, "shape": f"helpdesk: {agents} staff agents, {users:,} end users, 10 queues, "
                      f"{tickets:,} tickets, {FollowUp.objects.count():,} follow-ups"}))


if __name__ == "__main__":
    main()
