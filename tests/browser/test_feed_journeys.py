"""The feed and walls in a real browser against a real server: "N new — show" arrives live and
shows the new items in place; a tagged post is found and liked on its tag's page; axe-core on
every page on the way."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, off_thread, record_sockets, sign_in
from tests.conftest import PASSWORD
from tickets import services
from tickets.models import Kind, Visibility

pytestmark = pytest.mark.browser

LIVE = 2_000  # ms: how long a live update may take to show up


def test_erin_follows_an_incident_and_sees_a_reply_arrive_in_her_feed(alice, bob, erin, new_page):
    ticket = off_thread(
        services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Shared drive S: is read-only",
        description="Since the update this morning.", visibility=Visibility.PUBLIC, impact=2, urgency=2,
    )

    page = new_page()
    sign_in(page, "erin", PASSWORD)
    page.goto(ticket.get_absolute_url())
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(page.locator("#conversation-section")).to_have_attribute("data-live-subscribed", "true", timeout=10_000)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    page.wait_for_url("**/feed/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your feed")
    feed = page.locator("#feed-list")
    expect(feed).to_contain_text("logged INC-")  # following brought the ticket's history along
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live", timeout=10_000)
    page.evaluate("window.feedPageMarker = 'still here'")

    off_thread(services.comment_add, actor=bob, ticket=ticket, body="We are rolling the update back now.")

    show = page.get_by_role("button", name="1 new \u2014 show")
    expect(show).to_be_visible(timeout=LIVE)
    expect(feed).not_to_contain_text("rolling the update back")
    assert_accessible(page)

    show.click()
    expect(page.locator("#feed-list")).to_contain_text("We are rolling the update back now.")
    expect(page.locator("#feed-list")).to_contain_text("Bob Okafor")
    expect(show).to_be_hidden()
    assert page.evaluate("window.feedPageMarker") == "still here", "the page was not reloaded"
    expect(page.locator("#feed-list")).to_be_focused()

    # The tabs keep their filter in the address.
    page.get_by_role("navigation", name="Feed filter").get_by_role("link", name="Tickets").click()
    page.wait_for_url("**/feed/?context=tickets")
    expect(page.locator("#feed-list")).to_contain_text("rolling the update back")
    page.get_by_role("navigation", name="Feed filter").get_by_role("link", name="People").click()
    expect(page.locator("#feed-list")).not_to_contain_text("rolling the update back")


def test_a_tagged_post_reaches_the_tag_page_and_is_liked(alice, bob, erin, new_page):
    writer = new_page()
    sign_in(writer, "alice", PASSWORD)
    writer.goto("/people/alice/")
    expect(writer.get_by_role("heading", level=1)).to_have_text("Alice Martin")
    writer.get_by_label("Share with your followers").fill("The #vpn client 5.2 fixes the drops. Thanks @erin for testing!")
    writer.get_by_role("button", name="Post", exact=True).click()
    expect(writer.get_by_role("status").filter(has_text="Posted.")).to_be_visible()
    wall = writer.locator("#wall-list")
    expect(wall).to_contain_text("fixes the drops")
    assert_accessible(writer)

    reader = new_page()
    sign_in(reader, "erin", PASSWORD)
    reader.goto("/tags/vpn/")
    expect(reader.get_by_role("heading", level=1)).to_have_text("#vpn")
    items = reader.locator("#wall-list")
    expect(items).to_contain_text("client 5.2 fixes the drops")
    assert_accessible(reader)

    reader.get_by_role("button", name=re.compile(r"^Like the post by Alice Martin")).click()
    reader.wait_for_url("**/tags/vpn/")
    expect(items).to_contain_text("1 like")
    expect(reader.get_by_role("button", name=re.compile(r"^Unlike the post by Alice Martin"))).to_be_visible()

    # The post's own page: comments, and no edit or delete for someone else's post.
    # One link per card: the line itself leads to the post ("0 comments" is plain text now).
    expect(items).to_contain_text("0 comments")
    items.get_by_role("link", name=re.compile(r"^Alice Martin posted")).first.click()
    reader.wait_for_url(re.compile(r"/posts/\d+/$"))
    expect(reader.get_by_role("heading", level=1)).to_have_text("Post by Alice Martin")
    expect(reader.locator("#like-count")).to_have_text("1 like")
    expect(reader.get_by_text("Edit post")).to_have_count(0)
    reader.get_by_label("Add a comment").fill("Works for me too.")
    reader.get_by_role("button", name="Comment", exact=True).click()
    expect(reader.locator("#comments")).to_contain_text("Works for me too.")
    assert_accessible(reader)

    # Erin's follow from Alice's page shows in "Who follows this".
    reader.goto("/people/alice/")
    reader.get_by_role("button", name="Follow", exact=True).click()
    expect(reader.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(reader.get_by_role("complementary", name="About Alice Martin")).to_contain_text("Erin Walsh")
    assert_accessible(reader)


def test_the_feed_fills_the_gap_after_the_connection_is_cut(alice, bob, erin, new_page, asgi_server, stack_env, log_dir):
    from feeds import services as feeds
    from tests.support.processes import start_asgi_server

    off_thread(feeds.follow_create, actor=erin, target_type="user", key="bob")
    page = new_page()
    sockets = record_sockets(page)
    sign_in(page, "erin", PASSWORD)
    page.goto("/feed/")
    indicator = page.locator("#live-indicator")
    expect(indicator).to_have_attribute("data-state", "live", timeout=10_000)
    page.evaluate("window.feedPageMarker = 'still here'")

    # The server goes away; two things happen while the page cannot hear of them.
    port = asgi_server.extra["port"]
    asgi_server.kill()
    expect(indicator).not_to_have_attribute("data-state", "live", timeout=10_000)
    for text in ("Printer queue cleared on floor 3", "VPN certificates renewed"):
        off_thread(feeds.post_create, actor=bob, wall_type="user", wall_key="bob", body=text)

    restarted = start_asgi_server(stack_env, log_dir, port=port)
    try:
        # The client backs off up to 15 s between attempts, with jitter; "live" means welcomed.
        show = page.get_by_role("button", name="2 new \u2014 show")
        try:
            expect(indicator).to_have_attribute("data-state", "live", timeout=45_000)
            expect(show).to_be_visible(timeout=15_000)
        except AssertionError as failure:
            raise AssertionError(
                f"{failure}\n--- sockets\n" + "\n".join(sockets) + f"\n--- restarted server\n{restarted.log()}"
            ) from None
        show.click()
        feed = page.locator("#feed-list")
        expect(feed).to_contain_text("Printer queue cleared on floor 3")
        expect(feed).to_contain_text("VPN certificates renewed")
        assert page.evaluate("window.feedPageMarker") == "still here", "the page was not reloaded"
    finally:
        restarted.stop()


def test_erin_saves_a_view_of_her_feed(alice, bob, erin, new_page):
    from feeds import services as feeds

    ticket = off_thread(
        services.ticket_create, actor=alice, kind=Kind.INCIDENT, title="Badge reader at gate B", visibility=Visibility.PUBLIC,
        impact=3, urgency=2,
    )
    off_thread(feeds.follow_create, actor=erin, target_type="ticket", key=ticket.pk)
    off_thread(services.comment_add, actor=bob, ticket=ticket, body="A technician is on the way.")
    page = new_page()
    sign_in(page, "erin", PASSWORD)
    page.goto("/feed/")
    page.get_by_label("Only about").select_option(f"ticket:{ticket.pk}")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#feed-list")).to_contain_text("A technician is on the way.")
    page.get_by_label("Save this view as").fill("Gate B")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("list", name="Saved views")).to_contain_text("Gate B")
    assert_accessible(page)
