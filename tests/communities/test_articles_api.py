import pytest

pytestmark = pytest.mark.django_db


def test_revisions_diff_and_restore_lose_nothing(api_as, alice, bob):
    client = api_as(bob)
    created = client.post("/api/v1/articles/", {"title": "Reset your VPN token", "body": "1. Open the portal\n2. Click reset\n"}, format="json")
    assert created.status_code == 201 and created.json()["revision"] == 1
    aid = created.json()["id"]
    edited = client.patch(f"/api/v1/articles/{aid}/", {"body": "1. Open the portal\n2. Choose *Security*\n3. Click reset\n", "note": "clearer"}, format="json")
    assert edited.json()["revision"] == 2
    diff = client.get(f"/api/v1/articles/{aid}/diff/?from=1&to=2").json()["diff"]
    assert "-2. Click reset" in diff and "+2. Choose *Security*" in diff and "+3. Click reset" in diff
    restored = client.patch(f"/api/v1/articles/{aid}/", {"restore": 1}, format="json").json()
    assert restored["revision"] == 3 and restored["body"] == "1. Open the portal\n2. Click reset"
    revisions = client.get(f"/api/v1/articles/{aid}/revisions/").json()["results"]
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    assert revisions[0]["note"] == "Restored revision 1"
    assert client.get(f"/api/v1/articles/{aid}/diff/?from=1&to=9").status_code == 404
    assert client.get(f"/api/v1/articles/{aid}/diff/?from=a&to=2").status_code == 400


def test_helpful_once_and_not_on_your_own(api_as, alice, bob):
    aid = api_as(bob).post("/api/v1/articles/", {"title": "Printer drivers", "body": "Use the catalogue."}, format="json").json()["id"]
    assert api_as(bob).post(f"/api/v1/articles/{aid}/helpful/").status_code == 400
    assert api_as(alice).post(f"/api/v1/articles/{aid}/helpful/").json() == {"helpful_count": 1}
    assert api_as(alice).post(f"/api/v1/articles/{aid}/helpful/").status_code == 400


def test_private_community_articles_are_404_to_outsiders(api_as, alice, erin, bob):
    api_as(erin).post("/api/v1/communities/", {"name": "Payroll team", "slug": "payroll", "visibility": "private"}, format="json")
    created = api_as(erin).post("/api/v1/articles/", {"title": "Payroll close", "body": "Steps", "community": "payroll"}, format="json")
    assert created.status_code == 201
    aid = created.json()["id"]
    for method, path in (("get", f"/api/v1/articles/{aid}/"), ("get", f"/api/v1/articles/{aid}/revisions/"),
                         ("patch", f"/api/v1/articles/{aid}/"), ("post", f"/api/v1/articles/{aid}/helpful/")):
        assert getattr(api_as(alice), method)(path, {"body": "x"}, format="json").status_code == 404, path
    assert all(a["id"] != aid for a in api_as(alice).get("/api/v1/articles/").json()["results"])
    assert api_as(alice).post("/api/v1/articles/", {"title": "x", "body": "y", "community": "payroll"}, format="json").status_code == 404


def test_article_bad_input(api_as, bob):
    client = api_as(bob)
    assert client.post("/api/v1/articles/", {"title": "", "body": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/articles/", {"title": "x", "body": "y", "service": 999999}, format="json").status_code == 400
    aid = client.post("/api/v1/articles/", {"title": "x", "body": "y"}, format="json").json()["id"]
    assert client.patch(f"/api/v1/articles/{aid}/", {"body": "  "}, format="json").status_code == 400


def test_only_members_edit_an_open_communitys_articles(api_as, alice, erin):
    api_as(erin).post("/api/v1/communities/", {"name": "Outlook tips", "slug": "outlook"}, format="json")
    aid = api_as(erin).post("/api/v1/articles/", {"title": "Rules", "body": "Use rules", "community": "outlook"}, format="json").json()["id"]
    assert api_as(alice).get(f"/api/v1/articles/{aid}/").status_code == 200, "open: anyone reads"
    assert api_as(alice).patch(f"/api/v1/articles/{aid}/", {"body": "changed"}, format="json").status_code == 403
    api_as(alice).post("/api/v1/communities/outlook/join/")
    assert api_as(alice).patch(f"/api/v1/articles/{aid}/", {"body": "changed"}, format="json").json()["revision"] == 2
