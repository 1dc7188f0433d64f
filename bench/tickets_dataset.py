"""Deterministic ticket dataset for the queue benchmarks.

    .venv/bin/python bench/tickets_dataset.py --tickets 100000      # database servicedesk_bench

Rows are bulk-inserted (services would take most of an hour for 100,000 tickets); what they
contain is what the services would have written: requester followers, change rows, comments
with internal notes, SLA due times, the search vector.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")

from bench.common import ensure_database, progress, setup_django  # noqa: E402

WORDS = (
    "vpn printer outlook mailbox laptop screen password reset teams wifi network slow crash error login "
    "payroll invoice excel sharepoint badge phone headset license install update disk backup folder access "
    "calendar meeting room projector keyboard mouse docking station battery certificate browser timeout"
).split()


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """Pronounceable filler words, so that a real word matches a realistic share of tickets."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build(tickets: int, users: int, agents: int, seed: int) -> None:
    from django.contrib.postgres.search import SearchVector
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, Team, User
    from feeds.models import Follow
    from tickets.models import Comment, Service, Ticket, TicketChange
    from tickets.services import priority_from

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    filler = vocabulary(rng)
    teams = [Team.objects.get_or_create(slug=f"team-{i}", defaults={"name": f"Team {i}"})[0] for i in range(5)]
    services = [
        Service.objects.get_or_create(slug=f"service-{i}", defaults={"name": f"Service {i}", "owner_team": teams[i % 5]})[0]
        for i in range(12)
    ]
    if User.objects.filter(username__startswith="qagent").count() < agents:
        User.objects.bulk_create(
            [User(username=f"qagent{i:04d}", display_name=f"Agent {i}", role=Role.AGENT, team=teams[i % 5], password="!")
             for i in range(agents)],
            ignore_conflicts=True,
        )
    if User.objects.filter(username__startswith="quser").count() < users:
        for start in range(0, users, 2000):
            User.objects.bulk_create(
                [User(username=f"quser{i:06d}", display_name=f"User {i}", password="!") for i in range(start, min(users, start + 2000))],
                ignore_conflicts=True,
            )
    agent_ids = list(User.objects.filter(username__startswith="qagent").order_by("pk").values_list("pk", flat=True))
    user_ids = list(User.objects.filter(username__startswith="quser").order_by("pk").values_list("pk", flat=True))

    have = Ticket.objects.count()
    now = timezone.now()
    chunk = 2000
    for start in range(have, tickets, chunk):
        n = min(chunk, tickets - start)
        with transaction.atomic():
            rows = []
            for i in range(start, start + n):
                impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
                created = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60) * (tickets - i) / tickets)
                status = rng.choices(["new", "in_progress", "pending", "resolved", "closed"], [8, 12, 5, 15, 60])[0]
                title = " ".join([rng.choice(WORDS)] + [rng.choice(filler) for _ in range(rng.randint(2, 5))]).capitalize()
                priority = priority_from(impact, urgency)
                rows.append(Ticket(
                    kind=rng.choices(["incident", "request", "problem"], [70, 28, 2])[0],
                    title=title, description=f"{title}. " + " ".join(
                        rng.choice(WORDS) if rng.random() < 0.05 else rng.choice(filler) for _ in range(40)),
                    requester_id=rng.choice(user_ids), assignee_id=rng.choice(agent_ids) if rng.random() < 0.7 else None,
                    team=rng.choice(teams), service=rng.choice(services), impact=impact, urgency=urgency,
                    priority=priority, status=status, visibility="public" if rng.random() < 0.2 else "private",
                    response_due_at=created + timedelta(hours=priority), resolution_due_at=created + timedelta(hours=8 * priority),
                    resolution_breached_at=created + timedelta(hours=8 * priority) if rng.random() < 0.05 else None,
                ))
            created_rows = Ticket.objects.bulk_create(rows)
            Follow.objects.bulk_create(
                [Follow(user_id=t.requester_id, target_type="ticket", target_key=str(t.pk), target_id=t.pk, reason="requester")
                 for t in created_rows],
                ignore_conflicts=True,
            )
            TicketChange.objects.bulk_create([TicketChange(ticket=t, field="status", old="", new="new") for t in created_rows])
            comments = []
            for t in created_rows:
                for c in range(rng.choice([0, 1, 2, 3, 5, 8])):
                    body = " ".join(rng.choice(filler) for _ in range(25))
                    internal = rng.random() < 0.25
                    author = rng.choice(agent_ids) if internal or c % 2 else t.requester_id
                    comments.append(Comment(ticket=t, author_id=author, body=body, body_html=f"<p>{body}</p>", internal=internal))
            Comment.objects.bulk_create(comments)
        progress(start + n, tickets, "tickets")
    if connection.vendor == "postgresql":
        Ticket.objects.filter(search_vector__isnull=True).update(
            search_vector=SearchVector("title", weight="A", config="english") + SearchVector("description", weight="B", config="english")
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")  # as autovacuum would; it may be off


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--fresh", action="store_true", help="delete the generated tickets and people first")
    args = parser.parse_args()
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_database()
    setup_django()
    if args.fresh:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE tickets_ticket, tickets_comment, feeds_follow, tickets_ticketchange, tickets_attachment, "
                "tickets_metoo, tickets_rating, tickets_deflection RESTART IDENTITY CASCADE"
            )
    build(args.tickets, args.users, args.agents, args.seed)
    from tickets.models import Ticket

    print(f"{Ticket.objects.count()} tickets ready")


if __name__ == "__main__":
    main()
