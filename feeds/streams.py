"""Live streams a client may subscribe to ("ticket:42", "community:slug", "user:alice", ...).

Each domain registers, for its stream type, a function telling whether a user may see that
object. Unknown types and objects the user may not see are refused alike.

A type registered with `gates_activities=True` also gates every activity about such an object
(as its object or its target): the live socket relays it, and `resume` replays it, only to people
who may see that object now, whatever audience was written with it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_STREAM_RE = re.compile(r"^(?P<type>[a-z_]{1,32}):(?P<key>[A-Za-z0-9_.@+\-]{1,128})$")
_checks: dict[str, Callable[[object, str], bool]] = {}
_gates: set[str] = set()


class StreamRefused(Exception):
    pass


_shared: ContextVar[dict | None] = ContextVar("stream_checks_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Checks decided together (the sockets one message woke, in one hop to the database thread)
    read each fact they share once: a thousand followers' checks on "ticket:42" read the ticket
    once, not a thousand times. Nothing is older than the batch itself."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def read_once(key: tuple, read: Callable[[], object]) -> object:
    """`read()`, shared by the checks of one `shared_reads()` block; read anew outside one."""
    memo = _shared.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def register(stream_type: str, may_see: Callable[[object, str], bool], *, gates_activities: bool | None = None) -> None:
    """`gates_activities` None keeps what the type was registered with before."""
    _checks[stream_type] = may_see
    if gates_activities:
        _gates.add(stream_type)
    elif gates_activities is not None:
        _gates.discard(stream_type)


def parse(stream: object) -> tuple[str, str]:
    if not isinstance(stream, str):
        raise StreamRefused("A stream is a string like 'ticket:42'.")
    match = _STREAM_RE.match(stream)
    if not match:
        raise StreamRefused("A stream is a string like 'ticket:42'.")
    return match["type"], match["key"]


def authorize(user, stream: object) -> str:
    """Return the normalised stream name if `user` may subscribe to it, else raise StreamRefused."""
    stream_type, key = parse(stream)
    check = _checks.get(stream_type)
    if check is None or not check(user, key):
        raise StreamRefused(f"You cannot subscribe to {stream_type}:{key}.")
    return f"{stream_type}:{key}"


def may_subscribe(user, stream: str) -> bool:
    try:
        authorize(user, stream)
    except StreamRefused:
        return False
    return True


def gating_streams(streams) -> list[str]:
    """The streams among `streams` (names like "ticket:42", blanks allowed) whose access gates the
    activities about them."""
    out = []
    for stream in streams:
        if stream and stream.split(":", 1)[0] in _gates:
            out.append(stream)
    return out


def group_name(stream: str) -> str:
    """Channels group names allow only ASCII letters, digits, hyphens, periods and underscores."""
    stream_type, key = parse(stream)
    safe_key = re.sub(r"[^A-Za-z0-9\-.]", lambda m: f"_{ord(m.group()):x}_", key)
    return f"stream.{stream_type}.{safe_key}"[:99]


def user_group_name(user_id: int) -> str:
    from servicedesk.live_groups import user_group_name as name

    return name(user_id)
