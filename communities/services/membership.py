"""Creating communities, joining and leaving, join requests, invitations, removal and roles."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from feeds import live as feeds_live
from feeds.audience import Audience
from feeds.models import Follow
from feeds.services import NotificationSpec, activity_publish, audience_restrict, follow_write
from servicedesk.errors import ApplicationError, Forbidden, NotVisible

from .. import selectors
from ..models import Community, JoinRequest, Membership, Removal
from ._common import community_audience, community_ref


def _join(community: Community, user: User, role: str) -> Membership:
    """Every way in (creating, an approved request, an accepted invitation) was a moderator's or
    owner's choice, so it ends a standing removal."""
    member, _ = Membership.objects.get_or_create(community=community, user=user, defaults={"role": role})
    Removal.objects.filter(community=community, user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
    follow_write(user=user, target_type=Follow.Type.COMMUNITY, target_key=community.slug, target_id=community.pk,
                 reason=Follow.Reason.MEMBER)
    return member


@transaction.atomic
def community_create(*, actor: User, name: str, slug: str = "", description: str = "", visibility: str = "open") -> Community:
    errors = {}
    name = (name or "").strip()
    slug = slugify(slug or name)[:60]
    if not name or len(name) > 120:
        errors["name"] = ["Give a name of up to 120 characters."]
    if not slug:
        errors["slug"] = ["Give a short name for the address (letters, digits, hyphens)."]
    if visibility not in Community.Visibility.values:
        errors["visibility"] = ["Choose open or private."]
    if slug and Community.objects.filter(slug=slug).exists():
        errors["slug"] = ["That address is taken."]
    if name and Community.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A community with that name exists."]
    if errors:
        raise ApplicationError("The community could not be created.", errors=errors)
    community = Community.objects.create(
        name=name, slug=slug, description=description, visibility=visibility, created_by=actor
    )
    _join(community, actor, Membership.Role.OWNER)
    activity_publish(
        actor=actor, verb="created", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
        summary=f"{actor.display_name} started the community {community.name}",
    )
    return community


@transaction.atomic
def community_join(*, actor: User, community: Community) -> str:
    """Join an open community, or ask to join a private one. Returns "member" or "pending"."""
    if Membership.objects.filter(community=community, user=actor).exists():
        return "member"
    if selectors.is_barred(actor, community):
        _check_can_see(actor, community)
        raise Forbidden(selectors.REMOVED_MESSAGE)
    if not community.is_private:
        _join(community, actor, Membership.Role.MEMBER)
        activity_publish(
            actor=actor, verb="joined", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
            summary=f"{actor.display_name} joined {community.name}",
        )
        return "member"
    request, created = JoinRequest.objects.get_or_create(community=community, user=actor, status=JoinRequest.Status.PENDING)
    if created:
        moderators = [m.user for m in community.memberships.filter(
            role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]).select_related("user")]
        activity_publish(
            actor=actor, verb="asked_to_join", obj=community_ref(community),
            audience=Audience.of(users=[actor.pk, *(m.pk for m in moderators)]),
            summary=f"{actor.display_name} asked to join {community.name}", notify=moderators,
            notification=NotificationSpec(kind="community.join_request",
                                          text=f"{actor.display_name} asked to join {community.name}",
                                          url=community.get_absolute_url()),
        )
    return "pending"


@transaction.atomic
def join_request_decide(*, actor: User, community: Community, request_id: int, approve: bool) -> JoinRequest:
    if not selectors.is_moderator(actor, community):
        if selectors.can_read(actor, community):
            raise Forbidden("Only the community's owners and moderators decide who joins.")
        raise NotVisible()
    request = JoinRequest.objects.select_for_update().select_related("user").filter(
        pk=request_id, community=community).first()
    if request is None:
        raise NotVisible()
    if request.status != JoinRequest.Status.PENDING:
        raise ApplicationError("That request was already decided.")
    request.status = JoinRequest.Status.APPROVED if approve else JoinRequest.Status.REJECTED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    if approve:
        _join(community, request.user, Membership.Role.MEMBER)
    activity_publish(
        actor=actor, verb="approved_join" if approve else "declined_join", obj=community_ref(community),
        audience=Audience.of(users=[request.user_id, actor.pk]),
        summary=f"{request.user.display_name} {'joined' if approve else 'was not admitted to'} {community.name}",
        notify=[request.user],
        notification=NotificationSpec(
            kind="community.join_decided",
            text=f"Your request to join {community.name} was {'approved' if approve else 'declined'}",
            url=community.get_absolute_url(),
        ),
    )
    return request


@transaction.atomic
def community_leave(*, actor: User, community: Community) -> None:
    member = Membership.objects.filter(community=community, user=actor).first()
    if member is None:
        return
    if member.role == Membership.Role.OWNER and community.memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ApplicationError("You are the only owner: make someone else an owner first.")
    member.delete()
    Follow.objects.filter(user=actor, target_type=Follow.Type.COMMUNITY, target_key=community.slug).delete()
    if community.is_private:
        audience_restrict(stream=f"community:{community.slug}", allowed=community_audience(community))
    # Their open sockets re-check what they subscribe to (the community, its questions).
    feeds_live.recheck_on_commit(user_ids=[actor.pk])


def _check_can_see(actor: User, community: Community) -> None:
    if not selectors.can_read(actor, community):
        raise NotVisible()


def _drop_member(community: Community, user: User) -> None:
    Membership.objects.filter(community=community, user=user).delete()
    Follow.objects.filter(user=user, target_type=Follow.Type.COMMUNITY, target_key=community.slug).delete()
    if community.is_private:
        audience_restrict(stream=f"community:{community.slug}", allowed=community_audience(community))
    feeds_live.recheck_on_commit(user_ids=[user.pk])


@transaction.atomic
def invitation_create(*, actor: User, community: Community, user: User):
    from ..models import Invitation

    selectors.require_moderator(actor, community, "Only the community's owners and moderators invite people.")
    if not user.is_active:
        raise ApplicationError("That account is not active.", errors={"username": ["No such person."]})
    if Membership.objects.filter(community=community, user=user).exists():
        raise ApplicationError(f"{user.display_name} is already a member.", errors={"username": ["Already a member."]})
    invitation, created = Invitation.objects.get_or_create(
        community=community, user=user, status=Invitation.Status.PENDING, defaults={"invited_by": actor}
    )
    if created:
        activity_publish(
            actor=actor, verb="invited", obj=community_ref(community), audience=Audience.of(users=[actor.pk, user.pk]),
            summary=f"{actor.display_name} invited {user.display_name} to {community.name}", notify=[user],
            notification=NotificationSpec(kind="community.invitation",
                                          text=f"{actor.display_name} invited you to join {community.name}",
                                          url=community.get_absolute_url()),
            data={"invitation": invitation.pk},
        )
    return invitation


@transaction.atomic
def invitation_decide(*, actor: User, invitation_id: int, accept: bool):
    from ..models import Invitation

    invitation = Invitation.objects.select_for_update().select_related("community", "invited_by").filter(
        pk=invitation_id, user=actor).first()
    if invitation is None:
        raise NotVisible()
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError("That invitation was already answered.")
    community = invitation.community
    invitation.status = Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    if accept:
        _join(community, actor, Membership.Role.MEMBER)
        # A pending request to join is answered by the invitation.
        JoinRequest.objects.filter(community=community, user=actor, status=JoinRequest.Status.PENDING).update(
            status=JoinRequest.Status.APPROVED, decided_by=invitation.invited_by, decided_at=timezone.now())
        activity_publish(
            actor=actor, verb="joined", obj=community_ref(community), audience=community_audience(community, users=[actor.pk]),
            summary=f"{actor.display_name} joined {community.name}",
        )
    return invitation


@transaction.atomic
def member_remove(*, actor: User, community: Community, user: User, reason: str = "") -> None:
    selectors.require_moderator(actor, community, "Only the community's owners and moderators remove members.")
    if "\x00" in (reason or ""):
        raise ApplicationError("The reason contains a character that cannot be stored.",
                               errors={"reason": ["Remove the null character."]})
    member = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if member is None:
        raise NotVisible()
    if user.pk == actor.pk:
        raise ApplicationError("To leave, use Leave.")
    actor_role = Membership.objects.get(community=community, user=actor).role
    if member.role != Membership.Role.MEMBER and actor_role != Membership.Role.OWNER:
        raise Forbidden("Only an owner removes an owner or a moderator.")
    _drop_member(community, user)
    Removal.objects.create(community=community, user=user, removed_by=actor, reason=(reason or "")[:300])
    activity_publish(
        actor=actor, verb="removed_member", obj=community_ref(community), audience=Audience.of(users=[actor.pk, user.pk]),
        summary=f"{user.display_name} was removed from {community.name}",
        notify=[user], notification=NotificationSpec(
            kind="community.removed", text=f"You were removed from {community.name}" + (f": {reason[:200]}" if reason else ""),
            url="/communities/"),
    )


@transaction.atomic
def member_role_set(*, actor: User, community: Community, user: User, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ApplicationError("Unknown role.", errors={"role": ["Choose owner, moderator or member."]})
    if not Membership.objects.filter(community=community, user=actor, role=Membership.Role.OWNER).exists():
        _check_can_see(actor, community)
        raise Forbidden("Only an owner changes roles.")
    member = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if member is None:
        raise NotVisible()
    if member.role == Membership.Role.OWNER and role != Membership.Role.OWNER and \
            community.memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise ApplicationError("A community keeps at least one owner.")
    member.role = role
    member.save(update_fields=["role"])
    return member
