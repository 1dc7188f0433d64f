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
    # What the notification list calls one of these ("Reply") and several ("replies"), as in
    # "3 replies on INC-000042".
    badge: str = ""
    plural: str = "updates"


KINDS: dict[str, KindInfo] = {
    "ticket.reply": KindInfo("Replies on tickets I follow", coalesce="object", badge="Reply", plural="replies"),
    "ticket.status": KindInfo("Status changes on tickets I follow", badge="Status change", plural="status changes"),
    "ticket.assigned": KindInfo("Tickets assigned to me", badge="Assigned to you", plural="assignments"),
    "ticket.mentioned": KindInfo("A ticket I follow is mentioned elsewhere", email=False, coalesce="object", badge="Mentioned", plural="mentions"),
    "ticket.person_mentioned": KindInfo("Mentions of me on tickets", coalesce="actor", badge="Mention", plural="mentions"),
    "ticket.critical": KindInfo("Critical tickets for my team", staff_only=True, badge="Critical", plural="critical tickets"),
    "ticket.note": KindInfo("Internal notes on tickets I follow", email=False, staff_only=True, coalesce="object", badge="Internal note", plural="internal notes"),
    "ticket.rated": KindInfo("Ratings of tickets I resolved", email=False, staff_only=True, badge="Rating", plural="ratings"),
    "sla.warned": KindInfo("SLA warnings", staff_only=True, badge="SLA warning", plural="SLA warnings"),
    "sla.breached": KindInfo("SLA breaches", staff_only=True, badge="SLA breach", plural="SLA breaches"),
    "post.mention": KindInfo("Mentions of me", coalesce="actor", badge="Mention", plural="mentions"),
    "post.comment": KindInfo("Comments on my posts", email=False, coalesce="object", badge="Comment", plural="comments"),
    "post.like": KindInfo("Likes of my posts", email=False, coalesce="actor", badge="Like", plural="likes"),
    "post.wall": KindInfo("Posts on my wall", email=False, coalesce="actor", badge="Wall post", plural="wall posts"),
    "community.answer": KindInfo("Answers to my questions", coalesce="object", badge="Answer", plural="answers"),
    "community.accepted": KindInfo("My answer was accepted", email=False, badge="Accepted answer", plural="accepted answers"),
    "community.join_request": KindInfo("Requests to join communities I moderate", coalesce="object", badge="Join request", plural="join requests"),
    "community.join_decided": KindInfo("Decisions on my requests to join", badge="Membership", plural="membership decisions"),
    "community.invitation": KindInfo("Invitations to join a community", badge="Invitation", plural="invitations"),
    "community.mentioned": KindInfo("Mentions of me in communities", coalesce="actor", badge="Mention", plural="mentions"),
    "community.comment": KindInfo("Comments on my answers", email=False, coalesce="object", badge="Comment", plural="comments"),
    "community.idea_status": KindInfo("Status changes of ideas I suggested or voted for", badge="Idea status", plural="idea updates"),
    "community.bridge": KindInfo("Proposals to link communities I moderate", email=False, badge="Link proposal", plural="link proposals"),
    "community.removed": KindInfo("Moderators removing my posts or membership", badge="Moderation", plural="moderation notices"),
    "gamification.badge": KindInfo("Badges I earned", email=False, badge="Badge", plural="badges"),
    "security.sign_in": KindInfo("Sign-ins from a new device", urgent=True, badge="New device", plural="sign-ins"),
    "security.failed_sign_ins": KindInfo("Repeated failed sign-ins on my account", urgent=True, badge="Failed sign-ins", plural="failed sign-in alerts"),
    "security.report": KindInfo("Security reports (admins)", urgent=True, staff_only=True, badge="Security report", plural="security reports"),
    "policies.dlp": KindInfo("Possible personal data or secrets posted inside the product", email=False, staff_only=True, badge="Data check", plural="data checks"),
    "policies.dlp_own": KindInfo("Possible personal data or secrets in what I wrote", email=False, badge="Data check", plural="data checks"),
}


def info(kind: str) -> KindInfo:
    return KINDS.get(kind, KindInfo(kind.replace(".", " ").replace("_", " ").capitalize()))


def badge(kind: str) -> str:
    """The short human name of a kind for lists ("Reply"), never its code."""
    known = info(kind)
    return known.badge or known.label
