import pytest
from django.core.cache import cache

from communities import selectors, services
from communities.models import Question
from servicedesk.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def forum(make_user):
    owner, asker, helper, reader = (make_user(n) for n in ("owner", "asker", "helper", "reader"))
    community = services.community_create(actor=owner, name="Remote work")
    for person in (asker, helper, reader):
        services.community_join(actor=person, community=community)
    return community, owner, asker, helper, reader


def test_questions_carry_tags_votes_views_and_sort(forum, client):
    community, owner, asker, helper, reader = forum
    old = services.question_ask(actor=asker, community=community, title="Router at home?", tags="Home office, VPN")
    popular = services.question_ask(actor=asker, community=community, title="Headset too quiet", tags=["audio"])
    lonely = services.question_ask(actor=asker, community=community, title="Second screen flickers")
    answer = services.answer_post(actor=helper, question=popular, body="Raise the input level.")
    services.answer_vote(actor=reader, answer=answer, value=1)
    services.answer_vote(actor=owner, answer=answer, value=1)
    services.answer_post(actor=helper, question=old, body="Yes, if it supports WPA3.")

    assert Question.objects.get(pk=old.pk).tags == ["home-office", "vpn"]
    latest = [q.title for q in selectors.questions_of(community, sort="latest")]
    assert latest == ["Router at home?", "Headset too quiet", "Second screen flickers"]
    top = list(selectors.questions_of(community, sort="top"))
    assert [(q.title, q.votes) for q in top][:2] == [("Headset too quiet", 2), ("Router at home?", 0)]
    assert [q.pk for q in selectors.questions_of(community, sort="unanswered")] == [lonely.pk]
    assert [q.pk for q in selectors.questions_of(community, tag="vpn")] == [old.pk]

    client.force_login(reader)
    cache.clear()
    for _ in range(3):
        client.get(popular.get_absolute_url())
    client.force_login(owner)
    client.get(popular.get_absolute_url())
    client.force_login(asker)
    client.get(popular.get_absolute_url())  # the asker's own visits are not views
    assert Question.objects.get(pk=popular.pk).view_count == 2

    client.force_login(reader)
    html = client.get(community.get_absolute_url(), {"show": "top"}).content.decode()
    assert html.index("Headset too quiet") < html.index("Router at home?")
    assert "<strong>2</strong> votes" in html and "<strong>2</strong> views" in html
    page = client.get(community.get_absolute_url(), {"tag": "vpn"}).content.decode()
    tagged = page[page.index('id="questions-title"'):page.index('id="articles-title"')]
    assert "Router at home?" in tagged and "Headset too quiet" not in tagged


def test_tags_are_checked(forum):
    community, _, asker, _, _ = forum
    with pytest.raises(ApplicationError) as many:
        services.question_ask(actor=asker, community=community, title="Tags?", tags="a,b,c,d,e,f")
    assert many.value.errors == {"tags": ["Use at most 5 tags."]}
    with pytest.raises(ApplicationError):
        services.question_ask(actor=asker, community=community, title="Tags?", tags=["<script>"])
    assert not Question.objects.filter(title="Tags?").exists()


def test_api_lists_sorted_and_tagged(forum, api_as):
    community, _, asker, helper, reader = forum
    client = api_as(asker)
    created = client.post(f"/api/v1/communities/{community.slug}/questions/",
                          {"title": "Printer offline", "tags": ["printing"]}, format="json")
    assert created.status_code == 201 and created.json()["tags"] == ["printing"]
    services.question_ask(actor=asker, community=community, title="Other")
    body = api_as(reader).get(f"/api/v1/communities/{community.slug}/questions/", {"sort": "latest", "tag": "printing"}).json()
    assert [q["title"] for q in body["results"]] == ["Printer offline"]
    assert {"votes", "view_count", "last_activity_at", "tags"} <= set(body["results"][0])
    bad = api_as(reader).get(f"/api/v1/communities/{community.slug}/questions/", {"sort": "random"})
    assert bad.status_code == 400


def test_private_community_lists_stay_private(make_user, api_as):
    owner, stranger = make_user("owner2"), make_user("stranger")
    private = services.community_create(actor=owner, name="Security team", visibility="private")
    services.question_ask(actor=owner, community=private, title="Secret", tags=["secret"])
    assert api_as(stranger).get(f"/api/v1/communities/{private.slug}/questions/", {"tag": "secret"}).status_code == 404


def test_an_article_edit_needs_a_reason_kept_in_its_history(make_user, client):
    author = make_user("writer")
    article = services.article_create(actor=author, title="Reset your VPN token", body="Open the portal")
    client.force_login(author)
    refused = client.post(f"/articles/{article.pk}/edit/", {"article-title": "Reset your VPN token", "article-body": "Changed"})
    assert refused.status_code == 400 and "Reason for the change" in refused.content.decode()
    article.refresh_from_db()
    assert article.revision == 1
    saved = client.post(f"/articles/{article.pk}/edit/", {"article-title": "Reset your VPN token", "article-body": "Changed",
                                                          "article-note": "The portal moved"})
    assert saved.status_code == 302
    assert "The portal moved" in client.get(article.get_absolute_url()).content.decode()
