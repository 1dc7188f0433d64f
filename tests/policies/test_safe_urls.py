"""No server-side request forgery: channels and listening feeds never reach internal addresses.

The guard (`servicedesk/safe_urls.py`) refuses loopback, private, shared, link-local, multicast,
unspecified, reserved and documentation addresses in every notation, at save time (400 in the
API.md shape) and at every request (redirect hops included), connects to the address it vetted,
and records one generic error. `OUTBOUND_ALLOWED_HOSTS` lets an admin allow internal targets.
Every test here runs without the allowlist unless it sets it itself.
"""
from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from policies import services
from policies.models import AuditEntry, Channel, DeliveryAttempt, ListeningItem, ListeningSource, OutboundPost
from servicedesk import safe_urls
from servicedesk.errors import ApplicationError

pytestmark = pytest.mark.django_db

GENERIC = "Could not reach the target."

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Internal</title><link>http://x.example/</link>
<description>d</description><item><title>INTERNAL ADMIN PAGE root password hunter2</title><link>http://x.example/1</link>
<guid>internal-1</guid><description>secret content behind the firewall</description></item></channel></rss>"""

# The same loopback / internal targets, written every way a URL parser or the C library accepts.
REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://2130706433/hook",  # decimal
    "http://0177.0.0.1/hook",  # octal
    "http://0x7f.1/hook",  # hex, short
    "http://0x7f000001/hook",  # hex, one part
    "http://127.1/hook",  # short
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/hook",  # the same, in hex
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://0/hook",
    "http://[::]/hook",
    "http://localhost/hook",
    "http://LocalHost./hook",
    "http://api.localhost/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared address space
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",
    "http://192.0.2.10/hook",  # documentation
    "http://198.51.100.7/hook",
    "http://203.0.113.5/hook",
    "http://198.18.0.1/hook",  # benchmarking
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://[fc00::1]/hook",  # IPv6 unique local
    "http://[ff02::1]/hook",  # IPv6 multicast
    "http://[2001:db8::1]/hook",  # IPv6 documentation
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "https://127.0.0.1:8443/hook",
]


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers DNS for the names a test gives; every other name does not resolve. Counts look-ups."""
    class Table(dict):
        calls: list[str]

    table = Table()
    calls = table.calls = []

    def lookup(host, port):
        calls.append(host)
        answer = table.get(host.lower())
        if answer is None:
            import socket

            raise socket.gaierror(-2, "Name or service not known")
        if callable(answer):
            answer = answer()
        return [ipaddress.ip_address(a) for a in answer]

    monkeypatch.setattr(safe_urls, "_getaddrinfo", lookup)
    return table


class Server:
    """A local HTTP server recording every request; `routes` maps a path to (status, headers, body)."""

    def __init__(self, routes: dict | None = None):
        self.routes = routes or {}
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                status, headers, content = server.routes.get(self.path, (200, {"Content-Type": "application/rss+xml"}, RSS))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    started = []

    def start(routes=None):
        s = Server(routes)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


# --- the guard itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_every_notation_of_an_internal_address_is_refused(url):
    assert safe_urls.address_problem(url) == safe_urls.NOT_ALLOWED
    with pytest.raises(safe_urls.RefusedAddress):
        safe_urls.vet(url)


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "https://[2606:4700:4700::1111]/hook", "http://1.1.1.1:8080/"])
def test_public_addresses_pass(url):
    assert safe_urls.address_problem(url) is None
    assert safe_urls.vet(url).ip.is_global


@pytest.mark.parametrize("answer", [["10.0.0.7"], ["127.0.0.1"], ["93.184.215.14", "192.168.0.4"], ["::1"], ["fd00::2"]])
def test_a_name_resolving_to_an_internal_address_is_refused(fake_dns, answer):
    fake_dns["intranet.example.com"] = answer
    assert safe_urls.address_problem("https://intranet.example.com/hook") == safe_urls.NOT_ALLOWED


def test_a_name_resolving_to_public_addresses_passes_and_is_pinned(fake_dns):
    fake_dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    vetted = safe_urls.vet("https://hooks.example.com/hook")
    assert str(vetted.ip) == "93.184.215.14" and vetted.host == "hooks.example.com" and vetted.port == 443


def test_the_connection_goes_to_the_vetted_address_keeping_host_and_tls_name(fake_dns, monkeypatch):
    fake_dns["hooks.example.com"] = ["93.184.215.14"]
    seen = []

    def fake_send(self, request):
        seen.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", fake_send)
    with safe_urls.client(timeout=1) as client:
        client.post("https://hooks.example.com:8443/in?x=1", content=b"{}")
    (request,) = seen
    assert str(request.url) == "https://93.184.215.14:8443/in?x=1"
    assert request.headers["Host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert fake_dns.calls == ["hooks.example.com"], "resolved once, by the guard"


def test_dns_rebinding_between_save_and_send_is_refused_at_send(fake_dns, server, bob, dave, make_policy):
    """Public when saved, loopback when sent: the send-time check refuses it and nothing arrives."""
    target = server()
    fake_dns["status.example.com"] = ["93.184.215.14"]
    channel = services.channel_create(actor=dave, name="Rebinding", kind="webhook", audience="internal",
                                      config={"url": f"http://status.example.com:{target.port}/hook"})
    make_policy(channel)
    fake_dns["status.example.com"] = ["127.0.0.1"]
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    assert services.outbound_deliver(post_id=post.pk) == "failed"
    assert target.requests == []
    assert DeliveryAttempt.objects.get(post=post).error == GENERIC


def test_a_name_is_resolved_once_per_request_and_the_answer_is_used(fake_dns, server, settings):
    """The system resolver cannot answer for `.test` names: the request arrives only because the
    connection went to the address the guard vetted."""
    target = server()
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    fake_dns["hook.test"] = lambda: next(answers)
    with safe_urls.client(timeout=5) as client:
        response = client.post(f"http://hook.test:{target.port}/hook", content=b"{}")
    assert response.status_code == 200 and len(target.requests) == 1
    assert target.requests[0]["headers"]["Host"] == f"hook.test:{target.port}"
    assert fake_dns.calls == ["hook.test"]


# --- the allowlist ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "hook.test"])
def test_the_allowlist_lets_an_admin_reach_an_internal_target(entry, fake_dns, server, settings, bob, dave, make_policy):
    target = server()
    fake_dns["hook.test"] = ["127.0.0.1"]
    settings.OUTBOUND_ALLOWED_HOSTS = [entry]
    channel = services.channel_create(actor=dave, name="Internal hook", kind="webhook", audience="internal",
                                      config={"url": f"http://hook.test:{target.port}/hook"})
    make_policy(channel)
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    assert services.outbound_deliver(post_id=post.pk) == "sent"
    assert len(target.requests) == 1


def test_the_allowlist_allows_only_what_it_lists(fake_dns, settings):
    fake_dns["hook.test"] = ["127.0.0.1"]
    settings.OUTBOUND_ALLOWED_HOSTS = ["10.0.0.0/8", "other.test"]
    assert safe_urls.address_problem("http://10.20.30.40/") is None
    assert safe_urls.address_problem("http://hook.test/") == safe_urls.NOT_ALLOWED
    assert safe_urls.address_problem("http://127.0.0.1/") == safe_urls.NOT_ALLOWED
    assert safe_urls.address_problem("http://192.168.0.1/") == safe_urls.NOT_ALLOWED
    settings.OUTBOUND_ALLOWED_HOSTS = []
    assert safe_urls.address_problem("http://10.20.30.40/") == safe_urls.NOT_ALLOWED


# --- save time: channels and listening sources --------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_the_channel_api_refuses_internal_addresses(api_as, dave, url):
    response = api_as(dave).post("/api/v1/channels/", {"name": "Hook", "kind": "webhook", "audience": "internal",
                                                      "config": {"url": url}}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "The channel could not be saved."
    assert f"url: {safe_urls.NOT_ALLOWED}" in body["errors"]["config"]
    assert not Channel.objects.exists()


@pytest.mark.parametrize("kind, config", [
    ("mastodon", {"instance_url": "http://[::ffff:127.0.0.1]:3000", "access_token": "tok-123456"}),
    ("x", {"bearer_token": "tok-123456", "api_url": "http://169.254.169.254/2/tweets"}),
    ("slack", {"url": "http://0x7f.1:6379/"}),
    ("teams", {"url": "http://localhost:5432/"}),
])
def test_every_channel_kind_with_an_address_is_checked(api_as, dave, kind, config):
    response = api_as(dave).post("/api/v1/channels/", {"name": "C", "kind": kind, "audience": "internal", "config": config},
                                 format="json")
    assert response.status_code == 400
    assert any(safe_urls.NOT_ALLOWED in e for e in response.json()["errors"]["config"])


def test_changing_a_channel_to_an_internal_address_is_refused(api_as, dave, make_channel):
    channel = make_channel(name="Partner hook", audience="private_group")
    response = api_as(dave).patch(f"/api/v1/channels/{channel.pk}/", {"config": {"url": "http://2130706433:8000/admin"}},
                                  format="json")
    assert response.status_code == 400
    assert f"url: {safe_urls.NOT_ALLOWED}" in response.json()["errors"]["config"]
    channel.refresh_from_db()
    assert channel.config["url"] == "https://hooks.example.invalid/hook"


def test_the_channel_pages_refuse_internal_addresses(client, dave, make_channel):
    client.force_login(dave)
    response = client.post("/communications/channels/", {"name": "Desk Slack", "kind": "slack", "audience": "internal",
                                                          "url": "http://127.0.0.1:6379/"})
    assert response.status_code == 400 and safe_urls.NOT_ALLOWED.encode() in response.content
    assert not Channel.objects.exists()
    channel = make_channel(name="Partner hook")
    response = client.post(f"/communications/channels/{channel.pk}/", {"name": "Partner hook", "audience": "public",
                                                                       "url": "http://[::1]:8000/", "active": "on"})
    assert response.status_code == 400 and safe_urls.NOT_ALLOWED.encode() in response.content


def test_a_listening_feed_on_an_internal_address_is_refused(client, dave):
    with pytest.raises(ApplicationError) as excinfo:
        services.listening_source_create(actor=dave, name="Internal", kind="feed", url="http://169.254.169.254/latest/")
    assert excinfo.value.status == 400 and excinfo.value.errors == {"url": [safe_urls.NOT_ALLOWED]}
    client.force_login(dave)
    response = client.post("/communications/listening/", {"action": "source", "source-name": "Admin page",
                                                          "source-kind": "feed", "source-url": "http://localhost:8000/admin/"})
    assert response.status_code == 400 and safe_urls.NOT_ALLOWED.encode() in response.content
    assert not ListeningSource.objects.exists()


# --- send and fetch time ------------------------------------------------------------------------


def test_a_channel_saved_before_the_guard_cannot_reach_inside(server, bob, make_channel, make_policy):
    """A channel whose stored address is internal (saved before the guard, or while allowlisted)."""
    target = server()
    channel = make_channel(name="Old hook", audience="internal")
    Channel.objects.filter(pk=channel.pk).update(config={"url": target.url(host="0x7f.1")})
    make_policy(channel)
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    assert services.outbound_deliver(post_id=post.pk) == "failed", "refused for good, not retried"
    assert target.requests == []
    attempt = DeliveryAttempt.objects.get(post=post)
    assert attempt.error == GENERIC and attempt.http_status is None
    notes = " ".join(AuditEntry.objects.filter(post=post).values_list("note", flat=True))
    assert "127" not in notes and "0x7f" not in notes and str(target.port) not in notes


def test_an_outbound_post_never_follows_a_redirect(server, settings, bob, make_channel, make_policy):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    inside = server()
    hook = server({"/hook": (307, {"Location": inside.url("/secret")}, b"")})
    channel = make_channel(name="Redirecting hook", audience="internal", config={"url": hook.url()})
    make_policy(channel)
    post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
    assert services.outbound_deliver(post_id=post.pk) == "failed"
    assert len(hook.requests) == 1 and inside.requests == []
    assert DeliveryAttempt.objects.get(post=post).http_status == 307


def test_network_errors_are_recorded_generically(settings, bob, make_channel, make_policy):
    """Connection refused on one port and a protocol error on another read the same."""
    import socket

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.POLICIES_CONNECT_TIMEOUT = settings.POLICIES_HTTP_TIMEOUT = 2
    talker = socket.socket()
    talker.bind(("127.0.0.1", 0))
    talker.listen()

    def speak_another_protocol():
        conn, _ = talker.accept()
        conn.sendall(b"-ERR wrong protocol, this is redis\r\n")
        conn.close()

    threading.Thread(target=speak_another_protocol, daemon=True).start()
    errors = []
    try:
        for name, url in (("Closed port", "http://127.0.0.1:9/hook"), ("Other protocol", f"http://127.0.0.1:{talker.getsockname()[1]}/")):
            channel = make_channel(name=name, audience="internal", config={"url": url})
            make_policy(channel)
            post = services.outbound_create(actor=bob, channel=channel, body="Deploy finished")
            services.outbound_deliver(post_id=post.pk)
            errors.append(DeliveryAttempt.objects.get(post=post).error)
    finally:
        talker.close()
    assert errors[0] == GENERIC
    assert errors[1] in (GENERIC, "The target did not answer; the post may have arrived.")
    for text in errors + list(AuditEntry.objects.values_list("note", flat=True)):
        assert "refused" not in text.lower() and "redis" not in text.lower() and "Error" not in text


@pytest.fixture
def old_source(db):
    """A feed source stored before the guard (services refuse to create one like it now)."""
    def make(url):
        return ListeningSource.objects.create(name="Old feed", kind=ListeningSource.Kind.FEED, url=url)

    return make


def test_an_internal_page_never_reaches_the_listening_wall(server, old_source, dave):
    inside = server()
    source = old_source(inside.url("/feed", host="127.1"))
    services.listening_rule_create(actor=dave, label="admin", keywords=["INTERNAL", "secret"])
    assert services.listening_poll() == 0
    assert inside.requests == [] and not ListeningItem.objects.exists()
    source.refresh_from_db()
    assert source.last_error == "Could not reach the feed."


@pytest.mark.parametrize("where", ["http://127.0.0.1:{port}/feed", "http://localhost:{port}/feed", "http://2130706433:{port}/feed",
                                   "http://[::ffff:127.0.0.1]:{port}/feed"])
def test_a_feed_redirecting_inside_is_refused_at_the_redirect(where, fake_dns, server, settings, old_source):
    """The feed's own host is allowed by name; the hop it redirects to is checked on its own."""
    inside = server()
    settings.OUTBOUND_ALLOWED_HOSTS = ["feed.test"]
    fake_dns["feed.test"] = ["127.0.0.1"]
    outside = server({"/feed": (302, {"Location": where.format(port=inside.port)}, b"")})
    source = old_source(outside.url("/feed", host="feed.test"))
    assert services.listening_poll() == 0
    assert len(outside.requests) == 1 and inside.requests == []
    assert not ListeningItem.objects.exists()
    source.refresh_from_db()
    assert source.last_error == "Could not reach the feed."


def test_feed_redirects_are_followed_a_few_times_only(server, settings, old_source):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    loop = server()
    loop.routes["/feed"] = (302, {"Location": "/feed"}, b"")
    old_source(loop.url("/feed"))
    assert services.listening_poll() == 0
    assert len(loop.requests) == settings.OUTBOUND_MAX_REDIRECTS + 1
    ok = server()
    ok.routes["/a"] = (302, {"Location": "/b"}, b"")
    ListeningSource.objects.update(url=ok.url("/a"))
    assert services.listening_poll() == 1 and [r["path"] for r in ok.requests] == ["/a", "/b"]


def test_the_listening_page_shows_the_generic_error_only(client, bob, server, old_source):
    old_source("http://127.0.0.1:9/feed")
    services.listening_poll()
    client.force_login(bob)
    page = client.get("/communications/listening/").content.decode()
    assert "Could not reach the feed." in page
    assert "ConnectError" not in page and "Errno" not in page and "refused" not in page


# --- control characters -------------------------------------------------------------------------

CONTROL = ["\x00", "\x01", "\x1b"]


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize("path", ["/api/v1/outbound/", "/api/v1/outbound/preview/"])
@pytest.mark.parametrize("field", ["channel", "body", "event"])
def test_control_characters_in_outbound_input_answer_400(api_as, bob, public_channel, path, field, char):
    data = {"channel": public_channel.slug, "body": "Printers arrive Monday", "event": "manual_post"}
    data[field] = data[field][:3] + char + data[field][3:]
    response = api_as(bob).post(path, data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid input." and field in body["errors"]
    assert not OutboundPost.objects.exists()


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize("field, value", [
    ("channel", "status-on-x"), ("name", "Night rules"), ("template", "Update: {body}"), ("time_zone", "Europe/Paris"),
    ("blocked_terms", ["outage"]), ("allowed_events", ["manual_post"]),
])
def test_control_characters_in_policy_input_answer_400(api_as, dave, public_channel, field, value, char):
    data = {"channel": public_channel.pk, "name": "Night rules"}
    data[field] = [value[0][:2] + char + value[0][2:]] if isinstance(value, list) else value[:2] + char + value[2:]
    before = AuditEntry.objects.count()
    response = api_as(dave).post("/api/v1/policies/", data, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid input."
    assert {k.split(".")[0] for k in response.json()["errors"]} == {field}
    policy = public_channel.policies.get()
    patched = api_as(dave).patch(f"/api/v1/policies/{policy.pk}/", {field: data[field]}, format="json")
    assert patched.status_code == 400 and {k.split(".")[0] for k in patched.json()["errors"]} == {field}
    assert public_channel.policies.count() == 1 and AuditEntry.objects.count() == before


def test_nul_in_channel_input_answers_400(api_as, dave, make_channel):
    created = api_as(dave).post("/api/v1/channels/", {"name": "Hook\x00", "kind": "webhook", "audience": "public",
                                                     "config": {"url": "https://hooks.example.invalid/a\x00"}}, format="json")
    assert created.status_code == 400 and set(created.json()["errors"]) == {"name"}
    channel = make_channel(name="Partner hook")
    patched = api_as(dave).patch(f"/api/v1/channels/{channel.pk}/", {"name": "P\x00", "kind": "web\x00hook"}, format="json")
    assert patched.status_code == 400 and set(patched.json()["errors"]) == {"name", "kind"}
    config = api_as(dave).patch(f"/api/v1/channels/{channel.pk}/", {"config": {"url": "https://a.example.invalid/\x00"}},
                                format="json")
    assert config.status_code == 400 and "config" in config.json()["errors"]


def test_nul_on_the_preview_and_outbound_pages_is_a_form_error(client, bob, public_channel):
    client.force_login(bob)
    preview = client.post("/communications/preview/", {"preview-channel": "\x00", "preview-body": "Hi\x00", "preview-event": "manual_post"})
    assert preview.status_code == 200  # an htmx fragment: its errors replace the result box
    assert "Null characters are not allowed." in preview.content.decode() and "badge" not in preview.content.decode()
    page = client.post("/communications/outbound/", {"channel": "1\x00", "body": "Hi\x00", "event": "manual_post"})
    assert page.status_code == 400
    assert not OutboundPost.objects.exists()
