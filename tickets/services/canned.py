"""Canned responses: personal and team snippets, and applying them to a ticket."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Team, User
from servicedesk.errors import ApplicationError, Forbidden
from servicedesk.text import one_line

from ..models import CannedResponse, Priority, Status, Ticket
from ._common import _require_agent
from .lifecycle import ticket_update


def _canned_check(actor: User, *, title: str, body: str, team: Team | None, set_status: str, set_priority) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give it a title."]
    elif len(title) > 120:
        errors["title"] = ["Keep the title under 120 characters."]
    if not body.strip():
        errors["body"] = ["Write the text to insert."]
    elif len(body) > 10_000:
        errors["body"] = ["Keep it under 10,000 characters."]
    if set_status and set_status not in Status.values:
        errors["set_status"] = [f"Choose one of {', '.join(Status.values)}."]
    if set_priority is not None and set_priority not in Priority.values:
        errors["set_priority"] = ["Choose 1 (critical) to 4 (low)."]
    if errors:
        raise ApplicationError("The canned response was not saved.", errors=errors)
    if team is not None and team.pk != actor.team_id and actor.role not in ("manager", "admin"):
        raise Forbidden("You share canned responses with your own team only.")


@transaction.atomic
def canned_response_create(*, actor: User, title: str, body: str, team: Team | None = None, set_status: str = "",
                           set_priority: int | None = None) -> "CannedResponse":
    """A personal snippet, or (with `team`) one shared with the agent's team."""
    _require_agent(actor)
    _canned_check(actor, title=title, body=body, team=team, set_status=set_status, set_priority=set_priority)
    return CannedResponse.objects.create(
        title=one_line(title), body=body, owner=None if team else actor, team=team, set_status=set_status,
        set_priority=set_priority, created_by=actor,
    )


@transaction.atomic
def canned_response_delete(*, actor: User, response: "CannedResponse") -> None:
    _require_agent(actor)
    if response.owner_id != actor.pk and not (response.team_id and (response.team_id == actor.team_id or actor.role in ("manager", "admin"))):
        raise ApplicationError("Not found.", status=404)
    response.delete()


@transaction.atomic
def canned_response_apply(*, actor: User, ticket: Ticket, response: "CannedResponse") -> Ticket:
    """The status and priority a canned response sets, applied when its reply is sent."""
    changes = {}
    if response.set_status and response.set_status != ticket.status:
        changes["status"] = response.set_status
    if response.set_priority and response.set_priority != ticket.priority:
        changes["priority"] = response.set_priority
    return ticket_update(actor=actor, ticket=ticket, **changes) if changes else ticket
