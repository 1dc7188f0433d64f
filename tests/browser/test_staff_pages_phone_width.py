"""Every page staff use, at phone width (390 x 844), as an agent (bob), a manager (carol) and an
admin (dave): nothing scrolls sideways. A wide table or a long word scrolls inside its own box."""
import pytest

from tests.browser.conftest import off_thread, sign_in
from tests.browser.test_csp_pages import pages_for, seed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# What sticks out past the right edge, outside any box that scrolls or clips it.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    const parent = el.parentElement.getBoundingClientRect();
    if (parent.right > width + 1) continue;  // its parent is reported instead
    culprits.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
      " (right edge " + Math.round(box.right) + ")");
  }
  return {scroll: document.documentElement.scrollWidth, width: width, culprits: culprits.slice(0, 5)};
}"""


def test_no_staff_page_scrolls_sideways_on_a_phone(browser, asgi_server):
    data = off_thread(seed)
    everyone = set(pages_for("end_user", data))
    plan = {
        # The agent walks every page staff have, the shared ones included; the manager and the
        # admin walk theirs (their header and menus are fuller) and the agent's daily ones.
        "bob": pages_for("agent", data),
        "carol": ["/", "/queue/", data["any_ticket"], *[u for u in pages_for("manager", data) if u not in everyone]],
        "dave": ["/", "/queue/", data["any_ticket"], *[u for u in pages_for("admin", data) if u not in everyone]],
    }
    wide = []
    for username, urls in plan.items():
        context = browser.new_context(
            base_url=asgi_server.extra["base_url"], viewport={"width": 390, "height": 844}, is_mobile=True,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        for url in dict.fromkeys(urls):
            page.goto(url)
            found = page.evaluate(OVERFLOW)
            if found["scroll"] > found["width"]:
                wide.append(f"{username} {url}: {found['scroll']} px wide in {found['width']}: {', '.join(found['culprits'])}")
        context.close()
    assert not wide, "pages that scroll sideways at 390 px:\n" + "\n".join(wide)
