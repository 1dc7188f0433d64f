import io
import os

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _photo(tmp_path):
    path = tmp_path / "me.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 90, 160)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_alice_edits_her_profile_and_sees_it_on_her_page(alice, new_page, tmp_path, viewport):
    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, "alice", PASSWORD)
    page.goto("/account/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/profile-empty-{viewport['width']}.png", full_page=True)
    expect(page.get_by_label("Name", exact=True)).to_be_in_viewport()
    if viewport["width"] == 1280:
        expect(page.get_by_role("button", name="Save profile")).to_be_in_viewport()
    assert_accessible(page)

    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_label("Job title").fill("Accountant")
    page.get_by_label("Location").fill("Lyon")
    page.get_by_label("Expertise").fill("Excel, payroll")
    page.get_by_label("Photo").set_input_files(str(_photo(tmp_path)))
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/profile-{viewport['width']}.png", full_page=True)

    page.get_by_role("link", name="your page").click()
    expect(page.get_by_text("Accountant").first).to_be_visible()
    expect(page.get_by_role("link", name="#payroll")).to_be_visible()
    assert page.locator(".person .avatar img").evaluate("img => img.complete && img.naturalWidth === 256")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_wrong_photo_is_explained_next_to_the_field(alice, new_page, tmp_path):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.goto("/account/profile/")
    fake = tmp_path / "photo.png"
    fake.write_text("not an image")
    page.get_by_label("Photo").set_input_files(str(fake))
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert")).to_contain_text("Photo: That file is not an image we can read.")
    expect(page.get_by_label("Photo")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_sign_in_history_names_the_browser(alice, new_page):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "alice", PASSWORD)
    page.goto("/account/sign-ins/")
    expect(page.locator("#signins-caption")).to_have_count(1)
    expect(page.get_by_text("New device").first).to_be_visible()
    expect(page.get_by_text("Chrome", exact=False).first).to_be_visible()
    assert_accessible(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/signins-390.png", full_page=True)
