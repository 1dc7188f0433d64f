from celery import shared_task

from . import services


@shared_task(name="gamification.tasks.leaderboards_reconcile")
def leaderboards_reconcile() -> dict:
    return services.leaderboards_reconcile()


@shared_task(name="gamification.tasks.dashboard_rollups_refresh")
def dashboard_rollups_refresh() -> int:
    """The last few days of the dashboard's rollups, and this week's maturity level."""
    from . import dashboard, rollups

    rows = rollups.rollups_refresh_recent()
    dashboard.snapshot_week()
    return rows


@shared_task(name="gamification.tasks.dashboard_rollups_nightly")
def dashboard_rollups_nightly() -> int:
    """Late answers, ratings and reopenings change older days: recompute the last weeks."""
    from . import rollups

    return rollups.rollups_refresh_recent(days=rollups.NIGHTLY_DAYS)
