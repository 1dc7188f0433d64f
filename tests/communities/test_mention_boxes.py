"""@mentions in every community text box: ideas and answer comments tell the people named who may
read the community, and every box where people write them offers the suggestions for that place."""
from __future__ import annotations

from html.parser import HTMLParser

from communities import services
from feeds.models import Notification

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Boxes(HTMLParser):
    """Each text box (a textarea, or an input that opts in) with the mention place of its holder."""

    def __init__(self):
        super().__init__()
        self.stack: list[str | None] = []
        self.boxes: list[tuple[str, str | None]] = []

    def place(self) -> str | None:
        return next((p for p in reversed(self.stack) if p), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        own = attrs.get("data-mention-place")
        if tag == "textarea" or (tag == "input" and "data-mention-box" in attrs):
            self.boxes.append((attrs.get("name") or "", own or self.place()))
        if tag not in VOID:
            self.stack.append(own)

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()


def boxes(response) -> dict[str, str | None]:
    assert response.status_code == 200
    parser = Boxes()
    parser.feed(response.content.decode())
    return dict(parser.boxes)


def test_an_idea_mentioning_people_tells_only_those_who_may_read(erin, alice, bob, private_community):
    services.invitation_decide(actor=alice, invitation_id=services.invitation_create(
        actor=erin, community=private_community, user=alice).pk, accept=True)
    idea = services.idea_create(actor=erin, community=private_community, title="Shared templates",
                                body="@alice and @bob, what do you think?")
    told = Notification.objects.filter(kind="community.mentioned")
    assert list(told.values_list("recipient__username", flat=True)) == ["alice"], "bob is not a member"
    assert told.get().url == idea.get_absolute_url()


def test_an_idea_mentioning_nobody_tells_nobody(erin, alice, open_community):
    services.idea_create(actor=erin, community=open_community, title="Shared templates", body="No names here, @erin aside")
    assert not Notification.objects.filter(kind="community.mentioned").exists()


def test_ideas_share_the_mention_cap(api_as, erin, open_community, make_user, settings):
    settings.MENTIONS_MAX = 2
    for name in ("u1", "u2", "u3"):
        make_user(name)
    response = api_as(erin).post("/api/v1/communities/excel/ideas/", {"title": "Too many", "body": "@u1 @u2 @u3"}, format="json")
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_an_answer_comment_mentioning_people_tells_only_those_who_may_read(api_as, erin, alice, bob, private_community):
    services.invitation_decide(actor=alice, invitation_id=services.invitation_create(
        actor=erin, community=private_community, user=alice).pk, accept=True)
    question = services.question_ask(actor=alice, community=private_community, title="Pivot tables")
    answer = services.answer_post(actor=alice, question=question, body="Use the wizard")
    response = api_as(erin).post(f"/api/v1/answers/{answer.pk}/comments/", {"body": "@alice and @bob: see the wizard"}, format="json")
    assert response.status_code == 201
    assert Notification.objects.filter(recipient=alice, kind="community.mentioned").count() == 1
    assert not Notification.objects.filter(recipient=bob).exists(), "bob may not read the community"


def test_every_community_text_box_offers_mentions_for_its_community(client_for, erin, alice, open_community):
    services.community_join(actor=alice, community=open_community)
    question = services.question_ask(actor=erin, community=open_community, title="SUMIF", body="How?")
    answer = services.answer_post(actor=erin, question=question, body="Like so")
    client = client_for(alice)

    asked = boxes(client.get(f"/communities/{open_community.slug}/ask/"))
    assert len(asked) == 1 and set(asked.values()) == {"community:excel"}, asked

    on_question = boxes(client.get(question.get_absolute_url()))
    assert on_question[f"comment-{answer.pk}-body"] == "community:excel"
    assert on_question["answer-body"] == "community:excel"

    on_community = boxes(client.get(open_community.get_absolute_url()))
    idea_boxes = {name: place for name, place in on_community.items() if name.startswith("idea")}
    assert idea_boxes and set(idea_boxes.values()) == {"community:excel"}, on_community
    # The wall's post box already had them; the poll's options mention nobody.
    assert [place for name, place in on_community.items() if name.endswith("body") and not name.startswith("idea")] == ["community:excel"], on_community
    assert all(place is None for name, place in on_community.items() if name.startswith("poll")), on_community

    refreshed = boxes(client.get(f"/questions/{question.pk}/answers/"))
    assert refreshed == {f"comment-{answer.pk}-body": "community:excel"}
