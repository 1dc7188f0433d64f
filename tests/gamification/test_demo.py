"""`seed_demo` leaves a fresh install with points, badges, a running campaign and a bounty, made
through the real services, and adds nothing when it runs again."""
import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from gamification import selectors
from gamification.models import BadgeAward, Bounty, Campaign, DeskVisit, PointEntry

pytestmark = pytest.mark.django_db


def seed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", password="demo-pw")


def test_seed_demo_gives_the_game_something_to_show_and_is_idempotent(django_capture_on_commit_callbacks):
    seed(django_capture_on_commit_callbacks)
    counts = (PointEntry.objects.count(), BadgeAward.objects.count(), Campaign.objects.count(), Bounty.objects.count(),
              DeskVisit.objects.count())
    seed(django_capture_on_commit_callbacks)
    assert (PointEntry.objects.count(), BadgeAward.objects.count(), Campaign.objects.count(), Bounty.objects.count(),
            DeskVisit.objects.count()) == counts

    people = {u.username: u for u in User.objects.all()}
    carol, bob, erin = people["carol"], people["bob"], people["erin"]
    board = selectors.board(viewer=carol, period="week", scope="global")
    ranked = [r["user"]["username"] for r in board.results]
    assert ranked[0] == "bob" and "erin" in ranked
    assert PointEntry.objects.filter(user=bob, rule__slug="satisfaction_positive").exists()
    assert PointEntry.objects.filter(user=erin, rule__slug="answer_accepted").exists()
    assert {"first-fix", "helping-hand"} <= set(BadgeAward.objects.filter(user__in=[bob, erin]).values_list("badge__slug", flat=True))

    campaign = Campaign.objects.get()
    assert campaign.created_by == carol and campaign.starts_at < campaign.entries.get().created_at < campaign.ends_at
    progress = selectors.campaign_progress(campaign)
    assert [p["user"].username for p in progress["participants"]] == ["bob"] and progress["mine"] is None
    bounty = Bounty.objects.get()
    assert bounty.ticket.kind == "problem" and bounty.ticket.is_open and bounty.created_by == carol

    client = Client()
    client.force_login(carol)
    dashboard = client.get("/manage/").content.decode()
    assert "Bob Okafor" in dashboard
    assert "Not collected yet" in client.get(bounty.ticket.get_absolute_url()).content.decode()
    assert "First Fix" in client.get("/people/bob/").content.decode()
