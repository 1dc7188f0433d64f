"""One message for many people's sockets: how an activity reaches a thousand followers at once.

Pushing to each person's own group costs the sender a group look-up and a queued message per
person (a thousand followers took 110-350 ms of Redis round trips and encoding, in a worker that
first had to get to it). Instead every ASGI process listens on one channel of its own, a member of
PROCESS_GROUP, and keeps a map of its open sockets by person. The sender sends one message naming
the people; each process hands it to the sockets it holds for them, and each socket then applies
the same account and access checks as for any activity. So the commit itself can send it, whatever
the follower count.

The process listens through one of its own sockets, the delegate: its channel is the process's
member of PROCESS_GROUP (joined before the socket is accepted, renewed with its other groups), and
its consumer hands each broadcast to the process's sockets. No receive loop of its own, which the
channel layer could not cancel cleanly. When the delegate goes, another socket of the process
joins before it leaves, so no broadcast falls between them.
"""
from __future__ import annotations

import asyncio
import logging
import weakref

logger = logging.getLogger(__name__)

PROCESS_GROUP = "live.processes"
MESSAGE_TYPE = "live.activity.many"


def message(*, user_ids, payload: dict) -> tuple[str, dict]:
    """The (group, message) that pushes this activity to these people's open sockets."""
    return PROCESS_GROUP, {"type": MESSAGE_TYPE, "users": sorted({int(uid) for uid in user_ids}), "activity": payload}


class _Process:
    """One event loop's sockets by person, and which of them listens for the process."""

    def __init__(self):
        self.sockets: dict[int, weakref.WeakSet] = {}
        self.delegate = None
        self.joined: asyncio.Future | None = None
        self.handing: set[asyncio.Task] = set()  # broadcasts being handed to sockets

    def others(self, consumer):
        return next((c for held in self.sockets.values() for c in held if c is not consumer), None)


_processes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _process() -> _Process:
    loop = asyncio.get_running_loop()
    process = _processes.get(loop)
    if process is None:
        process = _processes[loop] = _Process()
    return process


async def _delegate_to(process: _Process, consumer) -> None:
    """Make this socket the process's listener; the sockets waiting to be accepted wait for it."""
    process.delegate = consumer
    process.joined = joined = asyncio.get_running_loop().create_future()
    try:
        await consumer.channel_layer.group_add(PROCESS_GROUP, consumer.channel_name)
    except BaseException:
        if process.delegate is consumer:
            process.delegate = None
        joined.set_exception(ConnectionError("the channel layer is unavailable"))
        joined.exception()  # retrieved: whoever awaits it gets it, nobody else needs to
        raise
    joined.set_result(True)


async def join(consumer, user_id: int) -> None:
    """Count this socket among its person's for broadcasts; returns once its process receives
    them. Raises (like a failed group_add) when the channel layer cannot be reached."""
    process = _process()
    process.sockets.setdefault(int(user_id), weakref.WeakSet()).add(consumer)
    if process.delegate is None:
        await _delegate_to(process, consumer)
    else:
        await asyncio.shield(process.joined)


async def stand_in(consumer) -> None:
    """Called on each socket's renewal: when the process has no listener (a hand-over failed
    while Redis was away), this socket becomes it."""
    process = _processes.get(asyncio.get_running_loop())
    if process is None or process.delegate is not None:
        return
    if not any(consumer in held for held in process.sockets.values()):
        return
    await _delegate_to(process, consumer)


def is_delegate(consumer) -> bool:
    process = _processes.get(asyncio.get_running_loop())
    return process is not None and process.delegate is consumer


async def leave(consumer, user_id: int) -> None:
    """This socket is going. If it was the process's listener, another socket takes over first."""
    process = _processes.get(asyncio.get_running_loop())
    if process is None:
        return
    held = process.sockets.get(int(user_id))
    if held is not None:
        held.discard(consumer)
        if not held:
            del process.sockets[int(user_id)]
    if process.delegate is not consumer:
        return
    process.delegate = None
    successor = process.others(consumer)
    try:
        if successor is not None:
            await _delegate_to(process, successor)
    except Exception:  # noqa: BLE001 - the next socket to join takes over
        logger.warning("could not hand the live broadcasts to another socket", exc_info=True)
    finally:
        try:
            await consumer.channel_layer.group_discard(PROCESS_GROUP, consumer.channel_name)
        except Exception:  # noqa: BLE001 - the membership expires by itself (group_expiry)
            logger.warning("could not leave the live broadcast group", exc_info=True)


def deliver(received: dict) -> None:
    """In the delegate's consumer: hand a broadcast to the sockets this process holds for its people."""
    process = _processes.get(asyncio.get_running_loop())
    if process is None:
        return
    event = {"type": "live.activity", "activity": received["activity"], "audience": None}
    for user_id in received.get("users", ()):
        for consumer in list(process.sockets.get(user_id, ())):
            # The loop keeps only weak references to tasks: hold each until it is done.
            task = asyncio.create_task(_handle(consumer, event))
            process.handing.add(task)
            task.add_done_callback(process.handing.discard)


async def _handle(consumer, event: dict) -> None:
    try:
        await consumer.live_activity(event)
    except Exception:  # noqa: BLE001 - one socket's failure is not its neighbours'
        logger.warning("live broadcast to a socket failed", exc_info=True)
