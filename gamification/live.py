"""Lightweight live hints for leaderboard pages, sent on commit through the feeds live channel.

The hint carries no names or numbers (a private community's board must not leak through it):
an open leaderboard page hears "points changed" and fetches its board again.
"""
from __future__ import annotations

from feeds import live, streams

STREAM = "leaderboard:all"


def points_changed(scopes: list[str]) -> None:
    live.send_many([(streams.group_name(STREAM), {"type": "live.event", "event": {"kind": "leaderboard"}})])
