"""Live tickets at the handshake: spent in Redis (SET NX), never in PostgreSQL."""
import asyncio

import pytest
from asgiref.sync import sync_to_async

from feeds import services
from tests.feeds.test_live_consumer import communicator, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_handshakes_racing_with_one_ticket_open_exactly_one_socket(alice):
    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        first, second = communicator(f"/ws/live/?ticket={ticket}"), communicator(f"/ws/live/?ticket={ticket}")
        results = await asyncio.gather(first.connect(timeout=10), second.connect(timeout=10))
        assert sorted(connected for connected, _ in results) == [False, True]
        winner = first if results[0][0] else second
        assert (await winner.receive_json_from(timeout=5))["type"] == "welcome"
        await first.disconnect()
        await second.disconnect()

    run(scenario)


def test_a_ticket_issued_before_a_password_change_opens_nothing(alice):
    from accounts import services as accounts

    async def scenario():
        ticket = await sync_to_async(services.live_ticket_issue)(user=alice)
        await sync_to_async(accounts.user_set_password)(user=alice, password="a whole new password 42")
        comm = communicator(f"/ws/live/?ticket={ticket}")
        connected, _ = await comm.connect(timeout=10)
        assert not connected
        await comm.disconnect()

    run(scenario)
