"""Problem management: linking incidents to problems and resolving them together."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from servicedesk.errors import ApplicationError

from ..models import OPEN_STATUSES, Kind, Status, Ticket, ticket_number
from ._common import _change, _lock, _name, _publish, _require_agent
from .conversation import comment_add
from .lifecycle import ticket_create, ticket_update


@transaction.atomic
def problem_link(*, actor: User, problem: Ticket, incident: Ticket) -> Ticket:
    _require_agent(actor)
    if problem.kind != Kind.PROBLEM:
        raise ApplicationError("Link incidents to a problem.", errors={"problem": ["That ticket is not a problem."]})
    if incident.kind != Kind.INCIDENT:
        raise ApplicationError("Only incidents are linked to problems.", errors={"incident": ["That ticket is not an incident."]})
    incident = _lock(incident)
    if incident.problem_id == problem.pk:
        return incident
    _change(incident, actor, "problem", ticket_number(Kind.PROBLEM, incident.problem_id) if incident.problem_id else None, problem.number)
    incident.problem = problem
    incident.save(update_fields=["problem", "updated_at"])
    _publish(incident, actor=actor, verb="linked", summary=f"{_name(actor)} linked {incident.number} to {problem.number}")
    return incident


@transaction.atomic
def problem_unlink(*, actor: User, problem: Ticket, incident: Ticket) -> Ticket:
    """Take an incident off a problem (it was linked by mistake)."""
    _require_agent(actor)
    incident = _lock(incident)
    if incident.problem_id != problem.pk:
        raise ApplicationError(f"{incident.number} is not linked to {problem.number}.",
                               errors={"incident": ["Not linked to this problem."]})
    _change(incident, actor, "problem", problem.number, None)
    incident.problem = None
    incident.save(update_fields=["problem", "updated_at"])
    _publish(incident, actor=actor, verb="unlinked", summary=f"{_name(actor)} unlinked {incident.number} from {problem.number}")
    return incident


@transaction.atomic
def problem_create_from(*, actor: User, incident: Ticket, title: str = "", description: str = "") -> Ticket:
    """Open a problem for an incident's root cause, with the incident linked to it."""
    _require_agent(actor)
    if incident.kind != Kind.INCIDENT:
        raise ApplicationError("Only incidents are linked to problems.", errors={"incident": ["That ticket is not an incident."]})
    problem = ticket_create(
        actor=actor, kind=Kind.PROBLEM, title=(title or "").strip() or incident.title,
        description=description or f"Root cause of {incident.number}.", impact=incident.impact, urgency=incident.urgency,
        service=incident.service, team=incident.team,
    )
    problem_link(actor=actor, problem=problem, incident=incident)
    return problem


@transaction.atomic
def problem_resolve(*, actor: User, problem: Ticket, note: str, resolve_incidents: bool = True) -> list[Ticket]:
    """Resolve a problem and, in the same step, its open incidents with one public note."""
    _require_agent(actor)
    if problem.kind != Kind.PROBLEM:
        raise ApplicationError("That ticket is not a problem.")
    if not note.strip():
        raise ApplicationError("Say what fixed it.", errors={"note": ["This field may not be blank."]})
    resolved = []
    targets = [problem]
    if resolve_incidents:
        targets += list(problem.incidents.filter(status__in=OPEN_STATUSES).order_by("pk"))
    for ticket in targets:
        if ticket.status not in OPEN_STATUSES:
            continue
        comment_add(actor=actor, ticket=ticket, body=note, internal=False)
        resolved.append(ticket_update(actor=actor, ticket=ticket, status=Status.RESOLVED))
    return resolved
