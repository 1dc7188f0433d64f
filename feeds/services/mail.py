"""Notification e-mail: one connection per batch, suppressed addresses and reply threads."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable

from django.db import transaction

from ..models import MailSent, MailSuppression

logger = logging.getLogger(__name__)


class _MailConnection:
    """One mail connection for a batch, opened on the first e-mail (a batch of fan-outs opens none)."""

    def __init__(self):
        self.connection = None

    def get(self):
        if self.connection is None:
            from django.core.mail import get_connection

            self.connection = get_connection(fail_silently=False)
            try:
                self.connection.open()
            except Exception:  # noqa: BLE001 - each send then tries on its own, and records its failure
                logger.warning("could not open a mail connection", exc_info=True)
        return self.connection

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - every message is already recorded
                logger.warning("closing the mail connection failed", exc_info=True)


_mail: contextvars.ContextVar = contextvars.ContextVar("outbox_mail_connection", default=None)


def _mail_connection():
    holder = _mail.get()
    return holder.get() if holder is not None else None


def mail_address_suppressed(address: str) -> bool:
    return MailSuppression.objects.filter(address=address.strip().lower()).exists()


@transaction.atomic
def mail_address_suppress(*, address: str, reason: str) -> bool:
    """Stop sending mail to an address (it bounced). True when it was not suppressed before."""
    address = address.strip().lower()
    if not address or "@" not in address:
        return False
    _, created = MailSuppression.objects.get_or_create(address=address, defaults={"reason": reason[:500]})
    return created


def mail_thread_find(*, message_ids: Iterable[str]) -> MailSent | None:
    """The e-mail the desk sent that one of these Message-IDs names (the latest such), if any."""
    ids = [m.strip() for m in message_ids if m and m.strip()]
    if not ids:
        return None
    return MailSent.objects.filter(message_id__in=ids).exclude(object_type="").order_by("-id").first()
