"""Demo communities for `seed_demo`: an open one with a solved question turned into knowledge, and a
private one with a moderator. Idempotent: nothing is added once a community exists."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User

from . import services
from .models import Community


def seed() -> bool:
    if Community.objects.exists():
        return False
    people = {u.username: u for u in User.objects.filter(username__in=["alice", "erin", "bob", "carol"])}
    if len(people) < 4:
        return False
    alice, erin, bob, carol = people["alice"], people["erin"], people["bob"], people["carol"]
    from tickets.models import Service

    remote = services.community_create(actor=bob, name="Remote work", slug="remote-work",
                                       description="Working from home: VPN, Wi-Fi, headsets and video calls.")
    vpn = Service.objects.filter(name="VPN").first()
    if vpn is not None:
        services.community_services_set(actor=bob, community=remote, services=[vpn])
    for person in (alice, erin, carol):
        services.community_join(actor=person, community=remote)
    question = services.question_ask(actor=erin, community=remote, title="Headset microphone too quiet in video calls",
                                     body="Colleagues say they can barely hear me.")
    answer = services.answer_post(actor=bob, question=question,
                                  body="Open *Sound settings → Input*, choose the headset and raise the input level to 80%.")
    services.answer_vote(actor=alice, answer=answer, value=1)
    services.answer_accept(actor=erin, answer=answer)
    services.answer_promote(actor=erin, answer=answer)
    services.question_ask(actor=alice, community=remote, title="Can I use my own router at home?")
    services.idea_create(actor=alice, community=remote, title="A loan pool of headsets",
                         body="For new starters before their own arrives.")
    services.poll_create(actor=bob, community=remote, question="Which video tool do you prefer?",
                         options=["Teams", "Zoom", "Meet"], closes_at=timezone.now() + timedelta(days=14))
    leads = services.community_create(actor=carol, name="Team leads", slug="team-leads", visibility="private",
                                      description="Managers sharing how they run their teams' IT.")
    services.community_join(actor=bob, community=leads)
    services.bridge_propose(actor=carol, source=leads, target=remote)
    return True
