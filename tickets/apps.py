from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        from feeds import streams

        from .models import Service, Ticket
        from .selectors import can_see, is_staff

        def may_see_ticket(user, key: str) -> bool:
            if not key.isdecimal():
                return False
            ticket = Ticket.objects.filter(pk=int(key)).only("visibility", "requester_id").first()
            return ticket is not None and can_see(user, ticket)

        streams.register("ticket", may_see_ticket, gates_activities=True)
        streams.register("queue", lambda user, key: key == "all" and is_staff(user))
        streams.register("service", lambda user, key: key.isdecimal() and Service.objects.filter(pk=int(key), active=True).exists())

        from feeds import walls
        from feeds.audience import SIGNED_IN, Audience
        from servicedesk.errors import NotVisible

        from .services import ticket_audience

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

        walls.register("ticket", ticket_wall)
        walls.register("service", service_wall)

        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
