"""The main navigation by role: daily pages on the bar, staff tools in one "Manage" menu, and the
current page marked on its link and on the menu that holds it."""
import re

import pytest

pytestmark = pytest.mark.django_db

@pytest.fixture
def carol(make_user):
    return make_user("carol", role="manager", display_name="Carol Diaz")


BAR = ["Home", "Feed", "Portal", "My tickets", "Communities", "Knowledge", "Leaderboard", "Notifications"]


@pytest.fixture
def nav(client):
    def get(user, path="/"):
        client.force_login(user)
        page = client.get(path).content.decode()
        main = re.search(r'<nav class="main-nav" aria-label="Main">(.*?)</nav>', page, re.S).group(1)
        manage = re.search(r'<summary([^>]*)>Manage</summary>(.*?)</details>', main, re.S)
        bar = re.sub(r"<details.*?</details>", "", main, flags=re.S)
        return {
            "bar": [re.sub(r"<[^>]+>|\d+", "", text).strip() for text in re.findall(r"<a [^>]*>(.*?)</a>", bar, re.S)],
            "manage": re.findall(r"<a [^>]*>([^<]*)</a>", manage.group(2)) if manage else None,
            "manage_summary": manage.group(1) if manage else None,
            "html": main,
        }

    return get


def test_an_end_user_has_the_daily_bar_and_no_manage_menu(nav, alice):
    seen = nav(alice)
    assert seen["bar"] == BAR
    assert seen["manage"] is None
    assert "/api/docs/" not in seen["html"] and "/admin/" not in seen["html"]


def test_agents_keep_the_queue_on_the_bar_and_find_listening_and_the_api_under_manage(nav, bob):
    seen = nav(bob)
    assert seen["bar"] == BAR[:6] + ["Queue"] + BAR[6:]
    assert seen["manage"] == ["Listening", "API"]


def test_managers_find_the_dashboard_and_communications_under_manage(nav, carol):
    seen = nav(carol)
    assert "Queue" in seen["bar"] and "Dashboard" not in seen["bar"]
    assert seen["manage"] == ["Dashboard", "Communications", "API"]


def test_admins_also_find_administration_under_manage(nav, dave):
    assert nav(dave)["manage"] == ["Dashboard", "Communications", "Inbound channels", "API", "Administration"]


@pytest.mark.parametrize("path, link", [("/manage/", "Dashboard"), ("/communications/review/", "Communications"),
                                        ("/inbound/", "Inbound channels")])
def test_a_page_inside_the_menu_marks_its_link_and_the_menu(nav, dave, path, link):
    seen = nav(dave, path)
    assert 'aria-current="true"' in seen["manage_summary"]
    assert re.search(rf'aria-current="page">{link}</a>', seen["html"])
    assert 'aria-current="page"' not in re.sub(r"<details.*?</details>", "", seen["html"], flags=re.S)


def test_daily_pages_do_not_mark_the_menu(nav, dave):
    seen = nav(dave, "/feed/")
    assert 'aria-current' not in seen["manage_summary"]
    assert 'aria-current="page">Feed</a>' in seen["html"]


def test_account_pages_mark_the_account_menu(nav, alice):
    html = nav(alice, "/account/sign-ins/")["html"]
    assert re.search(r'<summary aria-current="true">Account</summary>', html)
