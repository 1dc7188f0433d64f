"""Manager dashboard benchmark: 100,000 tickets over a year, the whole dashboard for random date
ranges and teams, read from the daily rollups.

    .venv/bin/python bench/dashboard.py                              # builds once, then times
    .venv/bin/python bench/dashboard.py --tickets 100000 --repeat 200

Uses its own database (servicedesk_bench_d, created if missing, then reused when it already holds
the tickets asked for). The dataset: 10 teams, 5,000 people, tickets spread over 365 days (70 %
resolved, a third of those rated, 5 % reopened, 5 % late), suggestions opened and logged anyway,
posts, likes, questions and answers. Then:
- the full rollup rebuild (every day of the year) and the periodic refresh of the last 3 days;
- `dashboard.figures` for a random range (7 to 365 days, ending on a random day) and a random team
  (one time in three: all teams), with its query count;
- GET /manage/ through the Django stack (session, middleware, template) for the same selections,
  which is the budget: p50 <= 30 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench_d")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CHANNEL_PREFIX", "benchd")

from bench.common import ensure_database, progress, queries_for, report, setup_django, timed  # noqa: E402

DAYS = 365


def build(tickets: int, people: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Role, Team, User
    from communities.models import Answer, Community, Question
    from feeds.models import Like, Post
    from tickets.models import Deflection, Rating, Ticket

    call_command("migrate", verbosity=0)
    if Ticket.objects.count() >= tickets:
        return
    rng = random.Random(seed)
    teams = [Team.objects.get_or_create(slug=f"dteam-{i}", defaults={"name": f"Team {i}"})[0] for i in range(10)]
    User.objects.bulk_create(
        [User(username=f"dagent{i:03d}", display_name=f"Agent {i}", role=Role.AGENT, team=teams[i % 10], password="!")
         for i in range(50)] +
        [User(username=f"dperson{i:05d}", display_name=f"Person {i}", team=teams[i % 10] if i % 4 else None, password="!")
         for i in range(people)], ignore_conflicts=True, batch_size=2000)
    User.objects.get_or_create(username="dmanager", defaults={"role": Role.MANAGER, "display_name": "Manager", "password": "!"})
    agents = list(User.objects.filter(username__startswith="dagent").values_list("pk", flat=True))
    persons = list(User.objects.filter(username__startswith="dperson").values_list("pk", flat=True))
    chunk = 5000
    for start in range(0, tickets, chunk):
        with transaction.atomic():
            rows = [Ticket(kind="incident", title=f"Bench ticket {i}", requester_id=rng.choice(persons),
                           assignee_id=rng.choice(agents), team=rng.choice(teams), impact=2, urgency=2, priority=3,
                           status="resolved" if rng.random() < 0.7 else "in_progress",
                           resolution_count=2 if rng.random() < 0.05 else 1)
                    for i in range(start, min(tickets, start + chunk))]
            Ticket.objects.bulk_create(rows)
        progress(min(tickets, start + chunk), tickets, "tickets")
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [seed / 1000])
        # Spread over the year; responses within hours, resolutions within days.
        cur.execute(f"""UPDATE tickets_ticket SET created_at = now() - random() * interval '{DAYS} days'""")
        cur.execute("""UPDATE tickets_ticket SET first_response_at = created_at + random() * interval '8 hours',
                              response_breached_at = CASE WHEN random() < 0.05 THEN created_at + interval '4 hours' END""")
        cur.execute("""UPDATE tickets_ticket SET resolved_at = LEAST(now(), first_response_at + random() * interval '3 days'),
                              resolution_breached_at = CASE WHEN random() < 0.05 THEN created_at + interval '1 day' END
                       WHERE status = 'resolved'""")
    resolved = list(Ticket.objects.filter(status="resolved").values_list("pk", "requester_id", "resolved_at"))
    Rating.objects.bulk_create([Rating(ticket_id=pk, rater_id=req, score=rng.randint(1, 5), resolution_round=1)
                                for pk, req, _ in resolved if rng.random() < 0.33], batch_size=5000)
    Deflection.objects.bulk_create(
        [Deflection(user_id=rng.choice(persons), query=f"query {i % 500}", outcome="opened", suggestion_type="article",
                    suggestion_key=str(i % 200)) for i in range(20_000)] +
        [Deflection(user_id=rng.choice(persons), query=f"query {i % 500}", outcome="logged") for i in range(5_000)],
        batch_size=5000)
    community, _ = Community.objects.get_or_create(slug="bench", defaults={"name": "Bench", "created_by_id": agents[0]})
    posts = Post.objects.bulk_create([Post(author_id=rng.choice(persons), wall_type="user", wall_key="bench",
                                           body="hello", body_html="<p>hello</p>") for _ in range(30_000)], batch_size=5000)
    Like.objects.bulk_create([Like(post=rng.choice(posts), user_id=rng.choice(persons)) for _ in range(60_000)],
                             ignore_conflicts=True, batch_size=5000)
    questions = Question.objects.bulk_create([Question(community=community, author_id=rng.choice(persons), title=f"Q{i}")
                                              for i in range(5_000)], batch_size=5000)
    Answer.objects.bulk_create([Answer(question=rng.choice(questions), author_id=rng.choice(persons + agents),
                                       body="answer", body_html="<p>answer</p>") for _ in range(10_000)], batch_size=5000)
    with connection.cursor() as cur:
        for table in ("tickets_rating", "tickets_deflection", "feeds_post", "feeds_like", "communities_question"):
            cur.execute(f"UPDATE {table} SET created_at = now() - random() * interval '{DAYS} days'")
        cur.execute("""UPDATE tickets_rating r SET created_at = t.resolved_at + interval '1 hour'
                       FROM tickets_ticket t WHERE t.id = r.ticket_id""")
        cur.execute("""UPDATE communities_answer a SET created_at = q.created_at + random() * interval '2 days'
                       FROM communities_question q WHERE q.id = a.question_id""")
        cur.execute("VACUUM (ANALYZE)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--reuse-rollups", action="store_true", help="Time the page on the rollups already built.")
    args = parser.parse_args()

    ensure_database()
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Team, User
    from gamification import dashboard, rollups

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    build(args.tickets, args.people, args.seed)

    from gamification.models import DailyTeamStat

    today = timezone.localdate()
    if not (args.reuse_rollups and DailyTeamStat.objects.exists()):
        started = time.perf_counter()
        first = today - timedelta(days=DAYS)
        while first <= today:
            last = min(first + timedelta(days=30), today)
            rollups.rollups_refresh(first=first, last=last)
            first = last + timedelta(days=1)
        print(f"rollup rebuild ({DAYS + 1} days)                    {(time.perf_counter() - started):.1f}s")
        report("rollup refresh, last 3 days (periodic task)", timed(rollups.rollups_refresh_recent, 5))

    rng = random.Random(args.seed)
    teams = list(Team.objects.filter(slug__startswith="dteam").values_list("pk", flat=True))

    def selection_params() -> dict:
        days = rng.randint(7, DAYS)
        last = today - timedelta(days=rng.randint(0, DAYS - days))
        params = {"from": (last - timedelta(days=days - 1)).isoformat(), "to": last.isoformat()}
        if rng.random() > 1 / 3:
            params["team"] = str(rng.choice(teams))
        return params

    def figures_once():
        dashboard.figures(dashboard.selection_parse(selection_params()))

    figures_once()
    report("dashboard.figures, random range and team", timed(figures_once, args.repeat), queries_for(figures_once))

    client = Client()
    client.force_login(User.objects.get(username="dmanager"))

    def page_once():
        response = client.get("/manage/", selection_params())
        assert response.status_code == 200, response.status_code

    page_once()
    samples = timed(page_once, args.repeat)
    report("GET /manage/, random range and team", samples, queries_for(page_once))
    p50 = sorted(samples)[len(samples) // 2]
    print(f"budget: p50 <= 30 ms at {args.tickets} tickets: {'met' if p50 <= 30 else 'MISSED'} ({p50:.1f} ms, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
