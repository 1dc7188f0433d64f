"""Demo channels and policies for `seed_demo` (idempotent): a public status feed that announces
major public incidents with details stripped, and blocks outage wording in hand-written posts."""
from __future__ import annotations

from .models import Channel
from .services import channel_create, policy_create

OUTAGE_TERMS = ["outage", "down", "unavailable", "offline", "breach", "compromised", "data loss"]


def seed(*, admin) -> bool:
    if Channel.objects.exists():
        return False
    status = channel_create(actor=admin, name="Public status", kind="rss", audience="public", announces_incidents=True,
                            config={"title": "Service Desk status", "description": "What the whole world may know."})
    policy_create(actor=admin, channel=status, name="Public incident notices",
                  allowed_events=["major_incident_opened", "ticket_resolved"],
                  template="Service update on {number}: {event}.", blocked_terms=OUTAGE_TERMS)
    policy_create(actor=admin, channel=status, name="Public hand-written posts", allowed_events=["manual_post", "maintenance_notice"],
                  blocked_terms=OUTAGE_TERMS, requires_approval=True)
    return True
