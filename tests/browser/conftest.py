import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.integration.conftest import asgi_server, log_dir, stack_env  # noqa: F401 - shared fixtures
from tests.support.processes import ROOT

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def browser():
    def chromium_present():
        if not Path(CHROMIUM).exists():
            raise FileNotFoundError(f"{CHROMIUM} (apt-get install -y chromium)")
        if not AXE.exists():
            raise FileNotFoundError(f"{AXE} (npm ci)")

    require_service("Chromium", chromium_present)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # plain synchronous code, so Django's async-safety guard does not apply to them. Server
    # processes are started without this variable.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_page(browser, asgi_server):  # noqa: F811
    contexts = []

    def make():
        context = browser.new_context(base_url=asgi_server.extra["base_url"])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def off_thread(fn, *args, **kwargs):
    """Run server-side code (a service call) outside Playwright's event-loop thread.

    Services push live events with async_to_sync, which refuses to run inside a running loop.
    """
    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's connection would outlive it and block teardown

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def record_sockets(page) -> list[str]:
    """What the page's websockets did, in order: kept for a failing test's message."""
    import time

    events: list[str] = []
    started = time.monotonic()

    def note(text):
        events.append(f"{time.monotonic() - started:7.2f}s {text}")

    def watch(ws):
        note(f"open {ws.url}")
        ws.on("framesent", lambda payload: note(f"sent {payload}"))
        ws.on("framereceived", lambda payload: note(f"received {str(payload)[:300]}"))
        ws.on("socketerror", lambda error: note(f"error {error}"))
        ws.on("close", lambda _ws: note("closed"))

    page.on("websocket", watch)
    page.on("console", lambda message: note(f"console {message.type}: {message.text}"))
    return events


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def assert_accessible(page) -> None:
    """axe-core over the current page: no serious or critical violations."""
    # Let entry animations (a toast fading in) finish: mid-fade colours are not what people read.
    page.evaluate(
        """async () => { await Promise.all(document.getAnimations()
            .filter(a => a.effect && isFinite(a.effect.getComputedTiming().endTime))
            .map(a => a.finished.catch(() => null))); }"""
    )
    # Served as a same-origin file (the CSP refuses inline scripts, which add_script_tag(path=)
    # would create), through the browser context so that no server route is needed.
    if not getattr(page, "_axe_routed", False):
        page.route("**/__axe-core.min.js", lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"))
        page._axe_routed = True
    page.add_script_tag(url="/__axe-core.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    details = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} :: " + "; ".join(n["target"][0] for n in v["nodes"][:5]) for v in bad
    )
    assert not bad, f"accessibility violations on {page.url}:\n{details}"
