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
        self._seed_tickets(desk)
        from communities import demo as communities_demo

        if communities_demo.seed():
            self.stdout.write("created demo communities")
        from gamification import demo as gamification_demo

        if gamification_demo.seed():
            self.stdout.write("created demo points, a campaign and a bounty")
        from intake import demo as intake_demo

        intake_demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready: alice, erin, bob, carol, dave."))

    def _seed_tickets(self, desk):
        from tickets import services as tickets
        from tickets.models import Ticket

        network = services.team_get_or_create(name="Network")
        services.team_get_or_create(name="Security")
        catalogue = {
            "Email": (desk, False, "Mailboxes, calendars and distribution lists."),
            "VPN": (network, False, "Remote access to the company network."),
            "Finance application": (desk, True, "Ledger, invoicing and payroll."),
            "Printing": (desk, False, "Printers, scanners and badges."),
            "Laptops and devices": (desk, False, "Hardware requests and repairs."),
        }
        made = {
            name: tickets.service_create(name=name, description=text, owner_team=team, confidential=confidential)
            for name, (team, confidential, text) in catalogue.items()
        }
        from policies import demo as policies_demo

        if policies_demo.seed(admin=User.objects.get(username="dave")):
            self.stdout.write("created demo outbound channel and policies")
        if Ticket.objects.exists():
            return
        people = {u.username: u for u in User.objects.filter(username__in=["alice", "erin", "bob"])}
        alice, erin, bob = people["alice"], people["erin"], people["bob"]
        vpn = tickets.ticket_create(
            actor=alice, kind="incident", title="VPN disconnects every few minutes",
            description="Since this morning the VPN drops every **5 to 10 minutes** when working from home.",
            impact=2, urgency=2, visibility="public", service=made["VPN"],
        )
        tickets.ticket_me_too(actor=erin, ticket=vpn)
        tickets.ticket_update(actor=bob, ticket=vpn, assignee=bob, status="in_progress")
        tickets.comment_add(actor=bob, ticket=vpn, body="Thanks. We see the same on several sessions; looking at the concentrator.")
        tickets.comment_add(actor=bob, ticket=vpn, body="Concentrator CPU at 95% since the 08:00 update.", internal=True)
        problem = tickets.ticket_create(
            actor=bob, kind="problem", title="VPN concentrator overloaded after update",
            description="Sessions drop when CPU passes 90%.", impact=1, urgency=2, service=made["VPN"],
        )
        tickets.problem_link(actor=bob, problem=problem, incident=vpn)
        tickets.ticket_create(
            actor=erin, kind="request", title="Second monitor for my desk",
            description="A 27-inch monitor, if possible.", impact=3, urgency=3, service=made["Laptops and devices"],
        )
        tickets.ticket_create(
            actor=alice, kind="incident", title="Cannot print to the 3rd floor printer",
            description="The job stays in the queue.", impact=3, urgency=2, service=made["Printing"],
        )
        self.stdout.write("created demo services and tickets")
