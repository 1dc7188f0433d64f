import pytest

from feeds import services
from feeds.audience import Audience
from feeds.services import ObjectRef
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


def test_rss_and_atom_for_open_walls_with_a_revocable_secret(api_as, client, alice, erin, bob):
    services.post_create(actor=bob, wall_type="user", wall_key="bob", body="Patch night on Thursday #maintenance")
    services.activity_publish(  # addressed to bob alone: never in a shareable feed
        actor=None, verb="noted", obj=ObjectRef("user", "bob"),
        audience=Audience.of(users=[bob.pk]), summary="private to bob",
    )
    created = api_as(erin).post("/api/v1/feed-tokens/", {"label": "reader"}, format="json")
    assert created.status_code == 201
    key = created.json()["token"]

    rss = client.get(f"/rss/{key}/user/bob/")
    assert rss.status_code == 200 and rss["Content-Type"].startswith("application/rss+xml")
    body = rss.content.decode()
    assert "Patch night on Thursday" in body and "private to bob" not in body
    atom = client.get(f"/atom/{key}/tag/maintenance/")
    assert atom.status_code == 200 and atom["Content-Type"].startswith("application/atom+xml")
    assert "Patch night on Thursday" in atom.content.decode()

    private = tickets.ticket_create(actor=alice, kind="incident", title="Payroll", impact=2, urgency=2)
    assert client.get(f"/rss/{key}/ticket/{private.pk}/").status_code == 404
    assert client.get("/rss/not-a-key/user/bob/").status_code == 404

    token_id = created.json()["id"]
    assert api_as(alice).delete(f"/api/v1/feed-tokens/{token_id}/").status_code == 404, "only the owner revokes"
    assert api_as(erin).delete(f"/api/v1/feed-tokens/{token_id}/").status_code == 204
    assert client.get(f"/rss/{key}/user/bob/").status_code == 404
