from celery import shared_task

from . import services


@shared_task(name="policies.tasks.outbound_deliver")
def outbound_deliver(post_id: int) -> str:
    # No automatic retry here: the service schedules retries itself, and only for failures that
    # certainly did not reach the target.
    return services.outbound_deliver(post_id=post_id)


@shared_task(name="policies.tasks.outbound_sweep")
def outbound_sweep() -> int:
    return services.outbound_sweep()


@shared_task(name="policies.tasks.listening_poll")
def listening_poll(source_id: int | None = None) -> int:
    return services.listening_poll(source_id=source_id)
