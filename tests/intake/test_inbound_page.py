"""The inbound channels page: admins only, secrets never shown, a fixed number of queries."""
import pytest
from django.test import Client

from servicedesk.errors import Forbidden

from intake import services
from intake.models import Mailbox

from . import messages as m


def signed_in(client, user):
    client.force_login(user)
    return client


def test_admins_see_mailboxes_errors_and_the_could_not_import_list(client, dave, bob, django_assert_max_num_queries):
    mailbox = services.mailbox_save(actor=dave, name="IT", kind="imap", address="it@example.com", host="imap.example.com",
                                    port=993, use_tls=True, username="it", secret="hunter2-secret", folder="INBOX",
                                    team=bob.team, unknown_senders="refuse")
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="LoginError: authentication failed")
    for n in range(3):
        services.mail_ingest(raw=m.broken_mime().replace(b"broken.1", f"broken.{n}".encode()), mailbox=mailbox)
    signed_in(client, dave)
    with django_assert_max_num_queries(12):
        response = client.get("/inbound/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "imap.example.com" in text and "authentication failed" in text and "Broken MIME" in text
    assert "hunter2-secret" not in text


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_people_who_are_not_admins_are_refused(client, who, request):
    user = request.getfixturevalue(who)
    assert signed_in(client, user).get("/inbound/").status_code == 403


def test_a_mailbox_is_added_from_the_page_and_its_secret_kept_hidden(client, dave):
    response = signed_in(client, dave).post("/inbound/", {
        "form": "mailbox", "mailbox-name": "Facilities", "mailbox-kind": "imap", "mailbox-address": "fm@example.com",
        "mailbox-host": "imap.example.com", "mailbox-port": "993", "mailbox-use_tls": "on", "mailbox-username": "fm",
        "mailbox-secret": "s3cret-value", "mailbox-folder": "INBOX", "mailbox-unknown_senders": "create",
    })
    assert response.status_code == 302
    assert Mailbox.objects.get(name="Facilities").secret == "s3cret-value"
    assert "s3cret-value" not in client.get("/inbound/").content.decode()


def test_an_imap_mailbox_without_a_host_is_a_clear_400(client, dave):
    response = signed_in(client, dave).post("/inbound/", {
        "form": "mailbox", "mailbox-name": "X", "mailbox-kind": "imap", "mailbox-address": "x@example.com",
        "mailbox-port": "993", "mailbox-folder": "INBOX", "mailbox-unknown_senders": "refuse",
    })
    assert response.status_code == 400 and "IMAP server and the user" in response.content.decode() and not Mailbox.objects.filter(name="X").exists()


def imap_box(dave, **extra):
    return services.mailbox_save(actor=dave, **{
        "name": "IT", "kind": "imap", "address": "it@example.com", "host": "imap.example.com", "port": 993,
        "use_tls": True, "username": "it", "secret": "kept-secret", "folder": "INBOX", "team": None,
        "unknown_senders": "refuse", **extra})


def test_editing_a_mailbox_keeps_its_secret_unless_a_new_one_is_typed(client, dave):
    mailbox = imap_box(dave)
    signed_in(client, dave)
    page = client.get(f"/inbound/mailboxes/{mailbox.pk}/")
    assert page.status_code == 200 and "imap.example.com" in page.content.decode() and "kept-secret" not in page.content.decode()
    form = {"mailbox-name": "IT desk", "mailbox-kind": "imap", "mailbox-address": "it@example.com",
            "mailbox-host": "mail.example.com", "mailbox-port": "143", "mailbox-username": "it", "mailbox-secret": "",
            "mailbox-folder": "Desk", "mailbox-unknown_senders": "create"}
    assert client.post(f"/inbound/mailboxes/{mailbox.pk}/", form).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.host, mailbox.port, mailbox.use_tls, mailbox.folder, mailbox.secret) == (
        "IT desk", "mail.example.com", 143, False, "Desk", "kept-secret")
    assert client.post(f"/inbound/mailboxes/{mailbox.pk}/", {**form, "mailbox-secret": "new-secret"}).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.secret == "new-secret"


def test_a_bad_mailbox_edit_is_a_clear_400_and_changes_nothing(client, dave):
    mailbox = imap_box(dave)
    services.mailbox_save(actor=dave, name="Other", kind="receiver", address="other@example.com")
    response = signed_in(client, dave).post(f"/inbound/mailboxes/{mailbox.pk}/", {
        "mailbox-name": "IT", "mailbox-kind": "imap", "mailbox-address": "other@example.com", "mailbox-host": "h",
        "mailbox-port": "993", "mailbox-username": "it", "mailbox-folder": "INBOX", "mailbox-unknown_senders": "refuse"})
    assert response.status_code == 400 and "Another mailbox has that address" in response.content.decode()
    mailbox.refresh_from_db()
    assert mailbox.address == "it@example.com"


def test_a_mailbox_is_deactivated_and_reactivated_from_the_page(client, dave):
    mailbox = imap_box(dave)
    signed_in(client, dave)
    assert client.post(f"/inbound/mailboxes/{mailbox.pk}/active/", {"active": "0"}).status_code == 302
    mailbox.refresh_from_db()
    assert not mailbox.active and "Reactivate" in client.get("/inbound/").content.decode()
    assert services.mailbox_poll(mailbox_id=mailbox.pk) == 0  # an inactive mailbox is not read
    client.post(f"/inbound/mailboxes/{mailbox.pk}/active/", {"active": "1"})
    mailbox.refresh_from_db()
    assert mailbox.active


def test_editing_a_chat_connection_keeps_its_kind_endpoints_and_secret(client, dave, alice):
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret="slack-secret", people={})
    signed_in(client, dave)
    page = client.get(f"/inbound/chat/{connection.pk}/").content.decode()
    assert "slack-secret" not in page and 'name="chat-kind"' not in page
    response = client.post(f"/inbound/chat/{connection.pk}/", {
        "chat-name": "Company Slack", "chat-secret": "", "chat-people": "U0ALICE = alice", "chat-outbound_channel": "relay"})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.name, connection.slug, connection.kind, connection.secret, connection.people, connection.outbound_channel) == (
        "Company Slack", "slack", "slack", "slack-secret", {"U0ALICE": "alice"}, "relay")
    assert "U0ALICE = alice" in client.get(f"/inbound/chat/{connection.pk}/").content.decode()
    bad = client.post(f"/inbound/chat/{connection.pk}/", {"chat-name": "Company Slack", "chat-people": "U0X = nobody-here"})
    assert bad.status_code == 400 and "No account named nobody-here" in bad.content.decode()


def test_a_teams_connection_edit_checks_a_new_token(client, dave):
    import base64

    token = base64.b64encode(b"token").decode()
    connection = services.chat_connection_create(actor=dave, name="Teams", kind="teams", secret=token, people={})
    bad = signed_in(client, dave).post(f"/inbound/chat/{connection.pk}/", {"chat-name": "Teams", "chat-secret": "not base64!"})
    assert bad.status_code == 400
    connection.refresh_from_db()
    assert connection.secret == token


def test_a_deactivated_chat_connection_answers_404(client, dave):
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret="slack-secret", people={})
    signed_in(client, dave).post(f"/inbound/chat/{connection.pk}/active/", {"active": "0"})
    connection.refresh_from_db()
    assert not connection.active
    assert Client().post(f"/intake/slack/{connection.slug}/commands/", b"text=x", content_type="application/x-www-form-urlencoded").status_code == 404


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_people_who_are_not_admins_cannot_edit_or_deactivate(client, who, request, dave):
    mailbox = imap_box(dave)
    connection = services.chat_connection_create(actor=dave, name="Slack", kind="slack", secret="slack-secret", people={})
    signed_in(client, request.getfixturevalue(who))
    assert client.get(f"/inbound/mailboxes/{mailbox.pk}/").status_code == 403
    assert client.post(f"/inbound/mailboxes/{mailbox.pk}/", {"mailbox-name": "Mine"}).status_code == 403
    assert client.post(f"/inbound/mailboxes/{mailbox.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"/inbound/chat/{connection.pk}/", {"chat-name": "Mine"}).status_code == 403
    assert client.post(f"/inbound/chat/{connection.pk}/active/", {"active": "0"}).status_code == 403
    mailbox.refresh_from_db()
    connection.refresh_from_db()
    assert (mailbox.name, mailbox.active, connection.name, connection.active) == ("IT", True, "Slack", True)
    with pytest.raises(Forbidden):
        services.channel_set_active(actor=request.getfixturevalue(who), channel=mailbox, active=False)


def test_unknown_channels_are_404_for_admins_and_signed_out_people_are_sent_to_sign_in(client, dave):
    assert client.get("/inbound/mailboxes/1/").status_code == 302
    signed_in(client, dave)
    assert client.get("/inbound/mailboxes/999/").status_code == 404
    assert client.post("/inbound/chat/999/active/", {"active": "0"}).status_code == 404
    assert client.get(f"/inbound/mailboxes/{imap_box(dave).pk}/active/").status_code == 405
