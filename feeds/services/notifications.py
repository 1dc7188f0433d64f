"""Marking notifications read, by hand or by visiting what they point to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from accounts.models import User

from .. import live, selectors
from ..models import Notification


@transaction.atomic
def notifications_mark_read(*, actor: User, ids: Iterable[int] | None = None, all_: bool = False) -> int:
    qs = Notification.objects.filter(recipient=actor, read=False)
    read: list[int] | None = None
    if not all_:
        read = list(qs.filter(pk__in=list(ids or [])).values_list("pk", flat=True))
        qs = qs.filter(pk__in=read)
    changed = qs.update(read=True)
    if changed:
        unread = Notification.objects.filter(recipient=actor, read=False).count()
        # Every tab clears the rows read (all of them after "mark all read").
        transaction.on_commit(lambda: live.push_unread(user_id=actor.pk, count=unread, read=read, all_read=all_))
    return changed


def notifications_mark_visited(*, actor: User, path: str, unread_before: int | None = None) -> tuple[list[int], int]:
    """Visiting what notifications point to reads them: the person's unread notifications whose
    link is this page (or, for an API read, the page of the same object, `/api/v1/tickets/4/` for
    `/tickets/4/`) are marked read, and every open tab of theirs hears the new unread count and
    which rows were read once this commits. Returns (ids marked read, unread count after)."""
    pages = {path}
    if path.startswith("/api/v1/"):
        pages.add(path[len("/api/v1"):])
    # One statement whatever there is to read, so a page's query count does not depend on it.
    conditions, params = [], []
    for page in sorted(pages):
        escaped = page.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append("url = %s OR url LIKE %s ESCAPE '\\' OR url LIKE %s ESCAPE '\\'")
        params += [page, escaped + "#%", escaped + "?%"]
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET read = %s WHERE recipient_id = %s AND NOT read AND ({' OR '.join(conditions)})"  # noqa: S608
            " RETURNING id",
            [True, actor.pk, *params],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    if not ids:
        return [], unread_before if unread_before is not None else selectors.notifications_unread_count(actor)
    unread = (max(0, unread_before - len(ids)) if unread_before is not None
              else selectors.notifications_unread_count(actor))
    transaction.on_commit(lambda: live.push_unread(user_id=actor.pk, count=unread, read=ids))
    return ids, unread
