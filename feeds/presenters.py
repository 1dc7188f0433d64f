"""One JSON shape per object, shared by the API, live frames and resume (API.md)."""
from __future__ import annotations

from . import notification_kinds
from .models import Activity, Notification


def _ref(type_: str, key: str, title: str) -> dict | None:
    if not type_:
        return None
    return {"type": type_, "key": key, "title": title}


def activity_payload(activity: Activity, *, actor_username: str | None = None) -> dict:
    if actor_username is None and activity.actor_id is not None:
        actor_username = activity.actor.username
    return {
        "id": activity.id,
        "verb": activity.verb,
        "actor": {"username": actor_username} if actor_username else None,
        "object": _ref(activity.object_type, activity.object_key, activity.object_title),
        "target": _ref(activity.target_type, activity.target_key, activity.target_title),
        "summary": activity.summary,
        "created_at": activity.created_at.isoformat(),
    }


def notification_payload(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "kind_label": notification_kinds.badge(notification.kind),
        "text": notification.text,
        "url": notification.url,
        "read": notification.read,
        "count": notification.count,
        "created_at": notification.created_at.isoformat(),
        "updated_at": notification.updated_at.isoformat() if notification.updated_at else None,
    }
