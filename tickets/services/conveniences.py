"""Agent and portal conveniences: saved views, deflections, logging from the portal."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from servicedesk import hooks
from servicedesk.errors import ApplicationError

from ..models import Deflection, SavedView, Ticket
from ._common import _require_agent
from .lifecycle import ticket_create


@transaction.atomic
def saved_view_save(*, actor: User, name: str, query: dict) -> SavedView:
    _require_agent(actor)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ApplicationError("Name the view.", errors={"name": ["Give a name of up to 80 characters."]})
    view, _ = SavedView.objects.update_or_create(owner=actor, name=name, defaults={"query": query})
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view_id: int) -> None:
    SavedView.objects.filter(owner=actor, pk=view_id).delete()


@transaction.atomic
def deflection_record(*, actor: User, query: str, outcome: str, suggestion_type: str = "", suggestion_key: str = "",
                      ticket: Ticket | None = None) -> Deflection:
    if outcome not in Deflection.Outcome.values:
        raise ApplicationError("Unknown outcome.")
    deflection = Deflection.objects.create(
        user=actor, query=query[:200], outcome=outcome, suggestion_type=suggestion_type[:32],
        suggestion_key=str(suggestion_key)[:64], ticket=ticket,
    )
    hooks.deflection_recorded(deflection=deflection)
    return deflection


@transaction.atomic
def portal_ticket_log(*, actor: User, suggestions_shown_for: str = "", **fields) -> Ticket:
    """A ticket logged from the portal. If matching suggestions were shown (for the summary in
    `suggestions_shown_for`) and the person logged their own anyway, that is a deflection that
    did not work, recorded with the ticket."""
    ticket = ticket_create(actor=actor, **fields)
    if suggestions_shown_for:
        deflection_record(actor=actor, query=suggestions_shown_for, outcome=Deflection.Outcome.LOGGED, ticket=ticket)
    return ticket
