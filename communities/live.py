"""Content-free hints to open question pages, sent on commit through the feeds live channel.

A vote or an acceptance changes scores, the order of the answers and who may still accept what;
the hint says only "answers of question 42 changed", on the question's own stream, which only
people who may read the question can subscribe to (a private community's questions reach its
members alone). Pages then fetch the answers list, rendered for the reader, over plain HTTP.
"""
from __future__ import annotations

from django.db import transaction

from feeds import live, streams


def stream(question_id: int) -> str:
    return f"question:{question_id}"


def answers_changed(question_id: int) -> None:
    message = {"type": "live.event", "event": {"kind": "answers", "question": question_id}}
    transaction.on_commit(lambda: live.send_many([(streams.group_name(stream(question_id)), message)]))
