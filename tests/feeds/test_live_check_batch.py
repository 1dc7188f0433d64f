"""The sockets' batched access checks: the batch's task is held while it runs, and a batch cancelled
with its event loop leaves no socket waiting for an answer."""
from __future__ import annotations

import asyncio
import threading

import pytest

from feeds import consumers


def test_a_cancelled_batch_answers_every_waiting_socket_with_a_cancellation(monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_checks(items):
        started.set()
        release.wait(5)
        return [(None, {}) for _ in items]

    monkeypatch.setattr(consumers, "_run_checks", slow_checks)

    async def scenario():
        batch = consumers._CheckBatch()
        first = asyncio.ensure_future(batch.check(object(), account=True, names=[], force=False))
        await asyncio.sleep(0)
        assert isinstance(batch.flushing, asyncio.Task), "the running batch is held, not left to the loop's weak set"
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        second = asyncio.ensure_future(batch.check(object(), account=True, names=[], force=False))
        await asyncio.sleep(0)
        batch.flushing.cancel()
        for waiting in (first, second):
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(waiting, 2)
        release.set()
        assert batch.flushing is None and batch.pending == []

    asyncio.run(scenario())


def test_checks_that_arrive_together_are_answered_together(monkeypatch):
    calls = []

    def checks(items):
        calls.append(len(items))
        return [(None, {"ticket:1": True}) for _ in items]

    monkeypatch.setattr(consumers, "_run_checks", checks)

    async def scenario():
        batch = consumers._CheckBatch()
        answers = await asyncio.gather(*[batch.check(object(), account=False, names=["ticket:1"], force=False)
                                         for _ in range(5)])
        assert answers == [(None, {"ticket:1": True})] * 5
        assert batch.flushing is None

    asyncio.run(scenario())
    assert calls == [5], "one trip to the database thread for the five"
