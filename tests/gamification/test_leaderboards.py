"""Leaderboards on Redis sorted sets, kept in step on commit, rebuilt exactly from the ledger, and
the SQL fallback when Redis is not configured."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from accounts.models import Role
from communities import services as communities
from feeds import services as feeds
from gamification import leaderboard
from gamification.models import PointEntry

pytestmark = pytest.mark.django_db

@pytest.fixture
def _empty_boards(_empty_leaderboards):
    return _empty_leaderboards


@pytest.fixture
def busy_ledger(make_user, bob, community, django_capture_on_commit_callbacks):
    """A dozen people liking each other's posts, answers voted and accepted, one like removed."""
    people = [make_user(f"p{i}", role=Role.AGENT if i % 3 == 0 else Role.END_USER) for i in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        for person in people + [bob]:
            communities.community_join(actor=person, community=community) if person != bob else None
        posts = {p.pk: feeds.post_create(actor=p, wall_type="user", wall_key=p.username, body=f"hello from {p.username}")
                 for p in people}
        for i, author in enumerate(people):
            for fan in people[: (i * 7) % 11 + 1]:
                if fan != author:
                    feeds.like_add(actor=fan, post_id=posts[author.pk].pk)
        question = communities.question_ask(actor=people[1], community=community, title="Best VPN client?")
        answer = communities.answer_post(actor=people[2], question=question, body="The built-in one.")
        for voter in people[3:8]:
            communities.answer_vote(actor=voter, answer=answer, value=1)
        communities.answer_accept(actor=people[1], answer=answer)
        feeds.like_remove(actor=people[0], post_id=posts[people[5].pk].pk)
    return people


def boards(community_id, team_id):
    out = {}
    for period in leaderboard.PERIODS:
        for scope in ("global", f"team:{team_id}", f"community:{community_id}"):
            out[(period, scope)] = leaderboard.top(period=period, scope=scope, limit=50)[0]
    return out


def test_redis_boards_agree_with_the_ledger_and_rebuild_reproduces_them_exactly(busy_ledger, community, bob, _empty_boards):
    live = boards(community.pk, bob.team_id)
    assert live[("all", "global")], "the board has people on it"
    for (period, scope), rows in live.items():
        assert rows == leaderboard.sql_top(period=period, scope=scope)[0], (period, scope)
    # Totals per person equal the ledger's sums.
    for row in live[("all", "global")]:
        assert row.points == sum(PointEntry.objects.filter(user_id=row.user_id).values_list("points", flat=True))

    # Lose Redis, rebuild from the ledger: the same boards, rank for rank.
    for key in _empty_boards.scan_iter(match=f"{settings.CHANNEL_PREFIX}:lb*"):
        _empty_boards.delete(key)
    assert leaderboard.top(period="all", scope="global")[0] == []
    call_command("rebuild_leaderboards")
    assert boards(community.pk, bob.team_id) == live


def test_rebuild_removes_stale_sets(busy_ledger, _empty_boards):
    _empty_boards.zadd(f"{settings.CHANNEL_PREFIX}:lb:all:all:team:999", {leaderboard.member(1): 5})
    leaderboard.rebuild()
    assert not _empty_boards.exists(f"{settings.CHANNEL_PREFIX}:lb:all:all:team:999")


def test_ranks_are_competition_ranks_and_me_is_found_outside_the_top(busy_ledger):
    rows, _ = leaderboard.top(period="all", scope="global", limit=50)
    for prev, row in zip(rows, rows[1:], strict=False):
        assert prev.points >= row.points
        assert row.rank == (prev.rank if row.points == prev.points else rows.index(row) + 1)
    last = rows[-1]
    top3, me = leaderboard.top(period="all", scope="global", limit=3, user_id=last.user_id)
    assert len(top3) == 3 and me == last
    _, sql_me = leaderboard.sql_top(period="all", scope="global", limit=3, user_id=last.user_id)
    assert sql_me == me


def test_a_reversal_corrects_the_period_the_points_were_earned_in(alice, bob, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from gamification import services

    with django_capture_on_commit_callbacks(execute=True):
        post = feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hi")
        feeds.like_add(actor=alice, post_id=post.pk)
    entry = PointEntry.objects.get(user=bob)
    last_month = timezone.now() - timedelta(days=40)
    PointEntry.objects.filter(pk=entry.pk).update(created_at=last_month, earned_at=last_month)
    entry.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        reversal = services._reverse(entry, "test")
    assert reversal.earned_at == last_month
    # This week's board is not pushed below zero by an undo of older points.
    rows, _ = leaderboard._top_sql(period="week", scope="global", limit=10, user_id=None, now=timezone.now())
    assert rows == []


@override_settings(REDIS_URL="")
def test_without_redis_the_board_is_aggregated_in_sql(alice, bob, api_as, django_capture_on_commit_callbacks):
    assert leaderboard.redis_client() is None
    with django_capture_on_commit_callbacks(execute=True):
        post = feeds.post_create(actor=bob, wall_type="user", wall_key="bob", body="hi")
        feeds.like_add(actor=alice, post_id=post.pk)
    body = api_as(alice).get("/api/v1/leaderboards/?period=week").json()
    assert body["results"] == [{"rank": 1, "user": {"username": "bob", "display_name": "Bob Okafor"}, "points": 1}]
    assert body["me"] == {"rank": None, "points": 0}
    assert leaderboard.rebuild() == {"sets": 0, "entries": 0}


def test_reconciliation_rewrites_only_the_boards_that_drifted(busy_ledger, community, bob, _empty_boards, caplog):
    from django.utils import timezone

    from gamification import tasks

    assert settings.CELERY_BEAT_SCHEDULE["leaderboard-reconcile"] == {
        "task": "gamification.tasks.leaderboards_reconcile", "schedule": settings.LEADERBOARD_RECONCILE_SECONDS}
    live = boards(community.pk, bob.team_id)
    assert tasks.leaderboards_reconcile()["fixed"] == [], "boards kept in step on commit agree with the ledger"

    now = timezone.now()
    week, month, everything = (leaderboard.key(p, leaderboard.bucket(p, now), s) for p, s in (
        ("week", f"community:{community.pk}"), ("month", "global"), ("all", "global")))
    top = live[("all", "global")]
    first, second = leaderboard.member(top[0].user_id), leaderboard.member(top[1].user_id)
    _empty_boards.zincrby(everything, 7, first)                     # an update applied twice
    assert _empty_boards.zrem(week, _empty_boards.zrange(week, 0, 0)[0]) == 1  # one lost
    _empty_boards.delete(month)                                     # a whole board lost
    moved = leaderboard.key("week", leaderboard.bucket("week", now), "global")
    _empty_boards.zincrby(moved, 3, first)                          # points moved between people:
    _empty_boards.zincrby(moved, -3, second)                        # same people, same total
    stale = leaderboard.key("week", leaderboard.bucket("week", now), "team:999999")
    _empty_boards.zadd(stale, {leaderboard.member(bob.pk): 5})
    # Intact boards carry a marker a rewrite would drop.
    intact = [leaderboard.key("all", "all", f"community:{community.pk}"),
              leaderboard.key("month", leaderboard.bucket("month", now), f"community:{community.pk}")]
    for k in intact:
        assert _empty_boards.expire(k, 12345)

    with caplog.at_level("WARNING", logger="gamification.leaderboard"):
        result = tasks.leaderboards_reconcile()
    assert sorted(result["fixed"]) == sorted([everything, week, month, moved, stale]) and result["busy"] == []
    for k in result["fixed"]:
        assert k in caplog.text
    assert boards(community.pk, bob.team_id) == live
    for (period, scope), rows in live.items():
        assert rows == leaderboard.sql_top(period=period, scope=scope)[0], (period, scope)
    assert not _empty_boards.exists(stale)
    for k in intact:
        assert 12000 < _empty_boards.ttl(k) <= 12345, f"{k} was rewritten"
    assert tasks.leaderboards_reconcile()["fixed"] == []


def test_reconciliation_gives_way_to_points_earned_while_it_checks(busy_ledger, _empty_boards, monkeypatch):
    from django.utils import timezone

    everything = leaderboard.key("all", "all", "global")
    _empty_boards.zincrby(everything, 7, leaderboard.member(busy_ledger[0].pk))
    ledger_board = leaderboard._ledger_board

    def an_update_lands(period, scope, now):
        _empty_boards.zincrby(everything, 1, leaderboard.member(busy_ledger[1].pk))  # `apply` from a commit
        return ledger_board(period, scope, now)

    monkeypatch.setattr(leaderboard, "_ledger_board", an_update_lands)
    before = dict(_empty_boards.zrange(everything, 0, -1, withscores=True))
    result = leaderboard.reconcile(now=timezone.now())
    assert result["busy"] == [everything] and everything not in result["fixed"]
    after = dict(_empty_boards.zrange(everything, 0, -1, withscores=True))
    assert after[leaderboard.member(busy_ledger[1].pk).encode()] == before[leaderboard.member(busy_ledger[1].pk).encode()] + 1


@override_settings(REDIS_URL="")
def test_reconciliation_without_redis_has_nothing_to_do(alice):
    assert leaderboard.reconcile() == {"checked": 0, "fixed": [], "busy": []}
