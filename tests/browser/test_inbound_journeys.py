"""Dave sets up the ways people write to the desk and sees what could not be imported; Alice's
ticket shows that it and her reply came by e-mail, the reply arriving live."""
import pytest
from playwright.sync_api import expect

from intake import services as intake
from intake.models import Mailbox
from tests.browser.conftest import assert_accessible, off_thread, sign_in
from tests.conftest import PASSWORD
from tests.intake import messages as m

pytestmark = pytest.mark.browser
SHOTS = "/tmp/inbound-shots"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_dave_manages_inbound_channels_and_sees_what_could_not_be_imported(bob, dave, new_page):
    mailbox = off_thread(intake.mailbox_save, actor=dave, name="IT mailbox", kind="imap", address="it@example.com",
                         host="imap.example.com", port=993, use_tls=True, username="it", secret="imap-secret-never-shown",
                         folder="INBOX", team=bob.team, unknown_senders="refuse")
    off_thread(lambda: Mailbox.objects.filter(pk=mailbox.pk).update(last_error="LoginError: authentication failed"))
    off_thread(intake.mail_ingest, raw=m.broken_mime(), mailbox=mailbox)

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "dave", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Manage", exact=True).click()
    nav.get_by_role("link", name="Inbound channels").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbound channels")
    mailbox_row = page.get_by_role("row", name="IT mailbox")
    expect(mailbox_row).to_contain_text("authentication failed")
    expect(mailbox_row).to_be_in_viewport()
    expect(page.get_by_role("region", name="Could not import").first).to_contain_text("Broken MIME")
    assert "imap-secret-never-shown" not in page.content()
    page.screenshot(path=f"{SHOTS}/inbound-1280.png")
    assert_accessible(page)

    # A Slack connection: its endpoints are shown to paste into Slack, its secret never again.
    page.get_by_label("Name", exact=True).last.fill("Company Slack")
    page.get_by_label("Kind", exact=True).last.select_option("slack")
    page.get_by_label("Signing secret or security token").fill("slack-signing-secret-xyz")
    page.locator("#id_chat-people").fill("U0DAVE = dave")
    page.get_by_role("button", name="Add connection").click()
    row = page.get_by_role("row", name="Company Slack")
    expect(row).to_contain_text("/intake/slack/company-slack/commands/")
    assert "slack-signing-secret-xyz" not in page.content()
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbound channels")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{SHOTS}/inbound-390.png", full_page=True)


def test_alice_sees_her_ticket_came_by_e_mail_and_her_e_mailed_reply_arrives_live(alice, bob, new_page):
    mailbox = off_thread(Mailbox.objects.create, name="Desk", kind="receiver", address="desk@localhost", team=bob.team)
    ticket = off_thread(intake.mail_ingest, raw=m.new_message(), mailbox=mailbox).ticket

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-facts [data-channel='email']")).to_have_text("via E-mail")
    page.screenshot(path=f"{SHOTS}/ticket-1280.png")
    assert_accessible(page)

    off_thread(intake.mail_ingest, raw=m.reply(subject=f"Re: [{ticket.number}] Laptop will not boot"), mailbox=mailbox)
    comment = page.locator(".comment").filter(has_text="It works again, thanks.")
    expect(comment).to_be_visible()
    expect(comment.locator("[data-channel='email']")).to_have_text("via E-mail")
    expect(comment).not_to_contain_text("turning it off and on again")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{SHOTS}/ticket-390.png", full_page=True)


def test_dave_edits_a_mailbox_keeping_its_secret_and_deactivates_a_chat_connection(bob, dave, new_page):
    mailbox = off_thread(intake.mailbox_save, actor=dave, name="IT mailbox", kind="imap", address="it@example.com",
                         host="imap.example.com", port=993, use_tls=True, username="it", secret="imap-secret-never-shown",
                         folder="INBOX", team=bob.team, unknown_senders="refuse")
    off_thread(intake.chat_connection_create, actor=dave, name="Company Slack", kind="slack",
               secret="slack-signing-secret-xyz", people={"U0DAVE": "dave"})

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "dave", PASSWORD)
    page.goto("/inbound/")
    page.get_by_role("link", name="Edit IT mailbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit mailbox “IT mailbox”")
    expect(page.get_by_label("Host (optional)")).to_be_in_viewport()
    assert "imap-secret-never-shown" not in page.content()
    page.screenshot(path=f"{SHOTS}/edit-mailbox-1280.png")
    assert_accessible(page)
    page.get_by_label("Host (optional)").fill("mail.example.com")
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.get_by_role("row", name="IT mailbox")).to_contain_text("mail.example.com")
    assert off_thread(lambda: Mailbox.objects.get(pk=mailbox.pk).secret) == "imap-secret-never-shown"

    row = page.get_by_role("row", name="Company Slack")
    row.get_by_role("button", name="Deactivate Company Slack").click()
    row = page.get_by_role("row", name="Company Slack")
    expect(row).to_contain_text("Inactive")
    expect(row.get_by_role("button", name="Reactivate Company Slack")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/inbound-actions-1280.png", full_page=True)
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Edit Company Slack").click()
    expect(page.get_by_label("People")).to_have_value("U0DAVE = dave")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{SHOTS}/edit-chat-390.png", full_page=True)
    assert_accessible(page)
