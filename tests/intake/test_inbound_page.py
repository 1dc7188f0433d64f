"""The inbound channels page: admins only, secrets never shown, a fixed number of queries."""
import pytest

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
