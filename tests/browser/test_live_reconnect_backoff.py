"""The live client's reconnect schedule: full-jitter exponential backoff (base 1 s, cap 30 s), at
least a second after a 1013 "try again later", and no retry after 4401/4403."""
import time

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# A WebSocket that never connects: every socket closes at once with window.__closeCode, and the
# time each one is created is recorded. Math.random is pinned so the jitter is known.
FAKE_SOCKETS = """
(() => {
  window.__opened = [];
  window.__closeCode = %(code)d;
  Math.random = () => %(random)s;
  class FakeSocket extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      window.__opened.push(performance.now());
      setTimeout(() => {
        this.readyState = 3;
        this.dispatchEvent(Object.assign(new Event("close"), { code: window.__closeCode, reason: "" }));
      }, 0);
    }
    send() {}
    close() {}
  }
  Object.assign(FakeSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = FakeSocket;
})();
"""


def _opened_at_least(page, count, timeout_ms):
    # Polled from here: the pages' Content-Security-Policy forbids wait_for_function's eval.
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        opened = page.evaluate("window.__opened || []")
        if len(opened) >= count:
            return opened
        time.sleep(0.1)
    raise AssertionError(f"only {len(opened)} sockets opened within {timeout_ms} ms")


def _gaps(page, count, timeout_ms):
    opened = _opened_at_least(page, count, timeout_ms)
    return [later - earlier for earlier, later in zip(opened, opened[1:])][: count - 1]


def test_the_backoff_schedule_doubles_from_one_second_up_to_thirty_with_full_jitter(alice, new_page):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    delay = "window.ServiceDeskLive.backoffDelay"
    highest = page.evaluate(f"[1, 2, 3, 4, 5, 6, 7, 12, 100].map(n => {delay}(n, () => 0.999999))")
    assert highest == [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999]
    assert page.evaluate(f"[1, 5, 100].map(n => {delay}(n, () => 0))") == [0, 0, 0]
    assert page.evaluate(f"{delay}(3, () => 0.5)") == 2000
    # Real randomness stays inside [0, ceiling) and is spread out.
    samples = page.evaluate(f"Array.from({{length: 400}}, () => {delay}(4))")
    assert all(0 <= s < 8000 for s in samples)
    assert len(set(samples)) > 100 and min(samples) < 2000 and max(samples) > 6000


@pytest.mark.parametrize("code", [1006, 1012, 1013])
def test_a_refused_or_dropped_socket_is_retried_on_the_doubling_schedule(code, alice, new_page):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.add_init_script(FAKE_SOCKETS % {"code": code, "random": "0.999"})
    page.goto("/")
    gaps = _gaps(page, 4, timeout_ms=30_000)
    for gap, ceiling in zip(gaps, (1000, 2000, 4000)):
        assert ceiling * 0.95 <= gap < ceiling + 1500, gaps  # generous: the machine may be busy


def test_try_again_later_waits_at_least_a_second_even_when_the_jitter_says_now(alice, new_page):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.add_init_script(FAKE_SOCKETS % {"code": 1013, "random": "0"})
    page.goto("/")
    gaps = _gaps(page, 3, timeout_ms=20_000)
    assert all(gap >= 950 for gap in gaps), gaps
    # Showing the tab again does not jump the queue the server asked for.
    page.evaluate("window.__opened = []; document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__opened.length") == 0


@pytest.mark.parametrize("code", [4401, 4403])
def test_signed_out_or_role_changed_stops_retrying(code, alice, new_page):
    page = new_page()
    sign_in(page, "alice", PASSWORD)
    page.add_init_script(FAKE_SOCKETS % {"code": code, "random": "0"})
    page.goto("/")
    _opened_at_least(page, 1, 10_000)
    page.wait_for_timeout(2000)  # a retrying client would have tried many times by now
    assert page.evaluate("window.__opened.length") == 1
