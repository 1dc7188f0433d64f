"""Services a community covers, and bridges between communities."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from feeds.audience import Audience
from feeds.services import NotificationSpec, activity_publish
from servicedesk.errors import ApplicationError, Forbidden, NotVisible

from .. import selectors
from ..models import Community, Membership
from ._common import community_audience, community_ref
from .membership import _check_can_see


@transaction.atomic
def community_services_set(*, actor: User, community: Community, services) -> None:
    selectors.require_moderator(actor, community, "Only the community's owners and moderators link services.")
    community.services.set(services)


@transaction.atomic
def bridge_propose(*, actor: User, source: Community, target: Community):
    """A moderator of `source` proposes a link; a moderator of `target` accepts it."""
    from ..models import Bridge

    selectors.require_moderator(actor, source, "Only the community's owners and moderators link communities.")
    if not selectors.can_read(actor, target):
        raise NotVisible()
    if source.pk == target.pk:
        raise ApplicationError("A community cannot be linked to itself.", errors={"target": ["Choose another community."]})
    existing = Bridge.objects.filter(_pair(source, target)).first()
    if existing is not None:
        if existing.status == Bridge.Status.PROPOSED and existing.target_id == source.pk:
            return bridge_accept(actor=actor, bridge=existing)
        return existing
    bridge = Bridge.objects.create(source=source, target=target, proposed_by=actor)
    moderators = [m.user for m in target.memberships.filter(
        role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR]).select_related("user")]
    if selectors.is_moderator(actor, target):
        return bridge_accept(actor=actor, bridge=bridge)
    activity_publish(
        actor=actor, verb="proposed_link", obj=community_ref(target), target=community_ref(source),
        audience=Audience.of(users=[actor.pk, *(m.pk for m in moderators)]),
        summary=f"{actor.display_name} proposed linking {source.name} and {target.name}", notify=moderators,
        notification=NotificationSpec(kind="community.bridge", text=f"{source.name} would like to link with {target.name}",
                                      url=target.get_absolute_url()),
    )
    return bridge


def _pair(a: Community, b: Community):
    from django.db.models import Q

    return Q(source=a, target=b) | Q(source=b, target=a)


@transaction.atomic
def bridge_accept(*, actor: User, bridge):
    from ..models import Bridge

    bridge = Bridge.objects.select_for_update().select_related("source", "target").get(pk=bridge.pk)
    selectors.require_moderator(actor, bridge.target, "Only the other community's owners and moderators accept a link.")
    if bridge.status == Bridge.Status.ACTIVE:
        return bridge
    bridge.status, bridge.accepted_by = Bridge.Status.ACTIVE, actor
    bridge.save(update_fields=["status", "accepted_by"])
    for here, there in ((bridge.source, bridge.target), (bridge.target, bridge.source)):
        # Each side's own audience: a private community's name reaches only its members.
        activity_publish(
            actor=actor, verb="linked", obj=community_ref(here), audience=community_audience(here),
            summary=f"{here.name} is now linked with {there.name}" if not there.is_private else f"{here.name} linked a related community",
        )
    return bridge


@transaction.atomic
def bridge_remove(*, actor: User, bridge) -> None:
    if not (selectors.is_moderator(actor, bridge.source) or selectors.is_moderator(actor, bridge.target)):
        _check_can_see(actor, bridge.source)
        raise Forbidden("Only moderators of either community remove a link.")
    bridge.delete()
