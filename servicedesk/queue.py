"""Enqueue Celery tasks after the surrounding transaction commits."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue on commit; a broker outage is logged, never turned into a failed request.

    Use it for work that is a convenience (a hint, a check). Work that must happen goes through
    the outbox (feeds.services.outbox_enqueue), which the sweep retries.
    """

    def _send():
        try:
            task.apply_async(args, kwargs, retry=True, retry_policy=settings.OUTBOX_PUBLISH_RETRY_POLICY)
        except Exception:  # noqa: BLE001
            logger.warning("could not enqueue %s%r", task.name, args, exc_info=True)

    transaction.on_commit(_send)
