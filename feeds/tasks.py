from celery import shared_task

from . import services


@shared_task(name="feeds.tasks.outbox_deliver", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def outbox_deliver(message_id: int) -> bool:
    return services.outbox_message_deliver(message_id=message_id)


@shared_task(name="feeds.tasks.outbox_deliver_batch", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def outbox_deliver_batch(message_ids: list[int]) -> int:
    return services.outbox_messages_deliver(message_ids=message_ids)


@shared_task(name="feeds.tasks.outbox_sweep")
def outbox_sweep() -> int:
    return services.outbox_sweep()


@shared_task(name="feeds.tasks.send_digests")
def send_digests() -> int:
    return services.digests_send()
