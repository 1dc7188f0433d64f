"""Data-loss prevention scans every text people write, through the `text_written` hook, and warns
the author privately (the text stays as written); reviewers get the flag."""
from datetime import timedelta

import pytest
from django.utils import timezone

from feeds.models import Notification
from policies.models import DlpFlag
from servicedesk import hooks

pytestmark = pytest.mark.django_db

PHONE = "+44 20 7946 0958"


@pytest.fixture
def community(bob):
    from communities.services import community_create

    return community_create(actor=bob, name="Networking")


def own_warnings():
    return list(Notification.objects.filter(kind="policies.dlp_own").values_list("recipient__username", "text"))


def test_policies_subscribe_to_the_hook_every_writer_calls():
    from policies import services

    assert services.text_scan in hooks.text_written.handlers


def test_ticket_title_and_description_are_scanned_and_the_author_is_told_privately(alice, bob, dave):
    from tickets.services import ticket_create

    ticket = ticket_create(actor=alice, kind="request", title=f"Call me on {PHONE}", description="My mail is alice.home@example.net")
    flags = {(f.kind, f.field, f.object_id, f.findings[0]["kind"]) for f in DlpFlag.objects.all()}
    assert flags == {("tickets.ticket", "title", str(ticket.pk), "phone"), ("tickets.ticket", "description", str(ticket.pk), "email")}
    assert sorted(own_warnings()) == [
        ("alice", "What you wrote in your ticket's description may contain an e-mail address. It was posted as written; "
                  "edit it out if it should not be there."),
        ("alice", "What you wrote in your ticket's title may contain a phone number. It was posted as written; "
                  "edit it out if it should not be there."),
    ]
    assert ticket.title == f"Call me on {PHONE}", "warn, never block"
    assert set(Notification.objects.filter(kind="policies.dlp").values_list("recipient__username", flat=True)) == {"dave"}
    assert not Notification.objects.filter(kind="policies.dlp").filter(recipient__username="bob").exists()


def test_questions_answer_comments_ideas_and_polls_are_scanned(bob, erin, community):
    from communities.services import answer_comment_add, answer_post, community_join, idea_create, poll_create, question_ask

    community_join(actor=erin, community=community)
    question = question_ask(actor=erin, community=community, title="DNS for 10.0.0.53?", body="")
    answer = answer_post(actor=bob, question=question, body="Use the default resolver")
    answer_comment_add(actor=erin, answer=answer, body=f"Or call me on {PHONE}")
    idea_create(actor=erin, community=community, title="Shared calendar", body="Mail ideas to erin.home@example.net")
    poll_create(actor=erin, community=community, question="Which host for the wiki?", options=["srv-wiki-01", "The cloud"],
                closes_at=timezone.now() + timedelta(days=2))
    found = sorted((f.kind, f.field) for f in DlpFlag.objects.all())
    assert found == [("communities.answer_comment", "body"), ("communities.idea", "body"), ("communities.poll", "options"),
                     ("communities.question", "title")]
    urls = {f.kind: f.url for f in DlpFlag.objects.all()}
    assert urls["communities.question"] == question.get_absolute_url()
    assert urls["communities.answer_comment"] == f"{question.get_absolute_url()}#answer-{answer.pk}"
    assert {who for who, _ in own_warnings()} == {"erin"}
    assert len(own_warnings()) == 4


def test_clean_texts_raise_nothing_and_tell_nobody(alice, bob, community):
    from communities.services import idea_create
    from tickets.services import ticket_create

    ticket_create(actor=alice, kind="request", title="New keyboard", description="The space bar sticks")
    idea_create(actor=bob, community=community, title="Lunch and learn", body="Fridays at noon")
    assert not DlpFlag.objects.exists() and not own_warnings()


def test_a_deactivated_author_is_not_told_but_reviewers_still_are(alice, dave):
    from accounts.services import user_deactivate
    from policies.services import dlp_scan

    user_deactivate(actor=dave, user=alice)
    alice.refresh_from_db()
    dlp_scan(author=alice, kind="feeds.post", object_id=1, text=f"call {PHONE}")
    assert not own_warnings()
    assert Notification.objects.filter(kind="policies.dlp", recipient=dave).exists()
