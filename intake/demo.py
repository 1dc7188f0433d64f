"""Demo data: the desk's mailbox at desk@localhost, delivered to by the SMTP receiver."""
from __future__ import annotations

from accounts.models import Team

from .models import Mailbox


def seed() -> None:
    team = Team.objects.filter(slug="service-desk").first()
    if not Mailbox.objects.filter(address__iexact="desk@localhost").exists():
        Mailbox.objects.create(
            name="Service Desk", kind=Mailbox.Kind.RECEIVER, address="desk@localhost", team=team,
            unknown_senders=Mailbox.UnknownSenders.REFUSE,
        )
