from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        from feeds import streams

        from .models import Ticket
        from .selectors import can_see, is_staff

        def may_see_ticket(user, key: str) -> bool:
            if not key.isdigit():
                return False
            ticket = Ticket.objects.filter(pk=int(key)).only("visibility", "requester_id").first()
            return ticket is not None and can_see(user, ticket)

        streams.register("ticket", may_see_ticket)
        streams.register("queue", lambda user, key: key == "all" and is_staff(user))
