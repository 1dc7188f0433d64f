"""Who may see or subscribe to the ticket, queue and service streams, and the walls of tickets and
services. ``TicketsConfig.ready`` registers these with feeds."""

from __future__ import annotations

from feeds import streams, walls
from feeds.audience import SIGNED_IN, Audience
from servicedesk.errors import NotVisible
from servicedesk.prepared import prepared

from .models import Service, Ticket
from .selectors import can_see, is_staff
from .services import ticket_audience


def may_see_ticket(user, key: str) -> bool:
    if not key.isdecimal() or int(key) >= 2**63:
        return False
    found = streams.read_once(("ticket-access", int(key)), lambda: _ticket_access.run(ticket_id=int(key)))
    return bool(found) and can_see(user, found[0])


@prepared(args=("ticket_id",))
def _ticket_access(*, ticket_id):
    return Ticket.objects.filter(pk=ticket_id).only("visibility", "requester_id").order_by()[:1]


def may_see_queue(user, key: str) -> bool:
    return key == "all" and is_staff(user)


def may_see_service(user, key: str) -> bool:
    return key.isdecimal() and Service.objects.filter(pk=int(key), active=True).exists()


def ticket_wall(viewer, key: str) -> walls.Wall:
    ticket = Ticket.objects.filter(pk=int(key)).first() if key.isdecimal() else None
    if ticket is None or not can_see(viewer, ticket):
        raise NotVisible()
    return walls.Wall(
        type="ticket", key=str(ticket.pk), title=f"{ticket.number} {ticket.title}",
        audience=ticket_audience(ticket), target_id=ticket.pk, url=ticket.get_absolute_url(),
    )


def service_wall(viewer, key: str) -> walls.Wall:
    service = Service.objects.filter(pk=int(key), active=True).first() if key.isdecimal() else None
    if service is None:
        service = Service.objects.filter(slug=key, active=True).first()
    if service is None:
        raise NotVisible()
    return walls.Wall(
        type="service", key=str(service.pk), title=service.name,
        audience=Audience.of(groups=[SIGNED_IN]), target_id=service.pk, url=f"/services/{service.pk}/",
    )


def suggested_services(*, user, followed, limit: int) -> list[Service]:
    """For an empty feed: active services the person has tickets on and does not follow yet."""
    return list(
        Service.objects.filter(active=True, tickets__requester=user)
        .exclude(pk__in=followed.filter(target_type="service", target_id__isnull=False).values("target_id"))
        .distinct()
        .order_by("name")[:limit]
    )


def service_owner(service_id: int) -> dict:
    """The header of a service's wall."""
    return {"service": Service.objects.select_related("owner_team").get(pk=service_id)}


def ticket_mail_tag(key: str) -> str | None:
    """The "[INC-000042]" tag of a ticket's e-mail thread (feeds' outbound mail asks for it)."""
    ticket = Ticket.objects.filter(pk=int(key)).only("kind").first() if key.isdecimal() else None
    return ticket.number if ticket else None
