import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import services
from accounts.models import LoginRecord, User
from servicedesk.errors import Forbidden
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")


def image_bytes(size=(640, 480), fmt="JPEG", exif=False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        kwargs["exif"] = data
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def upload(data: bytes, name="me.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def signed_in(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_profile_page_shows_my_values_and_a_time_zone_select(signed_in, alice):
    services.profile_update(actor=alice, user=alice, fields={"title": "Accountant", "expertise_tags": ["excel"]})
    html = signed_in(alice).get(reverse("accounts:profile")).content.decode()
    assert 'value="Accountant"' in html and 'value="excel"' in html
    assert '<select name="time_zone"' in html and '<optgroup label="Europe">' in html
    assert '<option value="Europe/Paris">Paris</option>' in html


def test_saving_the_form_updates_the_profile(signed_in, alice):
    response = signed_in(alice).post(reverse("accounts:profile"), {
        "display_name": "  Alice   Martin ", "title": "Senior accountant", "location": "Lyon, building B",
        "expertise_tags": "Excel macros, VPN, vpn,  ", "time_zone": "Europe/Paris",
        "avatar": upload(image_bytes(exif=True)),
    })
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.display_name, alice.title, alice.location) == ("Alice Martin", "Senior accountant", "Lyon, building B")
    assert alice.expertise_tags == ["excel macros", "vpn"] and alice.time_zone == "Europe/Paris"
    with default_storage.open(alice.avatar.name) as stored, Image.open(stored) as photo:
        assert (photo.format, photo.size) == ("PNG", (256, 256))
        assert not photo.getexif(), "metadata of the upload is dropped"
    page = signed_in(alice).get(reverse("feeds:person", args=["alice"])).content.decode()
    assert f'<img src="{alice.avatar.url}"' in page and "Lyon, building B" in page


def test_a_refused_field_saves_nothing_and_says_why(signed_in, alice):
    client = signed_in(alice)
    response = client.post(reverse("accounts:profile"), {
        "display_name": "Alice", "title": "Changed", "time_zone": "Mars/Olympus", "expertise_tags": "",
    })
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = client.post(reverse("accounts:profile"), {
        "display_name": "Alice", "title": "Changed", "time_zone": "UTC",
        "avatar": upload(b"<?php echo 1; ?>", name="me.png", content_type="image/png"),
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "That file is not an image we can read." in html and 'aria-invalid="true"' in html
    alice.refresh_from_db()
    assert alice.title == "" and not alice.avatar


def test_photo_limits(alice, settings):
    with pytest.raises(services.ApplicationError) as too_big:
        services.profile_update(actor=alice, user=alice, fields={}, avatar=upload(b"x" * (5 * 1024 * 1024 + 1)))
    assert too_big.value.errors == {"avatar": ["Photos can be up to 5 MB."]}
    with pytest.raises(services.ApplicationError) as bmp:
        services.profile_update(actor=alice, user=alice, fields={}, avatar=upload(image_bytes(fmt="BMP"), name="a.bmp"))
    assert bmp.value.errors == {"avatar": ["Use a JPEG, PNG, GIF or WebP image."]}
    with pytest.raises(services.ApplicationError) as tags:
        services.profile_update(actor=alice, user=alice, fields={"expertise_tags": [f"t{i}" for i in range(16)]})
    assert "expertise_tags" in tags.value.errors


def test_nobody_edits_someone_elses_profile(alice, bob):
    with pytest.raises(Forbidden):
        services.profile_update(actor=bob, user=alice, fields={"title": "Hacked"})
    alice.refresh_from_db()
    assert alice.title == ""


def test_api_patch_me(api_as, api, alice):
    client = api_as(alice)
    body = client.patch("/api/v1/me/", {"title": "Payroll", "expertise_tags": ["SAP", "payroll"],
                                        "time_zone": "America/New_York"}, format="json").json()
    assert body["title"] == "Payroll" and body["expertise_tags"] == ["payroll", "sap"]
    assert User.objects.get(pk=alice.pk).time_zone == "America/New_York"

    bad = client.patch("/api/v1/me/", {"time_zone": "Nowhere/Land", "title": "Lost"}, format="json")
    assert bad.status_code == 400 and "time_zone" in bad.json()["errors"]
    blank = client.patch("/api/v1/me/", {"display_name": "   "}, format="json")
    assert blank.status_code == 400 and set(blank.json()) >= {"message", "errors"}
    unknown = client.patch("/api/v1/me/", {"role": "admin"}, format="json")
    assert User.objects.get(pk=alice.pk).role == "end_user" and unknown.status_code in (200, 400)
    assert User.objects.get(pk=alice.pk).title == "Payroll"
    assert api.patch("/api/v1/me/", {"title": "x"}, format="json").status_code == 401


def test_api_avatar_put_and_delete(api_as, alice, django_capture_on_commit_callbacks):
    client = api_as(alice)
    body = client.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes(fmt="PNG"), name="a.png")}, format="multipart").json()
    alice.refresh_from_db()
    name = alice.avatar.name
    assert body["avatar"] == alice.avatar.url and default_storage.exists(name)
    refused = client.put("/api/v1/me/avatar/", {"avatar": upload(b"GIF89a-not-really", name="a.gif")}, format="multipart")
    assert refused.status_code == 400 and refused.json()["errors"] == {"avatar": ["That file is not an image we can read."]}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete("/api/v1/me/avatar/").status_code == 204
    alice.refresh_from_db()
    assert not alice.avatar and not default_storage.exists(name)


def test_photos_are_served_to_signed_in_people_only(client, signed_in, alice, erin):
    services.profile_update(actor=alice, user=alice, fields={}, avatar=upload(image_bytes()))
    alice.refresh_from_db()
    assert client.get(alice.avatar.url).status_code == 302
    response = signed_in(erin).get(alice.avatar.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert signed_in(erin).get("/media/avatars/missing.png").status_code == 404


def sign_in(client, user_agent):
    return client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD}, HTTP_USER_AGENT=user_agent)


def test_sign_in_history_names_browser_and_flags_new_devices(client, api_as, alice):
    assert sign_in(client, FIREFOX).status_code == 302
    client.post(reverse("accounts:logout"))
    assert sign_in(client, FIREFOX).status_code == 302  # the same browser, now remembered
    other = client_class()
    assert sign_in(other, IPHONE).status_code == 302

    html = client.get(reverse("accounts:signins")).content.decode()
    assert "Firefox 121 on Ubuntu" in html and "Mobile Safari 17 on iOS 17.1" in html
    assert html.count(">New device</span>") == 2
    rows = api_as(alice).get("/api/v1/me/logins/").json()["results"]
    assert [(r["device_name"], r["new_device"]) for r in rows] == [
        ("Mobile Safari 17 on iOS 17.1", True), ("Firefox 121 on Ubuntu", False), ("Firefox 121 on Ubuntu", True),
    ]
    assert LoginRecord.objects.filter(user=alice).count() == 3


def client_class():
    from django.test import Client

    return Client()


def test_preferences_time_zone_is_a_select(signed_in, alice):
    client = signed_in(alice)
    html = client.get(reverse("feeds:preferences")).content.decode()
    assert '<select name="time_zone"' in html
    response = client.post(reverse("feeds:preferences"), {"time_zone": "Europe/Nowhere"})
    assert response.status_code == 400
