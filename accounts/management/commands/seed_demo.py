from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import Role, User

DEMO_PEOPLE = [
    # username, role, display name, title, location, expertise
    ("alice", Role.END_USER, "Alice Martin", "Accountant", "Paris, 3rd floor", ["excel", "sap"]),
    ("erin", Role.END_USER, "Erin Walsh", "Sales lead", "Dublin office", ["crm", "outlook"]),
    ("bob", Role.AGENT, "Bob Okafor", "Service desk agent", "Lyon, IT room", ["windows", "vpn", "printers"]),
    ("carol", Role.MANAGER, "Carol Nguyen", "Service desk manager", "Paris, 5th floor", ["itil", "reporting"]),
    ("dave", Role.ADMIN, "Dave Schmidt", "Platform administrator", "Remote", ["security", "integrations"]),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo accounts and data. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True, help="Password given to every demo account.")

    @transaction.atomic
    def handle(self, *args, password: str, **options):
        desk = services.team_get_or_create(name="Service Desk")
        for username, role, name, title, location, tags in DEMO_PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.user_create(
                    username=username,
                    password=password,
                    role=role,
                    email=f"{username}@example.com",
                    display_name=name,
                    team=desk if role != Role.END_USER else None,
                    title=title,
                    location=location,
                    expertise_tags=tags,
                )
                self.stdout.write(f"created {username} ({role})")
            else:
                services.user_set_password(user=user, password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready: alice, erin, bob, carol, dave."))
