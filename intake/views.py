"""The inbound channels page (admins) and the chat endpoints Slack and Teams call."""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Role
from servicedesk.errors import ApplicationError

from . import chat, selectors, services
from .forms import ChatConnectionEditForm, ChatConnectionForm, MailboxForm, mailbox_edit_form, mailbox_initial
from .models import ChatConnection, Mailbox

logger = logging.getLogger(__name__)


def _is_admin(user) -> bool:
    return user.is_authenticated and user.is_active and user.role == Role.ADMIN


def _form_error(form, exc: ApplicationError) -> None:
    placed = False
    for field, errors in exc.errors.items():
        if field in form.fields:
            form.add_error(field, errors)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _refuse_page(request):
    return render(request, "403.html", {"message": "Only admins manage inbound channels.",
                                        "back_url": reverse("home"), "back_label": "Go home"}, status=403)


@login_required
def channels_page(request):
    if not _is_admin(request.user):
        return _refuse_page(request)
    mailbox_form = MailboxForm(prefix="mailbox")
    chat_form = ChatConnectionForm(prefix="chat")
    if request.method == "POST":
        if request.POST.get("form") == "mailbox":
            mailbox_form = MailboxForm(request.POST, prefix="mailbox")
            if mailbox_form.is_valid():
                try:
                    services.mailbox_save(actor=request.user, **mailbox_form.cleaned_data)
                    return redirect("intake:channels")
                except ApplicationError as exc:
                    _form_error(mailbox_form, exc)
        elif request.POST.get("form") == "chat":
            chat_form = ChatConnectionForm(request.POST, prefix="chat")
            if chat_form.is_valid():
                try:
                    services.chat_connection_create(actor=request.user, **chat_form.cleaned_data)
                    return redirect("intake:channels")
                except ApplicationError as exc:
                    _form_error(chat_form, exc)
        status = 400
    else:
        status = 200
    base = settings.SITE_URL.rstrip("/")
    connections = [(c, _endpoints(base, c)) for c in selectors.chat_connections()]
    return render(request, "intake/channels.html", {
        "mailboxes": selectors.mailboxes(), "connections": connections, "failed": selectors.not_imported(),
        "recent": selectors.recent_messages(), "mailbox_form": mailbox_form, "chat_form": chat_form,
    }, status=status)


def _edit_page(request, subject, *, form_class, initial, prefix, save, what, has_secret):
    """One inbound channel's edit page: the form, the service call, errors next to their fields."""
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                save(**form.cleaned_data)
                return redirect("intake:channels")
            except ApplicationError as exc:
                _form_error(form, exc)
        status = 400
    else:
        form = form_class(initial=initial, prefix=prefix)
    return render(request, "intake/edit.html", {"form": form, "subject": subject, "what": what,
                                                "has_secret": has_secret}, status=status)


@login_required
def mailbox_edit(request, pk: int):
    if not _is_admin(request.user):
        return _refuse_page(request)
    mailbox = get_object_or_404(Mailbox, pk=pk)
    return _edit_page(
        request, mailbox, form_class=mailbox_edit_form, initial=mailbox_initial(mailbox), prefix="mailbox",
        save=lambda **data: services.mailbox_save(actor=request.user, mailbox=mailbox, **data),
        what="mailbox", has_secret=bool(mailbox.secret),
    )


@login_required
def chat_connection_edit(request, pk: int):
    if not _is_admin(request.user):
        return _refuse_page(request)
    connection = get_object_or_404(ChatConnection, pk=pk)
    return _edit_page(
        request, connection, form_class=ChatConnectionEditForm, initial=ChatConnectionEditForm.initial_for(connection),
        prefix="chat", save=lambda **data: services.chat_connection_update(actor=request.user, connection=connection, **data),
        what="chat connection", has_secret=True,
    )


@login_required
@require_POST
def set_active(request, what: str, pk: int):
    if not _is_admin(request.user):
        return _refuse_page(request)
    model = {"mailboxes": Mailbox, "chat": ChatConnection}[what]
    channel = get_object_or_404(model, pk=pk)
    services.channel_set_active(actor=request.user, channel=channel, active=request.POST.get("active") == "1")
    return redirect("intake:channels")


def _endpoints(base: str, connection: ChatConnection) -> list[tuple[str, str]]:
    if connection.kind == ChatConnection.Kind.SLACK:
        return [("Slash command", base + reverse("intake:slack_command", args=[connection.slug])),
                ("Events", base + reverse("intake:slack_events", args=[connection.slug]))]
    return [("Outgoing webhook", base + reverse("intake:teams", args=[connection.slug]))]


def _refused(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


@csrf_exempt
@require_POST
def slack_command(request, slug: str):
    connection = get_object_or_404(ChatConnection, slug=slug, kind=ChatConnection.Kind.SLACK, active=True)
    body = request.body
    try:
        fingerprint = chat.verify_slack(secret=connection.secret, body=body,
                                        timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                                        signature=request.headers.get("X-Slack-Signature"),
                                        max_age=settings.CHAT_SIGNATURE_MAX_AGE_SECONDS)
    except chat.NotSigned as exc:
        return _refused(401, str(exc))
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    try:
        _, answer = services.chat_ticket_log(
            connection=connection, fingerprint=fingerprint, external_user=form.get("user_id", ""),
            text=form.get("text", ""), thread=form.get("channel_id", ""),
        )
    except services.Replayed:
        return _refused(403, "This request was already served.")
    return JsonResponse({"response_type": "ephemeral", "text": answer})


@csrf_exempt
@require_POST
def slack_events(request, slug: str):
    connection = get_object_or_404(ChatConnection, slug=slug, kind=ChatConnection.Kind.SLACK, active=True)
    try:
        fingerprint = chat.verify_slack(secret=connection.secret, body=request.body,
                                        timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                                        signature=request.headers.get("X-Slack-Signature"),
                                        max_age=settings.CHAT_SIGNATURE_MAX_AGE_SECONDS)
    except chat.NotSigned as exc:
        return _refused(401, str(exc))
    try:
        payload = json.loads(request.body)
    except ValueError:
        return _refused(400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return _refused(400, "The body is not a JSON object.")
    if payload.get("type") == "url_verification":
        return JsonResponse({"challenge": str(payload.get("challenge", ""))})
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    if payload.get("type") != "event_callback" or event.get("type") not in {"app_mention", "message"} or event.get("bot_id"):
        return JsonResponse({"ok": True})
    text = " ".join(w for w in str(event.get("text", "")).split() if not (w.startswith("<@") and w.endswith(">")))
    thread = f"{event.get('channel', '')}/{event.get('thread_ts') or event.get('ts', '')}"
    try:
        services.chat_ticket_log(connection=connection, fingerprint=fingerprint, external_user=str(event.get("user", "")),
                                 text=text, thread=thread, event_id=str(payload.get("event_id", "")))
    except services.Replayed:
        return _refused(403, "This request was already served.")
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def teams_webhook(request, slug: str):
    connection = get_object_or_404(ChatConnection, slug=slug, kind=ChatConnection.Kind.TEAMS, active=True)
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    sent_at = payload.get("timestamp") if isinstance(payload, dict) else None
    try:
        fingerprint = chat.verify_teams(secret=connection.secret, body=request.body,
                                        authorization=request.headers.get("Authorization"), sent_at=sent_at,
                                        max_age=settings.CHAT_SIGNATURE_MAX_AGE_SECONDS)
    except chat.NotSigned as exc:
        return _refused(401, str(exc))
    if not isinstance(payload, dict):
        return _refused(400, "The body is not a JSON object.")
    sender = payload.get("from") if isinstance(payload.get("from"), dict) else {}
    text = " ".join(w for w in _strip_tags(str(payload.get("text", ""))).split())
    conversation = payload.get("conversation") if isinstance(payload.get("conversation"), dict) else {}
    try:
        _, answer = services.chat_ticket_log(
            connection=connection, fingerprint=fingerprint,
            external_user=str(sender.get("aadObjectId") or sender.get("id") or ""),
            text=text, thread=str(conversation.get("id", "")), event_id=str(payload.get("id", "")),
        )
    except services.Replayed:
        return _refused(403, "This request was already served.")
    return JsonResponse({"type": "message", "text": answer})


def _strip_tags(html: str) -> str:
    import re

    from django.utils.html import strip_tags

    # Teams puts the mention of the webhook first: "<at>Desk</at> printer broken".
    return strip_tags(re.sub(r"<at>.*?</at>", " ", html))


