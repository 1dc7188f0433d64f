from celery import shared_task

from . import services


@shared_task(name="tickets.tasks.sla_check")
def sla_check() -> dict:
    return services.sla_check()


@shared_task(name="tickets.tasks.close_stale")
def close_stale() -> int:
    return services.ticket_close_stale()


@shared_task(name="tickets.tasks.attachments_purge")
def attachments_purge() -> int:
    return services.attachments_unclaimed_purge()
