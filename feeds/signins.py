"""What the owner of an account hears about its sign-ins: handlers of the accounts hooks
``signin_failures_repeated`` and ``signin_from_new_device`` (subscribed in ``FeedsConfig.ready``).
They run inside the accounts transaction that recorded the fact."""

from __future__ import annotations

from .audience import Audience
from .services import NotificationSpec, ObjectRef, activity_publish


def tell_owner_of_failures(*, user, failures: int) -> None:
    activity_publish(
        actor=None,
        verb="failed_sign_ins",
        obj=ObjectRef("user", user.username, user.display_name),
        audience=Audience.of(users=[user.pk]),
        summary=f"Repeated failed sign-ins on your account ({failures} wrong passwords)",
        notify=[user],
        notification=NotificationSpec(
            kind="security.failed_sign_ins",
            text=(
                f"Repeated failed sign-ins on your account: {failures} wrong passwords from other devices. "
                "Sign-ins from new devices are paused for a while; your usual device still works. "
                "If this was not you, consider changing your password."
            ),
            url="/account/sign-ins/",
        ),
    )


def tell_owner_of_new_device(*, record) -> None:
    device = record.user_agent[:80] or "an unknown device"
    where = record.ip or "an unknown address"
    activity_publish(
        actor=None,
        verb="signed_in_new_device",
        obj=ObjectRef("user", record.user.username, record.user.display_name),
        audience=Audience.of(users=[record.user.pk]),
        summary=f"New sign-in from {device} ({where})",
        notify=[record.user],
        notification=NotificationSpec(
            kind="security.sign_in",
            text=f"New sign-in to your account from {device} ({where}). Not you? Report it.",
            url="/account/sign-ins/",
        ),
        data={"login_id": record.pk},
    )
