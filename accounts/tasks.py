from celery import shared_task

from . import services


@shared_task(name="accounts.tasks.signin_check")
def signin_check(login_id: int) -> bool:
    return services.signin_new_device_notify(login_id=login_id)


@shared_task(name="accounts.tasks.api_tokens_purge")
def api_tokens_purge() -> int:
    return services.api_tokens_purge()
