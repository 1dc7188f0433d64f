"""Demo activity for `seed_demo`, so a fresh install has points, badges, a running campaign and a
bounty to show. Everything goes through the real services, so the ledger, the leaderboards and
the manager dashboard are built exactly as they would be by people using the desk.

Idempotent: nothing is added once a campaign exists, and each step also checks its own result.
"""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User

from . import services
from .models import Bounty, Campaign

ARTICLE_TITLE = "VPN drops every few minutes: what to check first"


def seed() -> bool:
    if Campaign.objects.exists():
        return False
    people = {u.username: u for u in User.objects.filter(username__in=["alice", "erin", "bob", "carol"])}
    if len(people) < 4:
        return False
    alice, erin, bob, carol = people["alice"], people["erin"], people["bob"], people["carol"]
    from communities import services as communities
    from communities.models import Article, Community, Question
    from tickets import services as tickets
    from tickets.models import Kind, Ticket

    now = timezone.now()
    remote = Community.objects.filter(slug="remote-work").first()
    services.campaign_create(
        actor=carol, name="Knowledge week", rule=services.rule_get("article_published"), multiplier=2,
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=6), goal=3, bonus_points=25,
        description="Double points for every knowledge article this week; publish three for a bonus.",
    )
    if not Article.objects.filter(title=ARTICLE_TITLE).exists():
        communities.article_create(
            actor=bob, title=ARTICLE_TITLE, community=remote,
            body="1. Restart the VPN client.\n2. Check the Wi-Fi signal.\n3. If it still drops, log a ticket: "
                 "the concentrator may be overloaded. #vpn",
        )

    printer = Ticket.objects.filter(kind=Kind.INCIDENT, title="Cannot print to the 3rd floor printer", requester=alice).first()
    if printer is not None and printer.is_open:
        tickets.ticket_update(actor=bob, ticket=printer, assignee=bob, status="in_progress")
        services.desk_visit_log(actor=bob, ticket=printer, note="Cleared the stuck job at the printer")
        tickets.comment_add(actor=bob, ticket=printer, body="A stuck job blocked the queue; cleared it. Try again?")
        tickets.ticket_update(actor=bob, ticket=printer, status="resolved")
        printer.refresh_from_db()
        tickets.rating_create(actor=alice, ticket=printer, score=5, comment="Printing again within minutes, thank you!")

    router = Question.objects.filter(title="Can I use my own router at home?", accepted_answer__isnull=True).first()
    if router is not None:
        answer = communities.answer_post(
            actor=erin, question=router,
            body="Yes: the VPN works through any router. Keep its firmware up to date and use WPA2 or better.",
        )
        communities.answer_vote(actor=carol, answer=answer, value=1)
        communities.answer_accept(actor=alice, answer=answer)

    problem = Ticket.objects.filter(kind=Kind.PROBLEM, title="VPN concentrator overloaded after update").first()
    if problem is not None and problem.is_open and not Bounty.objects.filter(ticket=problem).exists():
        services.bounty_set(actor=carol, ticket=problem, points=100, note="Find the root cause, not just a restart.")
    return True
