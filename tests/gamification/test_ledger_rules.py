"""Rules, caps, clawbacks and self-action: what earns points, and what never does."""
from datetime import timedelta

import pytest
from django.utils import timezone

from communities import services as communities
from feeds import services as feeds
from feeds.models import Notification
from gamification import services
from gamification.models import BadgeAward, PointEntry, Rule
from gamification.selectors import influence_of, standing_for
from tickets import services as tickets

pytestmark = pytest.mark.django_db


def points(user) -> int:
    return standing_for([user])[user.pk].points


def rules_of(user) -> list[str]:
    return sorted(PointEntry.objects.filter(user=user, reversal_of__isnull=True).values_list("rule__slug", flat=True))


def _live_rules(user) -> list[str]:
    return sorted(PointEntry.objects.filter(user=user, reversal_of__isnull=True, reversed_by__isnull=True)
                  .values_list("rule__slug", flat=True))


def test_rules_are_seeded_with_defaults():
    assert Rule.objects.get(slug="ticket_resolved").points == 10
    assert Rule.objects.get(slug="like_received").daily_cap == 10


def test_resolving_someone_elses_new_problem_pays_resolution_sla_first_contact_and_novelty(alice, bob, resolved_by):
    ticket = resolved_by(bob, alice)
    assert rules_of(bob) == ["first_contact_resolution", "novel_problem", "resolved_within_sla", "ticket_resolved"]
    assert points(bob) == 10 + 5 + 5 + 15
    entry = PointEntry.objects.get(user=bob, rule__slug="ticket_resolved")
    assert (entry.source_type, entry.source_id, entry.team_id) == ("ticket", ticket.pk, bob.team_id)
    assert points(alice) == 0


def test_a_problem_met_before_is_not_novel(alice, erin, bob, resolved_by):
    resolved_by(bob, alice, title="Printer on floor 3 jams paper")
    resolved_by(bob, erin, title="Paper jams in the printer again")
    assert rules_of(bob).count("novel_problem") == 1
    assert rules_of(bob).count("ticket_resolved") == 2


def test_an_article_makes_a_problem_known(alice, bob, resolved_by, community):
    communities.article_create(actor=bob, title="Outlook search index broken", body="Rebuild the index.")
    resolved_by(bob, alice, title="Outlook search finds nothing, index broken?")
    assert "novel_problem" not in rules_of(bob)


def test_many_replies_are_not_a_first_contact_resolution(alice, bob):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Screen flickers", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    tickets.comment_add(actor=bob, ticket=ticket, body="Which screen?")
    tickets.comment_add(actor=bob, ticket=ticket, body="Try another cable.")
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert "first_contact_resolution" not in rules_of(bob)


def test_nobody_earns_for_resolving_their_own_ticket(bob):
    ticket = tickets.ticket_create(actor=bob, kind="incident", title="My own laptop", impact=3, urgency=3)
    tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob)
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert PointEntry.objects.filter(user=bob).count() == 0


def test_self_action_pays_nothing_even_if_a_caller_forgets_to_refuse_it(bob, community):
    article = communities.article_create(actor=bob, title="VPN setup", body="Steps")
    assert services.article_marked_helpful(article=article, actor=bob) is None
    assert rules_of(bob) == ["article_published"]


def test_satisfaction_pays_the_assignee_and_a_bad_rating_costs(alice, erin, bob, resolved_by):
    good = resolved_by(bob, alice)
    tickets.rating_create(actor=alice, ticket=good, score=5)
    bad = resolved_by(bob, erin, title="Keyboard missing keys")
    tickets.rating_create(actor=erin, ticket=bad, score=1)
    entries = dict(PointEntry.objects.filter(user=bob, rule__slug__startswith="satisfaction").values_list("rule__slug", "points"))
    assert entries == {"satisfaction_positive": 10, "satisfaction_negative": -5}
    assert PointEntry.objects.get(rule__slug="satisfaction_positive").actor == alice


def test_reopening_claws_back_what_the_resolution_earned_and_a_new_resolution_pays_again(alice, bob, resolved_by):
    ticket = resolved_by(bob, alice)
    tickets.rating_create(actor=alice, ticket=ticket, score=5)
    earned = points(bob)
    tickets.ticket_reopen(actor=alice, ticket=ticket, reason="Still jams")
    assert points(bob) == 0
    reversals = list(PointEntry.objects.filter(user=bob, reversal_of__isnull=False).select_related("reversal_of"))
    assert len(reversals) == 5
    assert sum(r.points for r in reversals) == -earned
    for r in reversals:
        assert r.points == -r.reversal_of.points and r.reason.startswith("Reversed:") and "reopened" in r.reason
    # Nothing was deleted: originals are still in the ledger.
    assert PointEntry.objects.filter(user=bob, reversal_of__isnull=True).count() == 5
    tickets.ticket_update(actor=bob, ticket=ticket, status="resolved")
    # Resolved again: resolution, SLA and novelty pay again; it is no longer a first-contact resolution.
    assert points(bob) == 10 + 5 + 15
    assert _live_rules(bob) == ["novel_problem", "resolved_within_sla", "ticket_resolved"]


def test_daily_cap_limits_likes_received(bob, make_user, post_by):
    post = post_by(bob)
    for i in range(12):
        feeds.like_add(actor=make_user(f"fan{i}"), post_id=post.pk)
    assert points(bob) == 10
    assert PointEntry.objects.filter(user=bob).count() == 10


def test_unlike_reverses_the_point(alice, bob, post_by):
    post = post_by(bob)
    feeds.like_add(actor=alice, post_id=post.pk)
    feeds.like_remove(actor=alice, post_id=post.pk)
    assert points(bob) == 0
    reversal = PointEntry.objects.get(user=bob, reversal_of__isnull=False)
    assert reversal.points == -1 and "removed a like" in reversal.reason
    # Liking again pays again (and is undone again if removed): never more than one standing point.
    feeds.like_add(actor=alice, post_id=post.pk)
    assert points(bob) == 1


def test_accept_unaccept_and_accepting_another_answer(alice, bob, erin, community):
    communities.community_join(actor=alice, community=community)
    communities.community_join(actor=erin, community=community)
    question = communities.question_ask(actor=alice, community=community, title="How do I map a drive?")
    first = communities.answer_post(actor=bob, question=question, body="Use net use.")
    second = communities.answer_post(actor=erin, question=question, body="Explorer, This PC, Map network drive.")
    communities.answer_accept(actor=alice, answer=first)
    assert points(bob) == 15
    communities.answer_accept(actor=alice, answer=second)
    assert points(bob) == 0 and points(erin) == 15
    communities.answer_unaccept(actor=alice, answer=second)
    assert points(erin) == 0
    assert PointEntry.objects.filter(reversal_of__isnull=False, rule__slug="answer_accepted").count() == 2


def test_unaccept_is_for_the_asker_or_a_moderator(alice, bob, erin, community):
    from servicedesk.errors import ApplicationError, Forbidden

    communities.community_join(actor=alice, community=community)
    communities.community_join(actor=erin, community=community)
    question = communities.question_ask(actor=alice, community=community, title="Printer?")
    answer = communities.answer_post(actor=bob, question=question, body="Restart it.")
    communities.answer_accept(actor=alice, answer=answer)
    with pytest.raises(Forbidden):
        communities.answer_unaccept(actor=erin, answer=answer)
    other = communities.answer_post(actor=erin, question=question, body="Unplug it.")
    with pytest.raises(ApplicationError):
        communities.answer_unaccept(actor=alice, answer=other)
    assert points(bob) == 15


def test_repeated_votes_between_two_people_are_detected_and_reversed(alice, bob, post_by):
    posts = [post_by(bob, body=f"Tip number {i}") for i in range(7)]
    for post in posts:
        feeds.like_add(actor=alice, post_id=post.pk)
    assert points(bob) == 5  # the first five stand
    reversed_ = PointEntry.objects.filter(user=bob, reversal_of__isnull=False)
    assert reversed_.count() == 2
    assert all("repeated votes between alice and bob" in r.reason for r in reversed_)


def test_repeated_votes_count_both_directions(alice, bob, post_by, community):
    communities.community_join(actor=alice, community=community)
    for i in range(3):
        feeds.like_add(actor=alice, post_id=post_by(bob, body=f"bob {i}").pk)
        feeds.like_add(actor=bob, post_id=post_by(alice, body=f"alice {i}").pk)
    assert points(alice) + points(bob) == 5


def test_campaign_multiplies_matching_points_only(carol, bob, alice, erin, post_by):
    now = timezone.now()
    services.campaign_create(actor=carol, name="Outlook week", rule=Rule.objects.get(slug="like_received"), multiplier=2,
                             starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=7), tag="outlook")
    tagged = post_by(bob, body="Fix #outlook search by rebuilding the index")
    plain = post_by(bob, body="Printers are fine today")
    feeds.like_add(actor=alice, post_id=tagged.pk)
    feeds.like_add(actor=erin, post_id=plain.pk)
    values = dict(PointEntry.objects.filter(user=bob).values_list("source_id", "points"))
    assert values == {tagged.pk: 2, plain.pk: 1}
    assert PointEntry.objects.get(source_id=tagged.pk).campaign.name == "Outlook week"


def test_quest_bonus_on_reaching_the_goal_and_lost_when_falling_below(carol, bob, make_user, post_by):
    now = timezone.now()
    quest = services.campaign_create(actor=carol, name="Three likes", rule=Rule.objects.get(slug="like_received"), multiplier=1,
                                     starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1), goal=3, bonus_points=20)
    post = post_by(bob)
    fans = [make_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        feeds.like_add(actor=fan, post_id=post.pk)
    assert points(bob) == 3 + 20
    assert PointEntry.objects.get(rule__slug="quest_completed").source_id == quest.pk
    feeds.like_remove(actor=fans[0], post_id=post.pk)
    assert points(bob) == 2


def test_only_managers_run_campaigns(bob):
    from servicedesk.errors import Forbidden

    now = timezone.now()
    with pytest.raises(Forbidden):
        services.campaign_create(actor=bob, name="x", rule=Rule.objects.get(slug="ticket_resolved"), starts_at=now,
                                 ends_at=now + timedelta(days=1))


def test_a_badge_is_awarded_once_and_announced(alice, erin, bob, resolved_by):
    resolved_by(bob, alice)
    resolved_by(bob, erin, title="Monitor stays black")
    assert list(BadgeAward.objects.filter(user=bob, badge__slug="first-fix").values_list("tier", flat=True)) == ["bronze"]
    texts = list(Notification.objects.filter(recipient=bob, kind="gamification.badge").values_list("text", flat=True))
    assert texts.count("You earned First Fix \u2014 bronze") == 1
    assert "First Fix" in [b["name"] for b in standing_for([bob])[bob.pk].badges]


def test_badge_tiers_follow_counts(bob, make_user, post_by):
    from gamification.models import Badge

    Badge.objects.filter(slug="problem-solver").update(bronze=2, silver=3, gold=10)
    for i in range(3):
        requester = make_user(f"req{i}")
        ticket = tickets.ticket_create(actor=requester, kind="request", title=f"Request number {i} for a mouse", impact=3, urgency=3)
        tickets.ticket_update(actor=bob, ticket=ticket, assignee=bob, status="resolved")
    tiers = set(BadgeAward.objects.filter(user=bob, badge__slug="problem-solver").values_list("tier", flat=True))
    assert tiers == {"bronze", "silver"}
    assert [b["tier"] for b in standing_for([bob])[bob.pk].badges if b["slug"] == "problem-solver"] == ["silver"]


def test_desk_visit_pays_once_per_ticket_and_is_for_agents(alice, bob, erin):
    from servicedesk.errors import Forbidden, NotVisible

    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Dock not charging", impact=3, urgency=3)
    services.desk_visit_log(actor=bob, ticket=ticket, note="Swapped the dock")
    services.desk_visit_log(actor=bob, ticket=ticket, note="Checked again")
    assert points(bob) == 5
    with pytest.raises(NotVisible):
        services.desk_visit_log(actor=erin, ticket=ticket)
    with pytest.raises(Forbidden):
        services.desk_visit_log(actor=alice, ticket=ticket)


def test_bounty_goes_to_whoever_resolves_the_problem(carol, bob, alice):
    from servicedesk.errors import ApplicationError, Forbidden

    problem = tickets.ticket_create(actor=bob, kind="problem", title="Mail server drops connections", impact=2, urgency=2)
    incident = tickets.ticket_create(actor=alice, kind="incident", title="No mail", impact=3, urgency=3)
    with pytest.raises(Forbidden):
        services.bounty_set(actor=bob, ticket=problem, points=100)
    with pytest.raises(ApplicationError):
        services.bounty_set(actor=carol, ticket=incident, points=100)
    services.bounty_set(actor=carol, ticket=problem, points=100)
    agent2 = carol  # a manager works tickets too
    tickets.ticket_update(actor=carol, ticket=problem, assignee=agent2)
    tickets.problem_resolve(actor=carol, problem=problem, note="Patched the relay")
    assert PointEntry.objects.get(rule__slug="bounty").points == 100
    assert PointEntry.objects.get(rule__slug="bounty").user == carol


def test_deflection_credits_the_article_author(alice, bob, community):
    article = communities.article_create(actor=bob, title="Reset your password", body="Go to the portal.")
    tickets.deflection_record(actor=alice, query="password", outcome="opened", suggestion_type="article",
                              suggestion_key=str(article.pk))
    tickets.deflection_record(actor=bob, query="password", outcome="opened", suggestion_type="article",
                              suggestion_key=str(article.pk))
    assert PointEntry.objects.filter(user=bob, rule__slug="deflection").count() == 1


def test_deflection_is_clawed_back_when_the_ticket_is_logged_anyway(alice, erin, bob, community):
    article = communities.article_create(actor=bob, title="Reset your password", body="Go to the portal.")
    for person in (alice, erin):
        tickets.deflection_record(actor=person, query="password", outcome="opened", suggestion_type="article",
                                  suggestion_key=str(article.pk))
    paid = points(bob)
    tickets.deflection_record(actor=alice, query="password", outcome="logged")
    entries = PointEntry.objects.filter(user=bob, rule__slug="deflection")
    assert entries.count() == 3
    reversal = entries.get(reversal_of__isnull=False)
    assert reversal.reversal_of.actor == alice and reversal.points == -reversal.reversal_of.points
    assert points(bob) == paid + reversal.points  # erin's deflection still stands

def test_removing_an_answer_takes_back_what_it_earned(alice, erin, bob, community):
    question = communities.question_ask(actor=alice, community=community, title="VPN drops", body="Every hour")
    answer = communities.answer_post(actor=bob, question=question, body="Update the client")
    communities.answer_vote(actor=erin, answer=answer, value=1)
    communities.answer_accept(actor=alice, answer=answer)
    assert points(bob) > 0
    communities.content_remove(actor=bob, item=answer, reason="Spam")
    assert points(bob) == 0
    assert PointEntry.objects.filter(user=bob, reversal_of__isnull=False).count() == 2

def test_a_member_removed_from_a_community_earns_nothing_there_until_invited_back(alice, erin, carol, bob, community):
    communities.community_join(actor=erin, community=community)
    question = communities.question_ask(actor=alice, community=community, title="Printer offline", body="Since Monday")
    answer = communities.answer_post(actor=erin, question=question, body="Restart the spooler")
    post = feeds.post_create(actor=erin, wall_type="community", wall_key="windows", body="Spooler tips")
    communities.member_remove(actor=bob, community=community, user=erin, reason="Advertising")

    communities.answer_accept(actor=alice, answer=answer)
    communities.answer_vote(actor=carol, answer=answer, value=1)
    feeds.like_add(actor=alice, post_id=post.pk)
    assert points(erin) == 0 and not PointEntry.objects.filter(user=erin).exists()

    invitation = communities.invitation_create(actor=bob, community=community, user=erin)
    communities.invitation_decide(actor=erin, invitation_id=invitation.pk, accept=True)
    feeds.like_add(actor=carol, post_id=post.pk)
    assert rules_of(erin) == ["like_received"]


def test_rules_are_editable_by_managers_and_apply_from_then_on(carol, bob, alice, post_by):
    from servicedesk.errors import Forbidden

    rule = Rule.objects.get(slug="like_received")
    with pytest.raises(Forbidden):
        services.rule_update(actor=bob, rule=rule, points=50)
    services.rule_update(actor=carol, rule=rule, points=4, daily_cap=0)
    feeds.like_add(actor=alice, post_id=post_by(bob).pk)
    assert points(bob) == 4


def test_influence_is_explained_and_capped_per_person(alice, erin, bob, post_by):
    for i in range(5):
        feeds.like_add(actor=alice, post_id=post_by(bob, body=f"p{i}").pk)
    feeds.like_add(actor=erin, post_id=post_by(bob, body="another").pk)
    influence = influence_of(bob)
    # Likes: 6 from 2 people, at most 3 per person → 4 counted ×1; breadth 2 people ×2.
    assert influence.score == 4 + 4
    assert influence.lines[0] == "Like received: 6 from 2 people (capped at 4) \u00d7 1 = 4"
    assert influence.lines[1].startswith("Breadth: 2 different people")
