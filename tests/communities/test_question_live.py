"""Votes and acceptance reach open question pages live: a content-free hint on the question's own
stream, which only people who may read the question can subscribe to, then a fragment of scores
rendered for the reader."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from communities import services
from feeds import services as feed_services
from feeds import streams
from servicedesk.asgi import application


@pytest.fixture
def answered(erin, alice, bob):
    """A question in a community with an answer by bob; alice asks, erin owns the community."""

    def make(community):
        for person in (alice, bob):
            if community.is_private:
                invitation = services.invitation_create(actor=erin, community=community, user=person)
                services.invitation_decide(actor=person, invitation_id=invitation.pk, accept=True)
            else:
                services.community_join(actor=person, community=community)
        question = services.question_ask(actor=alice, community=community, title="Pivot tables lose formatting")
        return question, services.answer_post(actor=bob, question=question, body="Untick *Autofit column widths*.")

    return make


@pytest.mark.django_db
def test_question_streams_follow_who_may_read_the_question(answered, open_community, private_community, alice, erin, make_user):
    outsider = make_user("olga")
    open_question, _ = answered(open_community)
    private_question, _ = answered(private_community)
    assert streams.authorize(outsider, f"question:{open_question.pk}") == f"question:{open_question.pk}"
    assert streams.authorize(alice, f"question:{private_question.pk}") == f"question:{private_question.pk}"
    for user, stream in ((outsider, f"question:{private_question.pk}"), (alice, "question:999999"), (alice, "question:abc")):
        with pytest.raises(streams.StreamRefused):
            streams.authorize(user, stream)
    services.content_remove(actor=erin, item=open_question, reason="Duplicate")
    with pytest.raises(streams.StreamRefused):
        streams.authorize(outsider, f"question:{open_question.pk}")


@pytest.mark.django_db
def test_the_scores_fragment_is_rendered_for_the_reader_and_hidden_from_outsiders(
        answered, private_community, alice, bob, erin, make_user, client_for, django_assert_max_num_queries):
    question, answer = answered(private_community)
    page = client_for(alice).get(question.get_absolute_url()).content.decode()
    assert f'data-live-stream="question:{question.pk}"' in page and f'hx-get="/questions/{question.pk}/scores/"' in page
    assert f'<p class="accepted-mark" id="accepted-{answer.pk}" hidden>' in page

    services.answer_vote(actor=erin, answer=answer, value=1)
    services.answer_accept(actor=alice, answer=answer)
    reader = client_for(alice)
    with django_assert_max_num_queries(8) as one_answer:
        fragment = reader.get(f"/questions/{question.pk}/scores/").content.decode()
    budget = len(one_answer.captured_queries)
    assert f'id="votes-{answer.pk}" hx-swap-oob="true"' in fragment and 'aria-label="Score 1"' in fragment
    assert f'<p class="accepted-mark" id="accepted-{answer.pk}" hx-swap-oob="true">' in fragment
    assert "Vote up" in fragment, "alice has not voted: her buttons are there"
    assert "Vote up" not in client_for(bob).get(f"/questions/{question.pk}/scores/").content.decode(), "his own answer"
    assert client_for(make_user("olga")).get(f"/questions/{question.pk}/scores/").status_code == 404

    for i in range(5):
        more = services.answer_post(actor=erin, question=question, body=f"Or try option {i}.")
        services.answer_vote(actor=bob, answer=more, value=1)
    with django_assert_max_num_queries(budget):
        assert reader.get(f"/questions/{question.pk}/scores/").content.decode().count("hx-swap-oob") == 12


@pytest.mark.django_db(transaction=True)
def test_votes_and_acceptance_hint_members_and_never_outsiders(answered, private_community, alice, erin, make_user):
    question, answer = answered(private_community)
    outsider = make_user("olga")
    stream = f"question:{question.pk}"

    async def connect(user):
        ticket = await sync_to_async(feed_services.live_ticket_issue)(user=user)
        ws = WebsocketCommunicator(application, f"/ws/live/?ticket={ticket}")
        assert (await ws.connect())[0]
        await ws.receive_json_from()
        await ws.send_json_to({"action": "subscribe", "stream": stream})
        return ws, await ws.receive_json_from()

    async def scenario():
        member, subscribed = await connect(alice)
        assert subscribed == {"type": "subscribed", "stream": stream}
        snoop, refused = await connect(outsider)
        assert refused["type"] == "error"
        await sync_to_async(services.answer_vote)(actor=erin, answer=answer, value=1)
        assert await member.receive_json_from(timeout=2) == {"type": "event", "event": {"kind": "answers", "question": question.pk}}
        await sync_to_async(services.answer_accept)(actor=alice, answer=answer)
        frames = [await member.receive_json_from(timeout=2)]
        while frames[-1].get("type") != "event":  # the acceptance is also an activity in the community
            frames.append(await member.receive_json_from(timeout=2))
        assert frames[-1]["event"] == {"kind": "answers", "question": question.pk}
        assert await snoop.receive_nothing(timeout=0.5)
        await member.disconnect()
        await snoop.disconnect()

    async_to_sync(scenario)()
