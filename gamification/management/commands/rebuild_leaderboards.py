from django.core.management.base import BaseCommand

from gamification import services


class Command(BaseCommand):
    help = "Recompute every leaderboard (Redis sorted sets) from the points ledger."

    def handle(self, *args, **options):
        result = services.leaderboards_rebuild()
        if not result["sets"] and not result["entries"]:
            self.stdout.write("Redis is not configured: leaderboards are computed from the ledger directly.")
            return
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {result['sets']} leaderboards from {result['entries']} ledger entries."))
