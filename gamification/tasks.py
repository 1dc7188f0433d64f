from celery import shared_task

from . import services


@shared_task(name="gamification.tasks.leaderboards_reconcile")
def leaderboards_reconcile() -> dict:
    return services.leaderboards_reconcile()
