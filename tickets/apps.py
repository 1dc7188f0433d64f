from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        from feeds import selectors as feed_selectors
        from feeds import streams as feed_streams
        from feeds import walls
        from servicedesk import hooks

        from . import security, streams

        feed_streams.register("ticket", streams.may_see_ticket, gates_activities=True)
        feed_streams.register("queue", streams.may_see_queue)
        feed_streams.register("service", streams.may_see_service)
        walls.register("ticket", streams.ticket_wall)
        walls.register("service", streams.service_wall)
        feed_selectors.register_follow_suggestions("suggested_services", streams.suggested_services)
        feed_selectors.register_wall_owner("service", streams.service_owner)

        from feeds import mail_threads

        mail_threads.register("ticket", streams.ticket_mail_tag)
        hooks.subscribe(hooks.signin_reported, security.open_security_incident)

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
