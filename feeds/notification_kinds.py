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
    # Repeats from one actor to one person within NOTIFICATION_COALESCE_SECONDS become one
    # notification (and at most one e-mail): "object" merges repeats about the same thing,
    # "actor" merges everything of this kind from that actor, "" never merges.
    coalesce: str = ""


KINDS: dict[str, KindInfo] = {
    "ticket.reply": KindInfo("Replies on tickets I follow", coalesce="object"),
    "ticket.status": KindInfo("Status changes on tickets I follow"),
    "ticket.assigned": KindInfo("Tickets assigned to me"),
    "ticket.mentioned": KindInfo("A ticket I follow is mentioned elsewhere", email=False, coalesce="object"),
    "ticket.critical": KindInfo("Critical tickets for my team", staff_only=True),
    "ticket.note": KindInfo("Internal notes on tickets I follow", email=False, staff_only=True, coalesce="object"),
    "ticket.rated": KindInfo("Ratings of tickets I resolved", email=False, staff_only=True),
    "sla.warned": KindInfo("SLA warnings", staff_only=True),
    "sla.breached": KindInfo("SLA breaches", staff_only=True),
    "post.mention": KindInfo("Mentions of me", coalesce="actor"),
    "post.comment": KindInfo("Comments on my posts", email=False, coalesce="object"),
    "post.like": KindInfo("Likes of my posts", email=False, coalesce="actor"),
    "post.wall": KindInfo("Posts on my wall", email=False, coalesce="actor"),
    "community.answer": KindInfo("Answers to my questions", coalesce="object"),
    "community.accepted": KindInfo("My answer was accepted", email=False),
    "community.join_request": KindInfo("Requests to join communities I moderate", coalesce="object"),
    "community.join_decided": KindInfo("Decisions on my requests to join"),
    "community.invitation": KindInfo("Invitations to join a community"),
    "community.mentioned": KindInfo("Mentions of me in communities", coalesce="actor"),
    "community.comment": KindInfo("Comments on my answers", email=False, coalesce="object"),
    "community.idea_status": KindInfo("Status changes of ideas I suggested or voted for"),
    "community.bridge": KindInfo("Proposals to link communities I moderate", email=False),
    "community.removed": KindInfo("Moderators removing my posts or membership"),
    "gamification.badge": KindInfo("Badges I earned", email=False),
    "security.sign_in": KindInfo("Sign-ins from a new device", urgent=True),
    "security.failed_sign_ins": KindInfo("Repeated failed sign-ins on my account", urgent=True),
    "security.report": KindInfo("Security reports (admins)", urgent=True, staff_only=True),
    "policies.dlp": KindInfo("Possible personal data or secrets posted inside the product", email=False, staff_only=True),
    "policies.dlp_own": KindInfo("Possible personal data or secrets in what I wrote", email=False),
}


def info(kind: str) -> KindInfo:
    return KINDS.get(kind, KindInfo(kind.replace(".", " ").capitalize()))
