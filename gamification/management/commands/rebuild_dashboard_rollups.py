from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from gamification import dashboard, rollups


class Command(BaseCommand):
    help = "Recompute the manager dashboard's daily rollups and weekly maturity levels from the source tables."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=400, help="How many days back to recompute (default 400).")
        parser.add_argument("--weeks", type=int, default=12, help="How many weeks of maturity history to record (default 12).")

    def handle(self, *args, days: int, weeks: int, **options):
        today = timezone.localdate()
        rows = 0
        first = today - timedelta(days=max(days, 1) - 1)
        while first <= today:  # a month at a time keeps each transaction short
            last = min(first + timedelta(days=30), today)
            rows += rollups.rollups_refresh(first=first, last=last)
            first = last + timedelta(days=1)
        for back in range(max(weeks, 0) - 1, -1, -1):
            day = today - timedelta(weeks=back)
            dashboard.snapshot_week(today=day if back == 0 else day + timedelta(days=6 - day.weekday()))
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows} daily team rows for {days} days and {weeks} weeks of maturity history."))
