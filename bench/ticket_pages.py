"""Agent queue and ticket page benchmark, server-side, on the dataset of tickets_dataset.py.

    .venv/bin/python bench/ticket_pages.py --repeat 200

Requests go through Django's full stack in-process (middleware, session, template rendering),
signed in as an agent; time and SQL queries are measured per request.
"""
from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")

from bench.common import queries_for, report, setup_django, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this, e.g. 'ticket page'")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from tickets.models import Comment, Team, Ticket

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(args.seed)
    total = Ticket.objects.count()
    agent = User.objects.filter(username__startswith="qagent").order_by("pk").first()
    if agent is None or total == 0:
        sys.exit("No dataset: run bench/tickets_dataset.py first.")
    client = Client()
    client.force_login(agent)
    team = Team.objects.filter(slug="team-2").first()
    busy = list(
        Comment.objects.values_list("ticket_id", flat=True).order_by("-ticket_id").distinct()[:2000]
    )
    print(f"{total} tickets, agent {agent.username}")

    def page(path: str):
        def fetch():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return fetch

    cases = [
        # The queue's first page: the views with their capped counts, 50 rows by next SLA due.
        ("queue: first page, views + counts, by SLA due", lambda: "/queue/"),
        ("queue: rows + counts after a filter (htmx)", lambda: "/queue/table/?assignee=none"),
        ("queue: open tickets, newest", lambda: "/queue/?sort=-id"),
        ("queue: team filter, by due time", lambda: f"/queue/?team={team.pk}&sort=due"),
        ("queue: priority 1-2, breached", lambda: "/queue/?priority=1,2&breached=true"),
        ("queue: assigned to me", lambda: "/queue/?assignee=me"),
        ("queue: about to breach", lambda: "/queue/?sla=soon"),
        ("queue: page 20", lambda: "/queue/?page=20"),
        ("ticket page (agent, with comments)", lambda: f"/tickets/{rng.choice(busy)}/"),
        ("API: GET /api/v1/tickets/", lambda: "/api/v1/tickets/"),
        ("search: 'vpn printer'", lambda: "/search/?q=vpn+printer"),
    ]
    for name, path_fn in cases:
        if args.only and args.only not in name:
            continue
        path_fn_value = path_fn()
        page(path_fn_value)()  # warm up
        queries = queries_for(page(path_fn()))
        samples = timed(lambda: page(path_fn())(), args.repeat)
        report(name, samples, queries)


if __name__ == "__main__":
    main()
