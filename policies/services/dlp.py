"""Internal data-loss prevention: scanning what people write and telling them privately."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from feeds.audience import Audience
from feeds.services import NotificationSpec, ObjectRef, activity_publish
from servicedesk.errors import NotVisible

from .. import detectors, selectors
from ..models import DlpFlag
from ._common import _require_reviewer
from .deciding import _internal_domains, _public_hosts

# What a flag calls the object a text was written in, where the model's own name says it badly.
FLAG_KINDS = {"feeds.postcomment": "feeds.comment", "communities.answercomment": "communities.answer_comment"}


# How the author is told what was written in: "your comment", "your ticket's title".
WRITTEN_IN = {
    "tickets.ticket": "ticket", "tickets.comment": "reply", "feeds.post": "post", "feeds.comment": "comment",
    "communities.question": "question", "communities.answer": "answer", "communities.answer_comment": "comment",
    "communities.article": "article", "communities.idea": "idea", "communities.poll": "poll",
}


def _written_in(obj) -> tuple[str, str]:
    """The flag's kind and a link to where the text is, for any object people write in."""
    label = f"{obj._meta.app_label}.{obj._meta.model_name}"
    kind = FLAG_KINDS.get(label, label)
    if hasattr(obj, "get_absolute_url"):
        return kind, obj.get_absolute_url()
    if kind == "feeds.post":
        return kind, f"/posts/{obj.pk}/"
    if kind == "feeds.comment":
        return kind, f"/posts/{obj.post_id}/"
    if kind == "tickets.comment":
        return kind, f"{obj.ticket.get_absolute_url()}#comment-{obj.pk}"
    if kind == "communities.answer":
        return kind, f"{obj.question.get_absolute_url()}#answer-{obj.pk}"
    if kind == "communities.answer_comment":
        return kind, f"{obj.answer.question.get_absolute_url()}#answer-{obj.answer_id}"
    return kind, ""


def text_scan(*, author, text: str, obj, field: str) -> DlpFlag | None:
    """Subscribed to `hooks.text_written`: every text people write is scanned (warn, never block)."""
    kind, url = _written_in(obj)
    return dlp_scan(author=author, kind=kind, object_id=obj.pk, text=text, url=url, field=field)


def dlp_scan(*, author: User | None, kind: str, object_id, text: str, url: str = "", field: str = "") -> DlpFlag | None:
    """Scan something said inside the product; on a hit, flag it to reviewers and tell the author
    privately what looked sensitive. Never blocks: the text stays as written.

    Runs in the writing service's transaction (through `hooks.text_written`)."""
    findings = detectors.find_personal_data(text or "", public_hosts=_public_hosts(), internal_domains=_internal_domains())
    if not findings:
        return None
    flag = DlpFlag.objects.create(
        kind=kind, object_id=str(object_id), url=url[:300], author=author, field=field[:32],
        findings=[{"kind": f.kind, "label": detectors.LABELS[f.kind], "sample": f.masked} for f in findings],
    )
    people = list(selectors.reviewers().exclude(pk=author.pk if author else None))
    what = ", ".join(detectors.describe(findings))
    noun = kind.split(".")[-1].replace("_", " ")
    if people:
        activity_publish(
            actor=None, verb="flagged", obj=ObjectRef("dlp_flag", str(flag.pk), f"Possible personal data in {kind}"),
            audience=Audience.of(users=[p.pk for p in people]),
            summary=f"Possible {what} in {kind.replace('.', ' ')} by {author.display_name if author else 'someone'}",
            notify=people,
            notification=NotificationSpec(kind="policies.dlp", text=f"Possible {what} in a {noun}", url="/communications/flags/"),
        )
    if author is not None and author.is_active:
        place = WRITTEN_IN.get(kind, noun)
        where = f"your {place}'s {field}" if field and field != "body" else f"your {place}"
        activity_publish(
            actor=None, verb="flagged_own", obj=ObjectRef("dlp_flag", str(flag.pk), f"Possible personal data in {where}"),
            audience=Audience.of(users=[author.pk]), summary=f"Possible {what} in {where}", notify=[author],
            notification=NotificationSpec(
                kind="policies.dlp_own", url=url or "/",
                text=f"What you wrote in {where} may contain {what}. It was posted as written; edit it out if it should "
                     f"not be there.",
            ),
        )
    return flag


@transaction.atomic
def dlp_flag_dismiss(*, actor: User, flag_id) -> DlpFlag:
    _require_reviewer(actor)
    flag = DlpFlag.objects.select_for_update().filter(pk=flag_id).first() if str(flag_id).isdecimal() else None
    if flag is None:
        raise NotVisible()
    if flag.status == DlpFlag.Status.OPEN:
        flag.status, flag.reviewed_by, flag.reviewed_at = DlpFlag.Status.DISMISSED, actor, timezone.now()
        flag.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return flag
