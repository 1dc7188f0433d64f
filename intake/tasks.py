from celery import shared_task

from . import services
from .models import Mailbox


@shared_task(name="intake.tasks.mail_poll")
def mail_poll() -> int:
    """Celery beat: one poll task per active IMAP mailbox."""
    ids = list(Mailbox.objects.filter(active=True, kind=Mailbox.Kind.IMAP).values_list("pk", flat=True))
    for pk in ids:
        mailbox_poll.delay(pk)
    return len(ids)


@shared_task(name="intake.tasks.mailbox_poll", acks_late=True, soft_time_limit=240, time_limit=300)
def mailbox_poll(mailbox_id: int) -> int:
    return services.mailbox_poll(mailbox_id=mailbox_id)
