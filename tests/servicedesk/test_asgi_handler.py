"""The ASGI application answers HTTP through one synchronous chain: pages, refusals, errors and
streamed files come out as Django's own handler gives them."""
import asyncio
import inspect

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile

from servicedesk.asgi import django_asgi_app
from servicedesk.asgi_handler import ASGIHandler
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


def fetch(path: str, *, method: str = "GET", headers=(), body: bytes = b"") -> tuple[int, dict, bytes]:
    async def run():
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
                 "server": ("testserver", 80)}
        app = ApplicationCommunicator(django_asgi_app, scope)
        await app.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await app.receive_output(10)
        chunks = []
        while True:
            message = await app.receive_output(10)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await app.wait(5)
        return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, b"".join(chunks)

    return asyncio.run(run())


def session_cookie(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    return b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()


def test_the_handler_runs_a_synchronous_chain():
    assert isinstance(django_asgi_app, ASGIHandler)
    assert not inspect.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_pages_refusals_and_missing_objects(client, alice):
    cookie = session_cookie(client, alice)
    status, headers, body = fetch("/portal/", headers=[cookie])
    assert status == 200 and "text/html" in headers["content-type"] and b"</html>" in body
    assert "content-security-policy" in headers  # the outer middleware ran
    assert fetch("/tickets/999999999/", headers=[cookie])[0] == 404
    status, headers, _ = fetch("/portal/")
    assert status == 302 and "/login" in headers["location"]
    # A POST without its CSRF token is refused by the chain, not served.
    assert fetch("/portal/", method="POST", headers=[cookie])[0] == 403


def test_a_file_streams_through(client, alice):
    ticket = tickets.ticket_create(actor=alice, kind="incident", title="Printer jams", impact=2, urgency=2,
                                   visibility="public")
    data = b"line of a log\n" * 20_000
    attachment = tickets.attachment_add(actor=alice, ticket=ticket,
                                        upload=SimpleUploadedFile("printer.log", data, content_type="text/plain"))
    tickets.comment_add(actor=alice, ticket=ticket, body="The log", attachments=[attachment])
    finished = []

    def on_finished(**kwargs):
        finished.append(True)

    # A streamed response is closed (request_finished) once, after its body is sent.
    signals.request_finished.connect(on_finished)
    try:
        status, _, body = fetch(f"/api/v1/attachments/{attachment.token}/", headers=[session_cookie(client, alice)])
    finally:
        signals.request_finished.disconnect(on_finished)
    assert status == 200 and body == data
    assert finished == [True]


def test_requests_reuse_an_idle_thread_and_leave_no_database_connection_on_it(client, alice):
    import threading
    from unittest import mock

    from django.db import connection

    cookie = session_cookie(client, alice)
    threads = []
    original = django_asgi_app.get_response

    def recording(request):
        response = original(request)
        threads.append(threading.get_ident())
        return response

    with mock.patch.object(django_asgi_app, "get_response", recording):
        assert fetch("/portal/", headers=[cookie])[0] == 200
        assert fetch("/portal/", headers=[cookie])[0] == 200
    assert len(threads) == 2 and threads[0] == threads[1] != threading.get_ident()
    # The request's connection went back when it finished: the idle thread holds none.
    idle = django_asgi_app._idle[-1]
    assert idle.submit(lambda: connection.connection is None).result(timeout=5)


class CountingExecutor:
    """A one-thread executor that counts the hops made to it."""

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor

        self.inner = ThreadPoolExecutor(max_workers=1)
        self.hops = 0

    def submit(self, fn, *args, **kwargs):
        self.hops += 1
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, **kwargs):
        self.inner.shutdown(wait=wait, **kwargs)


def test_a_request_is_one_hop_with_its_signals_on_the_view_thread(client, alice):
    import threading

    from django.core import signals

    cookie = session_cookie(client, alice)
    seen = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    executor = CountingExecutor()
    django_asgi_app._idle.append(executor)
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        status, _, body = fetch("/portal/", headers=[cookie])
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
        django_asgi_app._idle.remove(executor)
        executor.shutdown()
    assert status == 200 and b"</html>" in body
    # request_started, the middleware and view, and closing the response: one hop, one thread.
    assert executor.hops == 1
    assert [name for name, _ in seen] == ["started", "finished"]
    assert seen[0][1] == seen[1][1] != threading.get_ident()
