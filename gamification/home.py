"""Gamification's part of the homes: an agent's points this week, a manager's week in figures."""
from __future__ import annotations

from accounts.models import Role, User

from . import dashboard, selectors


def home_sections(*, user: User, sections: list) -> None:
    if user.role == Role.AGENT:
        sections.append({
            "order": 20, "column": "side", "template": "gamification/home/_points.html",
            "points": selectors.points_this_week(user),
        })
    elif user.role in (Role.MANAGER, Role.ADMIN):
        sections.append({
            "order": 10 if user.role == Role.MANAGER else 40, "template": "gamification/home/_week.html",
            "week": dashboard.week_headline(),
        })
