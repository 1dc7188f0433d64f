"""Every page of the app, as each role, in Chromium under the real Content-Security-Policy: no
violation (the `securitypolicyviolation` events of the page and Chromium's "Refused to ..."
console messages), no script error, and the interactive bits still work (htmx requests, the live
indicator, the theme toggle, the notifications page's script, Swagger UI)."""
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from communities.models import Article, Community, Idea, Poll, Question
from feeds.models import Post
from gamification.models import Campaign
from policies.models import Channel, OutboundPost, Policy
from tests.browser.conftest import off_thread, sign_in
from tests.conftest import PASSWORD
from tickets.models import Service, Ticket, Visibility

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + (event.sourceFile || "") + ":" + event.lineNumber);
});
"""


def seed() -> dict:
    call_command("seed_demo", password=PASSWORD)
    open_community = Community.objects.filter(visibility=Community.Visibility.OPEN).order_by("pk").first()
    idea = Idea.objects.select_related("community").order_by("pk").first()
    alice = User.objects.get(username="alice")
    return {
        "community": f"/communities/{open_community.slug}/",
        "poll_community": f"/communities/{Poll.objects.select_related('community').order_by('pk').first().community.slug}/",
        "private_community": f"/communities/{Community.objects.filter(visibility='private').first().slug}/",
        "question": f"/questions/{Question.objects.order_by('pk').first().pk}/",
        "article": f"/articles/{Article.objects.filter(community__isnull=True).order_by('pk').first().pk}/"
        if Article.objects.filter(community__isnull=True).exists()
        else f"/articles/{Article.objects.order_by('pk').first().pk}/",
        "idea": f"/communities/{idea.community.slug}/ideas/{idea.pk}/" if idea else None,
        "post": f"/posts/{Post.objects.filter(wall_type='user').order_by('pk').first().pk}/"
        if Post.objects.filter(wall_type="user").exists() else None,
        "campaign": f"/campaigns/{Campaign.objects.order_by('pk').first().pk}/",
        "service": f"/services/{Service.objects.order_by('pk').first().pk}/",
        "own_ticket": f"/tickets/{Ticket.objects.filter(requester=alice).order_by('pk').first().pk}/",
        "public_ticket": f"/tickets/{Ticket.objects.filter(visibility=Visibility.PUBLIC).order_by('pk').first().pk}/",
        "any_ticket": f"/tickets/{Ticket.objects.order_by('-pk').first().pk}/",
        "channel": f"/communications/channels/{Channel.objects.order_by('pk').first().pk}/",
        "policy": f"/communications/policies/{Policy.objects.order_by('pk').first().pk}/",
        "admin_user": f"/admin/accounts/user/{alice.pk}/change/",
        "outbound_post": f"/communications/outbound/{OutboundPost.objects.order_by('pk').first().pk}/"
        if OutboundPost.objects.exists() else None,
    }


def pages_for(role: str, data: dict) -> list[str]:
    everyone = [
        "/", "/feed/", "/portal/", "/tickets/mine/", "/tickets/followed/", data["own_ticket"], data["public_ticket"],
        "/communities/", data["community"], "/communities/ask/", data["question"], "/articles/", data["article"],
        "/articles/new/", data["idea"], "/leaderboard/", "/campaigns/", data["campaign"], "/notifications/",
        "/account/notifications/", "/account/sign-ins/", "/people/alice/",
        "/people/bob/", data["service"], "/tags/vpn/", data["post"], "/search/?q=printer",
        "/search/?q=vpn&tab=community", "/styleguide/", "/api/docs/", "/no/such/page/",
    ]
    staff = ["/queue/", data["any_ticket"], "/communications/", "/communications/listening/"]
    managers = ["/manage/", "/manage/rules/", data["private_community"]]
    admins = [
        "/communications/channels/", data["channel"], "/communications/policies/", data["policy"],
        "/communications/outbound/", data["outbound_post"], "/communications/review/", "/communications/audit/",
        "/communications/flags/", "/admin/", "/admin/accounts/user/", data["admin_user"], "/admin/tickets/ticket/",
    ]
    urls = everyone + {"end_user": [], "agent": staff, "manager": staff + managers, "admin": staff + managers + admins}[role]
    return [u for u in dict.fromkeys(urls) if u]


class Watcher:
    """What went wrong on a page: CSP violations, 'Refused to' console messages, script errors."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message):
        text = message.text
        if "Refused to" in text or "Content Security Policy" in text:
            self.problems.append(f"console: {text}")

    def check(self, url: str) -> list[str]:
        self.page.wait_for_timeout(150)  # violation events are queued as tasks
        found = self.page.evaluate("() => window.__cspViolations || []")
        problems = [f"{url}: {p}" for p in [*self.problems, *found]]
        self.problems.clear()
        self.page.evaluate("() => { window.__cspViolations = []; }")
        return problems


def watched_page(new_page):
    page = new_page()
    page.context.add_init_script(WATCH_VIOLATIONS)
    return page, Watcher(page)


def visit_all(page, watcher, urls) -> list[str]:
    problems = []
    for url in urls:
        response = page.goto(url, wait_until="load")
        expected = 404 if url == "/no/such/page/" else 200
        if response is None or response.status != expected:
            problems.append(f"{url}: answered {response.status if response else 'nothing'}")
        elif "script-src 'self'" not in response.headers.get("content-security-policy", ""):
            problems.append(f"{url}: no Content-Security-Policy")
        if url == "/api/docs/":
            expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=15_000)
        problems += watcher.check(url)
    return problems


def test_the_sign_in_page_and_an_anonymous_visit(new_page, stack_env):
    off_thread(seed)
    page, watcher = watched_page(new_page)
    problems = visit_all(page, watcher, ["/accounts/login/", "/no/such/page/"])
    sign_in(page, "alice", PASSWORD)
    problems += watcher.check("sign-in")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username,role", [("alice", "end_user"), ("bob", "agent"), ("carol", "manager"), ("dave", "admin")])
def test_every_page_keeps_to_the_policy(username, role, new_page, stack_env):
    data = off_thread(seed)
    page, watcher = watched_page(new_page)
    sign_in(page, username, PASSWORD)
    problems = visit_all(page, watcher, pages_for(role, data))
    assert not problems, "\n".join(problems)


def test_scripts_and_htmx_still_work_under_the_policy(new_page, stack_env):
    data = off_thread(seed)
    page, watcher = watched_page(new_page)
    sign_in(page, "alice", PASSWORD)

    # live.js: the socket connects and the indicator says so.
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live", timeout=15_000)

    # ui.js: the theme toggle shows itself and cycles; theme.js applies the choice on the next page.
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text("Theme: system")
    toggle.click()
    expect(toggle).to_have_text("Theme: light")
    page.goto("/feed/")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")

    # ui.js: menus close on Escape.
    account = page.locator("details.menu", has=page.locator("summary", has_text="Account"))
    account.locator("summary").click()
    expect(account).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(account).not_to_have_attribute("open", "")

    # htmx: the portal's suggestions are fetched as the summary is typed.
    page.goto("/portal/")
    with page.expect_response(lambda r: "/portal/suggestions/" in r.url and r.status == 200, timeout=15_000):
        page.get_by_label("Summary", exact=False).first.fill("printer jams")

    # htmx and notifications.js: "Mark all as read" swaps the list and announces it.
    page.goto("/notifications/")
    with page.expect_response(lambda r: "/notifications/read/" in r.url and r.status == 200):
        page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("#notification-status")).to_have_text("All notifications marked as read.")

    # A vote in a poll: the results draw their bars (<progress>, no inline style).
    page.goto(data["poll_community"])
    poll = page.locator("form", has=page.get_by_role("group", name="Your answer")).first
    poll.get_by_role("radio").first.check()
    poll.get_by_role("button", name="Vote").click()
    bars = page.locator("progress.poll-bar")
    expect(bars.first).to_be_visible()
    assert bars.count() >= 2
    assert sum(int(bars.nth(i).get_attribute("value")) for i in range(bars.count())) >= 99
    assert bars.first.bounding_box()["width"] > 50
    problems = watcher.check("interactions")
    assert not problems, "\n".join(problems)
