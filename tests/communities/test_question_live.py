"""Votes and acceptance reach open question pages live: a content-free hint on the question's own
stream, which only people who may read the question can subscribe to, then the answers list drawn
for the reader."""
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
def test_the_answers_fragment_is_drawn_for_the_reader_and_hidden_from_outsiders(
        answered, private_community, alice, bob, erin, make_user, client_for, django_assert_max_num_queries):
    question, answer = answered(private_community)
    page = client_for(alice).get(question.get_absolute_url()).content.decode()
    assert f'data-live-stream="question:{question.pk}"' in page and f'hx-get="/questions/{question.pk}/answers/"' in page
    assert page.index('id="answers-live"') < page.index('<section class="card" id="answers"') < page.index("Post answer")
    later = services.answer_post(actor=erin, question=question, body="Reinstall the add-in.")
    services.answer_vote(actor=alice, answer=later, value=1)
    url = f"/questions/{question.pk}/answers/"

    reader = client_for(alice)
    fragment = reader.get(url).content.decode()
    assert f'data-order="{later.pk} {answer.pk}"' in fragment and 'data-accepted=""' in fragment
    assert fragment.count("Accept this answer") == 2, "alice asked: she may accept either"
    assert "Post answer" not in fragment, "the answer form stays outside what is swapped"

    services.answer_accept(actor=alice, answer=answer)
    with django_assert_max_num_queries(10) as two_answers:
        fragment = reader.get(url).content.decode()
    budget = len(two_answers.captured_queries)
    assert f'data-order="{answer.pk} {later.pk}"' in fragment, "the accepted answer comes first, whatever its score"
    assert f'data-accepted="{answer.pk}"' in fragment
    assert f'<li class="answer is-accepted" id="answer-{answer.pk}">' in fragment and fragment.count("Accepted answer") == 1
    assert fragment.count("Accept this answer") == 1, "only the answer not accepted"
    assert "Make it a knowledge article" in fragment
    assert "You voted up" in fragment and "Vote up" in fragment, "her own vote on one answer, buttons on the other"

    assert "Accept this answer" not in client_for(bob).get(url).content.decode(), "bob did not ask"
    assert client_for(make_user("olga")).get(url).status_code == 404
    assert client_for(alice).get("/questions/999999/answers/").status_code == 404

    for i in range(5):
        more = services.answer_post(actor=erin, question=question, body=f"Or try option {i}.")
        services.answer_vote(actor=bob, answer=more, value=1)
        services.answer_comment_add(actor=bob, answer=more, body=f"Option {i} worked for me.")
    with django_assert_max_num_queries(budget):
        fragment = reader.get(url).content.decode()
    assert fragment.count('<li class="answer') == 7 and fragment.count("Option 4 worked for me.") == 1


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
