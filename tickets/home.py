"""The tickets' part of the role homes.

End users start with "Report an issue", their open tickets and the incidents they follow;
agents get "My work": their open tickets by SLA due, the unassigned ones of their team and the
latest activity on what they follow."""
from __future__ import annotations

from accounts.models import Role, User

from . import selectors


def home_sections(*, user: User, sections: list) -> None:
    if user.role == Role.END_USER:
        sections.append({"order": 0, "template": "tickets/home/_report.html"})
        sections.append({
            "order": 10, "template": "tickets/home/_list.html", "id": "home-my-tickets", "title": "My open tickets",
            "more_url": "/tickets/mine/", "more_label": "See all", "more_hidden": " my open tickets",
            "tickets": selectors.home_my_open(user=user),
            "empty_title": "Nothing open.", "empty_text": "Tickets you report show here with their state.",
        })
        sections.append({
            "order": 20, "template": "tickets/home/_followed.html", "id": "home-followed", "title": "Incidents I follow",
            "tickets": selectors.home_followed(user=user, incidents_only=True),
            "empty_text": "Follow an incident (or add “me too”) to see its latest update here.",
        })
    elif user.role == Role.AGENT:
        sections.append({
            "order": 10, "template": "tickets/home/_list.html", "id": "home-assigned", "title": "My open tickets by SLA due",
            "more_url": "/queue/?assignee=me", "more_label": "Open in the queue", "sla": True,
            "tickets": selectors.home_assigned_by_sla(user=user),
            "empty_title": "Nothing assigned to you.", "empty_text": "Take one from your team's unassigned tickets.",
        })
        sections.append({
            "order": 20, "template": "tickets/home/_list.html", "id": "home-unassigned",
            "title": f"Unassigned in {user.team.name}" if user.team_id else "Unassigned in my team",
            "more_url": "/queue/", "more_label": "Open the queue", "sla": True,
            "tickets": selectors.home_unassigned_in_team(user=user),
            "empty_title": "Nothing waiting.", "empty_text": "Every open ticket of your team has someone on it.",
        })
        sections.append({
            "order": 30, "template": "tickets/home/_followed.html", "id": "home-followed", "title": "Tickets I follow",
            "tickets": selectors.home_followed(user=user),
            "empty_text": "Tickets you follow show here with their latest comment.",
        })
