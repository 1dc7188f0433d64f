"""Work a request hands to its event loop, to run once its response has been sent.

A comment on an incident followed by a thousand people pushes its activity to the channel layer
after commit. Run from the request's thread, that push waits for the event loop, and the loop was
then busy handing the activity to this process's own followers' sockets: the agent's answer went
out behind hundreds of frames (about 200 ms on 2 cores). Under the ASGI handler
(servicedesk/asgi_handler.py) such pushes are queued here instead and the handler runs them, in
order, right after the response has gone out, on the loop itself (no thread hop either). Anywhere
else (tests, management commands, Celery tasks) `defer` says no and the caller runs the work now.

Only work that something else would make good if the process died right after the response goes
this way: live pushes, which clients recover by `resume`, and handing committed outbox rows to the
broker, which the outbox sweep does otherwise (`defer_sync`: on the request's own thread, whose
database connection is given back afterwards). Closing the sockets of a person who signed out or
lost access (servicedesk/live_groups.py) stays in the request.
"""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.db import connections

logger = logging.getLogger(__name__)

_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("after_response", default=None)


def open_queue() -> list:
    """In the handler, before the request's synchronous hop (which sees the same list)."""
    queue: list[Callable[[], Awaitable[None]]] = []
    _pending.set(queue)
    return queue


def defer(work: Callable[[], Awaitable[None]]) -> bool:
    """Queue `work` (a coroutine function) for after the response; False outside a request."""
    queue = _pending.get()
    if queue is None:
        return False
    queue.append(work)
    return True


def defer_sync(work: Callable[[], None]) -> bool:
    """Queue a synchronous `work` for after the response, on the request's thread; False outside a
    request. The request's database connection went back at its end: one this work takes goes
    back too."""

    def work_and_release() -> None:
        try:
            work()
        finally:
            connections.close_all()

    return defer(sync_to_async(work_and_release, thread_sensitive=True))


async def run(queue: list) -> None:
    """In the handler, once the response is sent: every queued piece of work, in order. Work
    queued while this runs runs too: with Celery eager (`make run`'s embedded mode) a deferred
    hand-off to the broker runs its task here, and the task's own live push is queued then."""
    while queue:
        work = queue.pop(0)
        try:
            await work()
        except Exception:  # noqa: BLE001 - one lost hint must not stop the next
            logger.warning("work after the response failed", exc_info=True)
