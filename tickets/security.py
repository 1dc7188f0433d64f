"""A reported sign-in becomes a private incident for the security team: the handler of the accounts
hook ``signin_reported`` (subscribed in ``TicketsConfig.ready``), run inside the transaction that
stored the report."""

from __future__ import annotations

from accounts.models import Role, User
from accounts.selectors import security_report_description
from feeds.audience import ADMINS, Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish

from .services import security_incident_open


def open_security_incident(*, report) -> None:
    """Open the incident with the sign-in rows attached, link it to the report, alert the admins."""
    actor, record = report.reporter, report.login
    report.ticket = security_incident_open(
        reporter=actor, title=f"Suspicious sign-in reported by {actor.display_name}",
        description=security_report_description(report),
    )
    report.save(update_fields=["ticket"])
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    when = record.at.strftime("%Y-%m-%d %H:%M UTC")
    activity_publish(
        actor=actor,
        verb="reported_sign_in",
        obj=ObjectRef("security_report", str(report.pk), f"Sign-in at {when}"),
        audience=Audience.of(users=[actor.pk], groups=[ADMINS]),
        summary=f"{actor.display_name} reported a sign-in at {when} from {record.ip or 'an unknown address'}",
        notify=admins,
        notification=NotificationSpec(
            kind="security.report",
            text=f"{actor.display_name} reports a sign-in that was not theirs ({when}, {record.ip or 'unknown IP'}).",
            url=report.ticket.get_absolute_url(),
        ),
    )
