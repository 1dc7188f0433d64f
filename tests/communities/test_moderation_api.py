"""Leaving, invitations, removing members and posts, bridges, linked services, mentions."""
import pytest

from communities import services
from communities.models import Answer, Invitation, Membership, Question
from feeds.models import Follow, Notification

pytestmark = pytest.mark.django_db


def test_leave_endpoint_ends_membership_and_follow(api_as, alice, open_community):
    services.community_join(actor=alice, community=open_community)
    assert api_as(alice).post("/api/v1/communities/excel/leave/").json() == {"state": "left"}
    assert not Membership.objects.filter(user=alice).exists()
    assert not Follow.objects.filter(user=alice, target_type="community").exists()


def test_the_only_owner_cannot_leave_and_outsiders_of_private_get_404(api_as, erin, alice, private_community):
    assert api_as(erin).post("/api/v1/communities/finance/leave/").status_code == 400
    assert api_as(alice).post("/api/v1/communities/finance/leave/").status_code == 404


def test_invitation_accepted_makes_a_member_of_a_private_community(api_as, erin, alice, private_community):
    invited = api_as(erin).post("/api/v1/communities/finance/invitations/", {"username": "alice"}, format="json")
    assert invited.status_code == 201
    assert Notification.objects.filter(recipient=alice, kind="community.invitation").exists()
    mine = api_as(alice).get("/api/v1/invitations/").json()["results"]
    assert [i["community"] for i in mine] == ["finance"]
    assert api_as(alice).get("/api/v1/communities/finance/questions/").status_code == 404
    assert api_as(alice).post(f"/api/v1/invitations/{mine[0]['id']}/accept/").json()["status"] == "accepted"
    assert api_as(alice).get("/api/v1/communities/finance/questions/").status_code == 200
    assert api_as(alice).post(f"/api/v1/invitations/{mine[0]['id']}/accept/").status_code == 400, "answered once"


def test_invitation_declined_and_someone_elses_invitation_is_404(api_as, erin, alice, bob, private_community):
    invitation_id = api_as(erin).post("/api/v1/communities/finance/invitations/", {"username": "alice"}, format="json").json()["id"]
    assert api_as(bob).post(f"/api/v1/invitations/{invitation_id}/accept/").status_code == 404
    assert api_as(alice).post(f"/api/v1/invitations/{invitation_id}/decline/").json()["status"] == "declined"
    assert not Membership.objects.filter(user=alice).exists()


def test_only_moderators_invite(api_as, erin, alice, bob, open_community, private_community):
    services.community_join(actor=alice, community=open_community)
    assert api_as(alice).post("/api/v1/communities/excel/invitations/", {"username": "bob"}, format="json").status_code == 403
    assert api_as(bob).post("/api/v1/communities/finance/invitations/", {"username": "alice"}, format="json").status_code == 404
    assert api_as(erin).post("/api/v1/communities/excel/invitations/", {"username": "nobody"}, format="json").status_code == 400
    assert api_as(erin).post("/api/v1/communities/excel/invitations/", {"username": "alice"}, format="json").status_code == 400, \
        "already a member"
    assert not Invitation.objects.exists()


def test_moderator_removes_a_member_and_members_cannot(api_as, erin, alice, bob, open_community):
    services.community_join(actor=alice, community=open_community)
    services.community_join(actor=bob, community=open_community)
    assert api_as(bob).delete("/api/v1/communities/excel/members/alice/").status_code == 403
    assert api_as(bob).delete("/api/v1/communities/excel/members/erin/").status_code == 403
    assert api_as(erin).delete("/api/v1/communities/excel/members/alice/", {"reason": "spam"}, format="json").status_code == 204
    assert not Membership.objects.filter(user=alice).exists()
    assert Notification.objects.filter(recipient=alice, kind="community.removed").exists()
    assert api_as(erin).delete("/api/v1/communities/excel/members/alice/").status_code == 404


def test_removed_member_of_a_private_community_loses_everything_inside(api_as, erin, alice, private_community):
    services.invitation_decide(actor=alice, invitation_id=services.invitation_create(
        actor=erin, community=private_community, user=alice).pk, accept=True)
    question = services.question_ask(actor=erin, community=private_community, title="Year-end close")
    assert api_as(alice).get(f"/api/v1/questions/{question.pk}/").status_code == 200
    services.member_remove(actor=erin, community=private_community, user=alice)
    assert api_as(alice).get(f"/api/v1/questions/{question.pk}/").status_code == 404
    assert api_as(alice).get("/api/v1/walls/community/finance/").status_code == 404


def test_a_removed_member_hears_nothing_more_from_inside_a_private_community(erin, alice, bob, private_community):
    from feeds.models import TimelineEntry

    for person in (alice, bob):
        services.invitation_decide(actor=person, invitation_id=services.invitation_create(
            actor=erin, community=private_community, user=person).pk, accept=True)
    question = services.question_ask(actor=alice, community=private_community, title="Secret merger")
    own_answer = services.answer_post(actor=alice, question=question, body="What I know so far")
    idea = services.idea_create(actor=alice, community=private_community, title="Merge the ledgers")
    services.member_remove(actor=erin, community=private_community, user=alice)
    seen_notes = set(Notification.objects.filter(recipient=alice).values_list("pk", flat=True))
    seen_items = set(TimelineEntry.objects.filter(user=alice).values_list("activity_id", flat=True))

    services.answer_post(actor=bob, question=question, body="The board meets on Friday")
    services.answer_comment_add(actor=bob, answer=own_answer, body="Is this still true?")
    services.answer_accept(actor=erin, answer=own_answer)
    services.idea_status_set(actor=erin, idea=idea, status="planned", note="Q3")

    heard = [n.text for n in Notification.objects.filter(recipient=alice).exclude(pk__in=seen_notes)]
    assert not [text for text in heard if "merge" in text.lower()], heard
    fed = TimelineEntry.objects.filter(user=alice).exclude(activity_id__in=seen_items).select_related("activity")
    assert not [e.activity.summary for e in fed if e.activity.target_key == "finance" or "merge" in e.activity.summary.lower()]


def test_a_removed_member_stays_out_of_an_open_community_until_invited_back(api_as, erin, alice, bob, open_community):
    from communities.models import Removal
    from feeds import services as feeds

    services.community_join(actor=alice, community=open_community)
    question = services.question_ask(actor=bob, community=open_community, title="VLOOKUP or XLOOKUP?")
    answer = services.answer_post(actor=bob, question=question, body="XLOOKUP")
    post = feeds.post_create(actor=bob, wall_type="community", wall_key="excel", body="Macro tips inside")
    hers = services.question_ask(actor=alice, community=open_community, title="Pivot table refresh")
    earlier = feeds.post_create(actor=alice, wall_type="community", wall_key="excel", body="Hello all")
    friendly = services.answer_post(actor=bob, question=hers, body="Right-click, Refresh")
    article = services.article_create(actor=bob, title="Pivot tables", body="Refresh them", community=open_community)
    assert api_as(erin).delete("/api/v1/communities/excel/members/alice/", {"reason": "spam links"}, format="json").status_code == 204

    client = api_as(alice)
    refused = client.post("/api/v1/communities/excel/join/")
    assert refused.status_code == 403 and "invite you back" in refused.json()["message"]
    assert client.post("/api/v1/communities/excel/questions/", {"title": "Buy my course"}, format="json").status_code == 403
    assert client.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "Buy my course"}, format="json").status_code == 403
    assert client.post(f"/api/v1/answers/{answer.pk}/vote/", {"value": -1}, format="json").status_code == 403
    assert client.post("/api/v1/posts/", {"body": "Buy my course", "wall": {"type": "community", "key": "excel"}},
                       format="json").status_code == 403
    assert client.post(f"/api/v1/posts/{post.pk}/comments/", {"body": "Buy my course"}, format="json").status_code == 403
    assert client.post(f"/api/v1/posts/{post.pk}/like/").status_code == 403
    assert client.patch(f"/api/v1/posts/{earlier.pk}/", {"body": "Buy my course"}, format="json").status_code == 403
    assert client.post(f"/api/v1/answers/{friendly.pk}/accept/").status_code == 403, "not even on her own question"
    assert client.post(f"/api/v1/articles/{article.pk}/helpful/").status_code == 403
    assert client.get(f"/api/v1/questions/{question.pk}/").status_code == 200, "an open community stays readable"
    assert list(Question.objects.filter(author=alice)) == [hers] and not Answer.objects.filter(author=alice).exists()
    hers.refresh_from_db()
    assert hers.accepted_answer_id is None
    removal = Removal.objects.get(community=open_community, user=alice)
    assert (removal.removed_by, removal.reason, removal.lifted_at) == (erin, "spam links", None)

    # Only a moderator's invitation lets her back in; the record of the removal is kept.
    invitation = api_as(erin).post("/api/v1/communities/excel/invitations/", {"username": "alice"}, format="json").json()
    assert client.post(f"/api/v1/invitations/{invitation['id']}/accept/").status_code == 200
    assert client.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "INDEX/MATCH"}, format="json").status_code == 201
    removal.refresh_from_db()
    assert removal.lifted_at is not None
    history = api_as(erin).get("/api/v1/communities/excel/removals/").json()["results"]
    assert [(r["user"]["username"], r["removed_by"]["username"], r["reason"]) for r in history] == [("alice", "erin", "spam links")]
    assert history[0]["lifted_at"] is not None
    assert client.get("/api/v1/communities/excel/removals/").status_code == 403, "members do not see it"


def test_a_member_removed_from_a_private_community_cannot_ask_to_join_again(api_as, erin, alice, private_community):
    from communities.models import JoinRequest

    services.invitation_decide(actor=alice, invitation_id=services.invitation_create(
        actor=erin, community=private_community, user=alice).pk, accept=True)
    services.member_remove(actor=erin, community=private_community, user=alice)
    assert api_as(alice).post("/api/v1/communities/finance/join/").status_code == 404
    assert not JoinRequest.objects.filter(user=alice).exists()
    assert api_as(alice).get("/api/v1/communities/finance/removals/").status_code == 404
    assert len(api_as(erin).get("/api/v1/communities/finance/removals/").json()["results"]) == 1


def test_moderators_soft_remove_posts_with_reason(api_as, erin, alice, bob, open_community):
    services.community_join(actor=alice, community=open_community)
    question = services.question_ask(actor=alice, community=open_community, title="Pivot tables")
    answer = services.answer_post(actor=bob, question=question, body="Buy my course!")
    assert api_as(alice).post(f"/api/v1/answers/{answer.pk}/remove/", {"reason": "advert"}, format="json").status_code == 403
    assert api_as(erin).post(f"/api/v1/answers/{answer.pk}/remove/", {}, format="json").status_code == 400, "a reason is required"
    removed = api_as(erin).post(f"/api/v1/answers/{answer.pk}/remove/", {"reason": "advert"}, format="json")
    assert removed.status_code == 200 and removed.json()["removed_by"] == {"username": "erin"}
    answer.refresh_from_db()
    assert (answer.removed_by, answer.removed_reason) == (erin, "advert") and answer.removed_at is not None
    assert Answer.objects.filter(pk=answer.pk).exists(), "the row is kept"
    detail = api_as(alice).get(f"/api/v1/questions/{question.pk}/").json()
    assert detail["answers"] == [] and detail["answer_count"] == 0
    assert api_as(alice).post(f"/api/v1/answers/{answer.pk}/vote/", {"value": 1}, format="json").status_code == 404

    assert api_as(erin).post(f"/api/v1/questions/{question.pk}/remove/", {"reason": "duplicate"}, format="json").status_code == 200
    assert Question.objects.get(pk=question.pk).removed_reason == "duplicate"
    assert api_as(alice).get("/api/v1/communities/excel/questions/").json()["results"] == []
    assert api_as(alice).get(f"/api/v1/questions/{question.pk}/").status_code == 404


def test_outsiders_of_a_private_community_cannot_remove_anything(api_as, erin, bob, private_community):
    question = services.question_ask(actor=erin, community=private_community, title="Budget")
    article = services.article_create(actor=erin, title="Budget how-to", body="Steps", community=private_community)
    assert api_as(bob).post(f"/api/v1/questions/{question.pk}/remove/", {"reason": "x"}, format="json").status_code == 404
    assert api_as(bob).post(f"/api/v1/articles/{article.pk}/remove/", {"reason": "x"}, format="json").status_code == 404


def test_article_removal_hides_it_from_lists_and_detail(api_as, erin, alice, open_community):
    services.community_join(actor=alice, community=open_community)
    article = services.article_create(actor=alice, title="Macros", body="Enable them", community=open_community)
    assert api_as(alice).post(f"/api/v1/articles/{article.pk}/remove/", {"reason": "x"}, format="json").status_code == 403
    assert api_as(erin).post(f"/api/v1/articles/{article.pk}/remove/", {"reason": "outdated"}, format="json").status_code == 200
    assert api_as(alice).get(f"/api/v1/articles/{article.pk}/").status_code == 404
    assert all(a["id"] != article.pk for a in api_as(alice).get("/api/v1/articles/").json()["results"])


def test_bridges_need_both_sides_and_never_leak_a_private_community(api_as, client_for, erin, alice, bob, open_community,
                                                                   private_community):
    services.community_create(actor=bob, name="Google Sheets", slug="sheets")
    assert api_as(alice).post("/api/v1/communities/excel/bridges/", {"target": "sheets"}, format="json").status_code == 403
    proposed = api_as(erin).post("/api/v1/communities/excel/bridges/", {"target": "sheets"}, format="json")
    assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
    assert api_as(alice).get("/api/v1/communities/excel/bridges/").json()["results"] == []
    assert Notification.objects.filter(recipient=bob, kind="community.bridge").exists()
    accepted = api_as(bob).post(f"/api/v1/communities/sheets/bridges/{proposed.json()['id']}/accept/")
    assert accepted.json()["status"] == "active"
    assert [c["slug"] for c in api_as(alice).get("/api/v1/communities/excel/bridges/").json()["results"]] == ["sheets"]
    assert [c["slug"] for c in api_as(alice).get("/api/v1/communities/sheets/bridges/").json()["results"]] == ["excel"]

    # Erin moderates both: the private one is linked at once, but only its members see the link.
    assert api_as(erin).post("/api/v1/communities/excel/bridges/", {"target": "finance"}, format="json").json()["status"] == "active"
    assert [c["slug"] for c in api_as(erin).get("/api/v1/communities/excel/bridges/").json()["results"]] == ["finance", "sheets"]
    assert [c["slug"] for c in api_as(alice).get("/api/v1/communities/excel/bridges/").json()["results"]] == ["sheets"]
    page = client_for(alice).get("/communities/excel/").content.decode()
    assert "Google Sheets" in page and "Finance power users" not in page
    assert "Finance power users" in client_for(erin).get("/communities/excel/").content.decode()
    assert api_as(bob).post("/api/v1/communities/sheets/bridges/", {"target": "finance"}, format="json").status_code == 404
    assert api_as(erin).post("/api/v1/communities/excel/bridges/", {"target": "excel"}, format="json").status_code == 400


def test_linked_services_are_set_by_moderators(api_as, erin, alice, bob, open_community):
    from tickets import services as tickets

    vpn = tickets.service_create(name="VPN", description="Remote access", owner_team=bob.team)
    services.community_join(actor=alice, community=open_community)
    assert api_as(alice).put("/api/v1/communities/excel/services/", {"services": [vpn.pk]}, format="json").status_code == 403
    assert api_as(erin).put("/api/v1/communities/excel/services/", {"services": [9999]}, format="json").status_code == 400
    assert api_as(erin).put("/api/v1/communities/excel/services/", {"services": [vpn.pk]}, format="json").status_code == 200
    assert api_as(alice).get("/api/v1/communities/excel/").json()["services"] == [{"id": vpn.pk, "name": "VPN"}]


def test_mentions_in_answers_notify_only_people_who_may_read(api_as, erin, alice, bob, private_community):
    question = services.question_ask(actor=erin, community=private_community, title="Who knows SAP?")
    api_as(erin).post(f"/api/v1/questions/{question.pk}/answers/", {"body": "Maybe @bob or @alice?"}, format="json")
    assert not Notification.objects.filter(kind="community.mentioned").exists(), "neither may read the community"
    services.invitation_decide(actor=alice, invitation_id=services.invitation_create(
        actor=erin, community=private_community, user=alice).pk, accept=True)
    api_as(erin).post(f"/api/v1/questions/{question.pk}/answers/", {"body": "@alice you are in now"}, format="json")
    assert Notification.objects.filter(recipient=alice, kind="community.mentioned").count() == 1
    assert not Notification.objects.filter(recipient=bob, kind="community.mentioned").exists()


def test_comments_on_answers(api_as, erin, alice, bob, open_community, private_community):
    question = services.question_ask(actor=alice, community=open_community, title="SUMIF")
    answer = services.answer_post(actor=bob, question=question, body="Use SUMIFS")
    made = api_as(alice).post(f"/api/v1/answers/{answer.pk}/comments/", {"body": "Thanks!"}, format="json")
    assert made.status_code == 201
    assert Notification.objects.filter(recipient=bob, kind="community.comment").exists()
    assert api_as(alice).post(f"/api/v1/answers/{answer.pk}/comments/", {"body": ""}, format="json").status_code == 400
    detail = api_as(erin).get(f"/api/v1/questions/{question.pk}/").json()
    assert detail["answers"][0]["comments"][0]["body"] == "Thanks!"
    secret = services.answer_post(actor=erin, question=services.question_ask(actor=erin, community=private_community, title="Q"),
                                  body="A")
    assert api_as(alice).post(f"/api/v1/answers/{secret.pk}/comments/", {"body": "hi"}, format="json").status_code == 404


def test_a_removal_reason_with_a_nul_character_is_refused_and_the_member_stays(client_for, alice, erin, open_community):
    from communities.models import Membership

    services.community_join(actor=alice, community=open_community)
    response = client_for(erin).post(f"/communities/{open_community.slug}/members/alice/remove/", {"reason": "spam\u0000"})
    assert response.status_code < 500
    assert Membership.objects.filter(community=open_community, user=alice).exists()
