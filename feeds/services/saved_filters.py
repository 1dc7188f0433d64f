"""Saved feed filters."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from servicedesk.errors import ApplicationError, NotVisible

from ..models import Follow

FEED_CONTEXTS = ("all", "tickets", "communities", "people")


def feed_filter_check(*, actor: User, context: str, about: str) -> tuple[str, str]:
    """A feed view is a context and, optionally, one thing the person follows."""
    errors = {}
    if context not in FEED_CONTEXTS:
        errors["context"] = [f"Choose one of {', '.join(FEED_CONTEXTS)}."]
    about = (about or "").strip()
    if about:
        kind, _, key = about.partition(":")
        if not key or not Follow.objects.filter(user=actor, target_type=kind, target_key=key).exists():
            errors["about"] = ["Choose something you follow."]
    if errors:
        raise ApplicationError("That feed view is not possible.", errors=errors)
    return context, about


@transaction.atomic
def saved_feed_filter_save(*, actor: User, name: str, context: str = "all", about: str = ""):
    from ..models import SavedFeedFilter

    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ApplicationError("Name the view.", errors={"name": ["Give a name of up to 60 characters."]})
    context, about = feed_filter_check(actor=actor, context=context, about=about)
    if SavedFeedFilter.objects.filter(user=actor).exclude(name=name).count() >= 30:
        raise ApplicationError("You have 30 saved views; delete one first.")
    saved, _ = SavedFeedFilter.objects.update_or_create(user=actor, name=name, defaults={"context": context, "about": about})
    return saved


@transaction.atomic
def saved_feed_filter_delete(*, actor: User, filter_id: int) -> None:
    from ..models import SavedFeedFilter

    if not SavedFeedFilter.objects.filter(pk=filter_id, user=actor).delete()[0]:
        raise NotVisible()
