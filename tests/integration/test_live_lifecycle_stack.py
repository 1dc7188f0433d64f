"""Live sockets over their whole life on the real stack (uvicorn + Redis channel layer +
PostgreSQL): memberships that expire unless refreshed, and a server that stops cleanly."""
import json
import signal
import socket
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from feeds import services
from feeds.audience import Audience
from feeds.services import ObjectRef
from tests.integration.test_live_stack import frames_until, live_ticket, token_for, ws_url
from tests.support import processes

pytestmark = pytest.mark.integration


def test_the_server_exits_cleanly_on_sigterm_with_open_sockets_and_clients_get_a_close_frame(alice, bob, stack_env, log_dir):
    """processes.start_asgi_server runs servicedesk.serve, as `make run` and the images do."""
    server = processes.start_asgi_server(stack_env, log_dir)
    try:
        base = server.extra["base_url"]
        token = token_for(base, "alice", "laptop")
        # Sockets served and gone before the stop: one closed cleanly, one dropped without a word.
        with connect(ws_url(base, live_ticket(base, token)), open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        dropped = connect(ws_url(base, live_ticket(base, token)), open_timeout=10)
        assert json.loads(dropped.recv(timeout=10))["type"] == "welcome"
        dropped.socket.shutdown(socket.SHUT_RDWR)
        dropped.socket.close()
        sockets = []
        for _ in range(3):
            ws = connect(ws_url(base, live_ticket(base, token)), open_timeout=10)
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
            ws.send(json.dumps({"action": "subscribe", "stream": "user:bob"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
            sockets.append(ws)

        closes = []

        def read_until_closed(ws):
            try:
                while True:
                    ws.recv(timeout=30)
            except ConnectionClosed as closed:
                closes.append(closed.rcvd.code if closed.rcvd is not None else None)
            except TimeoutError:
                closes.append("no close within 30 s")

        readers = [threading.Thread(target=read_until_closed, args=(ws,), daemon=True) for ws in sockets]
        for reader in readers:
            reader.start()
        started = time.monotonic()
        server.popen.send_signal(signal.SIGTERM)
        code = server.popen.wait(timeout=20)
        took = time.monotonic() - started
        for reader in readers:
            reader.join(timeout=10)
        assert code == 0, server.log()
        assert took < 10, f"uvicorn took {took:.1f}s to stop:\n{server.log()}"
        # 1012 "service restart" (or 1001 "going away"): a close frame, so clients reconnect at once.
        assert len(closes) == 3 and all(c in (1001, 1012) for c in closes), closes
        for ws in sockets:
            ws.close()
    finally:
        server.kill()


def test_a_socket_idle_longer_than_the_group_expiry_still_hears_its_groups(alice, bob, stack_env, log_dir):
    from asgiref.sync import async_to_sync
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    from feeds import streams
    from servicedesk import live_groups

    expiry = 3
    server = processes.start_asgi_server({**stack_env, "LIVE_GROUP_EXPIRY_SECONDS": str(expiry)}, log_dir)
    # A sender configured like the server: group_send drops members older than the expiry.
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix=settings.CHANNEL_PREFIX, group_expiry=expiry)
    try:
        base = server.extra["base_url"]
        with connect(ws_url(base, live_ticket(base, token_for(base, "alice", "laptop"))), open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
            ws.send(json.dumps({"action": "subscribe", "stream": "user:bob"}))
            assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "stream": "user:bob"}
            with pytest.raises(TimeoutError):
                ws.recv(timeout=3 * expiry)  # idle for three expiry periods
            for group, kind in ((live_groups.user_group_name(alice.pk), "personal"), (streams.group_name("user:bob"), "stream")):
                async_to_sync(layer.group_send)(group, {"type": "live.event", "event": {"kind": kind}})
                frame, _ = frames_until(ws, lambda f: f["type"] == "event", timeout=10)
                assert frame["event"] == {"kind": kind}
    finally:
        server.stop()


def test_live_frames_are_not_compressed_unless_asked(alice, stack_env, log_dir):
    """Small frames to many sockets: per-message deflate is off by default (WEB_WS_DEFLATE)."""
    for setting, offered in (("false", False), ("true", True)):
        server = processes.start_asgi_server({**stack_env, "WEB_WS_DEFLATE": setting}, log_dir)
        try:
            base = server.extra["base_url"]
            token = token_for(base, "alice", "laptop")
            with connect(ws_url(base, live_ticket(base, token)), open_timeout=10) as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
                assert ("permessage-deflate" in extensions) is offered, extensions
        finally:
            server.stop()
