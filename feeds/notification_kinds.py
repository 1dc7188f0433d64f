"""Every kind of notification, what people see it called, and its defaults per channel.

Defaults aim at "nobody is spammed": e-mail for what needs acting on, in-app only for the rest.
Urgent kinds (security) ignore quiet hours and the digest.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindInfo:
    label: str
    in_app: bool = True
    email: bool = True
    urgent: bool = False
    staff_only: bool = False  # only agents, managers and admins ever receive it


KINDS: dict[str, KindInfo] = {
    "ticket.reply": KindInfo("Replies on tickets I follow"),
    "ticket.status": KindInfo("Status changes on tickets I follow"),
    "ticket.assigned": KindInfo("Tickets assigned to me"),
    "ticket.mentioned": KindInfo("A ticket I follow is mentioned elsewhere", email=False),
    "ticket.critical": KindInfo("Critical tickets for my team", staff_only=True),
    "ticket.note": KindInfo("Internal notes on tickets I follow", email=False, staff_only=True),
    "ticket.rated": KindInfo("Ratings of tickets I resolved", email=False, staff_only=True),
    "sla.warned": KindInfo("SLA warnings", staff_only=True),
    "sla.breached": KindInfo("SLA breaches", staff_only=True),
    "post.mention": KindInfo("Mentions of me"),
    "post.comment": KindInfo("Comments on my posts", email=False),
    "post.like": KindInfo("Likes of my posts", email=False),
    "post.wall": KindInfo("Posts on my wall", email=False),
    "community.answer": KindInfo("Answers to my questions"),
    "community.accepted": KindInfo("My answer was accepted", email=False),
    "community.join_request": KindInfo("Requests to join communities I moderate"),
    "community.join_decided": KindInfo("Decisions on my requests to join"),
    "community.invitation": KindInfo("Invitations to join a community"),
    "community.mentioned": KindInfo("Mentions of me in communities"),
    "community.comment": KindInfo("Comments on my answers", email=False),
    "community.idea_status": KindInfo("Status changes of ideas I suggested or voted for"),
    "community.bridge": KindInfo("Proposals to link communities I moderate", email=False),
    "community.removed": KindInfo("Moderators removing my posts or membership"),
    "gamification.badge": KindInfo("Badges I earned", email=False),
    "security.sign_in": KindInfo("Sign-ins from a new device", urgent=True),
    "security.failed_sign_ins": KindInfo("Repeated failed sign-ins on my account", urgent=True),
    "security.report": KindInfo("Security reports (admins)", urgent=True, staff_only=True),
    "policies.dlp": KindInfo("Possible personal data or secrets posted inside the product", email=False, staff_only=True),
}


def info(kind: str) -> KindInfo:
    return KINDS.get(kind, KindInfo(kind.replace(".", " ").capitalize()))
