"""Pages of communication policies: channels, policies with a live preview, outbound posts, the
review queue, the audit trail (with CSV), the listening wall and DLP flags.

Reads come from `policies.selectors`; every change goes through `policies.services`. An
`ApplicationError` becomes a form error (400), the shared 403 page or a 404.
"""
from __future__ import annotations

import csv
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from servicedesk import pages
from servicedesk.errors import ApplicationError
from servicedesk.queue import enqueue_on_commit
from tickets.models import Service

from . import selectors, senders, services
from .models import Audience, AuditEntry, Channel, EventKind, ListeningSource, OutboundStatus

AUDIT_PAGE = 100


_forbidden = pages.forbidden_page("policies", url_name="home", label="Go home")


def _layout(request, template: str, context: dict, status: int = 200):
    user = request.user
    context.update({
        "is_admin": selectors.is_admin(user), "can_review": selectors.can_review(user), "can_listen": selectors.can_listen(user),
    })
    return render(request, template, context, status=status)


def _service_error(form: forms.Form, exc: ApplicationError) -> None:
    placed = False
    for field, errors in exc.errors.items():
        name = field.split(".")[0]
        if name in form.fields:
            form.add_error(name, errors)
            placed = True
        elif name == "config":
            form.add_error(None, errors)
            placed = True
        elif name == "quiet_hours" and "quiet_hours_start" in form.fields:
            form.add_error("quiet_hours_start", errors)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def home(request):
    if selectors.can_review(request.user):
        return redirect("policies:review")
    if selectors.can_listen(request.user):
        return redirect("policies:listening")
    return _forbidden(request, "Communications are for the service desk.")


# --- channels -----------------------------------------------------------------------------------


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Channel.Kind.choices, label="Kind")
    audience = forms.ChoiceField(choices=Audience.choices, label="Who can read it")
    url = forms.URLField(required=False, label="Webhook or instance address", assume_scheme="https",
                         help_text="Webhook, Slack and Teams: the incoming-webhook URL. Mastodon: the instance, e.g. https://mastodon.social.")
    secret = forms.CharField(required=False, label="Secret or access token", widget=forms.PasswordInput(render_value=False),
                             help_text="Webhook: the signing secret. Mastodon and X: the access token. Stored, never shown again.")
    recipients = forms.CharField(required=False, label="E-mail recipients", widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="E-mail lists: one address a line.")
    announces_incidents = forms.BooleanField(required=False, label="Announce public major incidents here (status channel)")
    offered_to_requesters = forms.BooleanField(required=False, label="People may choose it for their own ticket updates")

    def config(self) -> dict:
        d = self.cleaned_data
        kind, url, secret = d["kind"], d.get("url") or "", d.get("secret") or ""
        recipients = [line.strip() for line in (d.get("recipients") or "").splitlines() if line.strip()]
        if kind in ("webhook", "slack", "teams"):
            return {"url": url, **({"secret": secret} if kind == "webhook" and secret else {})}
        if kind == "email":
            return {"to": recipients}
        if kind == "mastodon":
            return {"instance_url": url, "access_token": secret}
        if kind == "x":
            return {"bearer_token": secret}
        return {}


@login_required
def channels(request):
    if not selectors.is_admin(request.user):
        return _forbidden(request, "Only admins manage outbound channels.")
    form = ChannelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                channel = services.channel_create(
                    actor=request.user, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"],
                    audience=form.cleaned_data["audience"], config=form.config(),
                    announces_incidents=form.cleaned_data["announces_incidents"],
                    offered_to_requesters=form.cleaned_data["offered_to_requesters"],
                )
            except ApplicationError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, f"Channel \u201c{channel.name}\u201d created.")
                return redirect("policies:channels")
        status = 400
    rows = [(c, senders.masked_config(c.config)) for c in selectors.channels()]
    return _layout(request, "policies/channels.html", {"form": form, "rows": rows, "section": "channels"}, status)


class ChannelEditForm(forms.Form):
    """The kind is fixed; secrets are never shown: a blank secret field keeps the stored one."""

    name = forms.CharField(max_length=120)
    audience = forms.ChoiceField(choices=Audience.choices, label="Who can read it")
    url = forms.URLField(required=False, label="Webhook or instance address", assume_scheme="https")
    secret = forms.CharField(required=False, label="New secret or access token", widget=forms.PasswordInput(render_value=False),
                             help_text="Leave blank to keep the stored one. Stored, never shown again.")
    clear_secret = forms.BooleanField(required=False, label="Remove the stored secret or access token")
    recipients = forms.CharField(required=False, label="E-mail recipients", widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="One address a line.")
    announces_incidents = forms.BooleanField(required=False, label="Announce public major incidents here (status channel)")
    offered_to_requesters = forms.BooleanField(required=False, label="People may choose it for their own ticket updates")
    active = forms.BooleanField(required=False, label="Active",
                                help_text="An inactive channel sends nothing; its posts and audit stay.")

    def __init__(self, *args, channel: Channel, **kwargs):
        self.channel = channel
        config = channel.config or {}
        initial = {
            "name": channel.name, "audience": channel.audience, "announces_incidents": channel.announces_incidents,
            "offered_to_requesters": channel.offered_to_requesters, "active": channel.active,
            "url": config.get("instance_url", ""), "recipients": "\n".join(config.get("to") or []),
        }
        super().__init__(*args, initial=initial, **kwargs)
        kind = channel.kind
        if kind in ("webhook", "slack", "teams"):
            self.fields["url"].label = "New webhook address"
            self.fields["url"].help_text = "The address is a secret too: leave blank to keep the stored one."
        if kind in ("slack", "teams", "email", "rss"):
            del self.fields["secret"], self.fields["clear_secret"]
        if kind not in ("webhook", "slack", "teams", "mastodon"):
            del self.fields["url"]
        if kind == "mastodon":
            self.fields["url"].label = "Instance address"
        if kind != "email":
            del self.fields["recipients"]

    def config_patch(self) -> dict:
        """Only what changes: a left-out secret is kept by `channel_update`, None clears it."""
        d, kind = self.cleaned_data, self.channel.kind
        url, secret, clear = d.get("url") or "", d.get("secret") or "", d.get("clear_secret")
        patch: dict = {}
        secret_key = {"webhook": "secret", "mastodon": "access_token", "x": "bearer_token"}.get(kind)
        if kind in ("webhook", "slack", "teams") and url:
            patch["url"] = url
        if kind == "mastodon":
            patch["instance_url"] = url or None
        if kind == "email":
            patch["to"] = _lines(d.get("recipients") or "") or None
        if secret_key and secret:
            patch[secret_key] = secret
        elif secret_key and clear:
            patch[secret_key] = None
        return patch


@login_required
def channel_edit(request, pk: int):
    if not selectors.is_admin(request.user):
        return _forbidden(request, "Only admins manage outbound channels.")
    channel = selectors.channels().filter(pk=pk).first()
    if channel is None:
        raise Http404("No such channel.")
    form = ChannelEditForm(request.POST or None, channel=channel)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.channel_update(
                    actor=request.user, channel=channel, name=d["name"], audience=d["audience"], config=form.config_patch(),
                    announces_incidents=d["announces_incidents"], offered_to_requesters=d["offered_to_requesters"],
                    active=d["active"],
                )
            except ApplicationError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, f"Channel \u201c{d['name'].strip()}\u201d saved.")
                return redirect("policies:channels")
        status = 400
    return _layout(request, "policies/channel_edit.html", {
        "form": form, "channel": channel, "config": senders.masked_config(channel.config), "section": "channels",
    }, status)


# --- policies -----------------------------------------------------------------------------------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


SUGGESTED_TERMS = "outage\nunavailable\ndown\nbreach\nvulnerability\nransomware\ncompromised\ndata loss"


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(active=True).order_by("name"), empty_label=None)
    allowed_events = forms.MultipleChoiceField(choices=EventKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                               label="Applies to these events",
                                               help_text="None ticked: every kind. Posts of other kinds skip this policy; "
                                                         "a post no policy of its channel applies to is blocked.")
    blocked_terms = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), initial=SUGGESTED_TERMS,
                                    help_text="One word or phrase a line; a post naming any of them is blocked.")
    blocked_patterns = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="One regular expression a line, e.g. \\bproject\\s+falcon\\b.")
    block_personal_data = forms.BooleanField(required=False, initial=True, label="Block personal data and secrets",
                                             help_text="E-mail addresses, phone numbers, IP addresses, host names, tokens. Always on for public channels.")
    confidential_services = forms.ModelMultipleChoiceField(queryset=Service.objects.order_by("name"), required=False,
                                                           help_text="Besides the services the catalogue marks confidential.")
    template = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="Rewrites the post for the audience. Placeholders: {number} {title} {body} {status} {service} {event} {site}. "
                                         "Public example: Your incident {number} has been resolved.")
    requires_approval = forms.BooleanField(required=False, label="A reviewer approves every post")
    rate_limit_per_hour = forms.IntegerField(min_value=0, max_value=10_000, initial=0, label="Posts an hour at most",
                                             help_text="0 means no limit.")
    quiet_hours_start = forms.TimeField(required=False, label="Quiet from", widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_hours_end = forms.TimeField(required=False, label="Quiet until", widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.CharField(max_length=64, initial="UTC", label="Time zone of the quiet hours")


class PreviewForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(active=True).order_by("name"), empty_label=None,
                                     label="Channel to check against")
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Message to check")
    event = forms.ChoiceField(choices=EventKind.choices, initial=EventKind.MANUAL_POST, label="Event")


@login_required
def policies_page(request):
    if not selectors.is_admin(request.user):
        return _forbidden(request, "Only admins manage communication policies.")
    form = PolicyForm(request.POST or None, prefix="policy")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = services.policy_create(actor=request.user, **_policy_fields(form.cleaned_data))
            except ApplicationError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, f"Policy \u201c{policy.name}\u201d saved.")
                return redirect("policies:policies")
        status = 400
    return _layout(request, "policies/policies.html", {
        "form": form, "policies": list(selectors.policies()), "preview": PreviewForm(prefix="preview"), "section": "policies",
    }, status)


class PolicyEditForm(PolicyForm):
    active = forms.BooleanField(required=False, label="Active",
                                help_text="An inactive policy no longer applies. A channel with no active policy blocks everything.")

    def __init__(self, *args, policy, **kwargs):
        initial = {
            "name": policy.name, "channel": policy.channel_id, "allowed_events": policy.allowed_events,
            "blocked_terms": "\n".join(policy.blocked_terms), "blocked_patterns": "\n".join(policy.blocked_patterns),
            "block_personal_data": policy.block_personal_data, "confidential_services": list(policy.confidential_services.all()),
            "template": policy.template, "requires_approval": policy.requires_approval,
            "rate_limit_per_hour": policy.rate_limit_per_hour, "quiet_hours_start": policy.quiet_hours_start,
            "quiet_hours_end": policy.quiet_hours_end, "time_zone": policy.time_zone, "active": policy.active,
        }
        super().__init__(*args, initial=initial, **kwargs)
        # Its own channel stays choosable even when inactive.
        self.fields["channel"].queryset = Channel.objects.filter(Q(active=True) | Q(pk=policy.channel_id)).order_by("name")


def _policy_fields(d: dict) -> dict:
    return {
        "channel": d["channel"], "name": d["name"], "allowed_events": d["allowed_events"],
        "blocked_terms": _lines(d["blocked_terms"]), "blocked_patterns": _lines(d["blocked_patterns"]),
        "block_personal_data": d["block_personal_data"], "template": d["template"], "requires_approval": d["requires_approval"],
        "rate_limit_per_hour": d["rate_limit_per_hour"], "confidential_services": list(d["confidential_services"]),
        "quiet_hours_start": d["quiet_hours_start"], "quiet_hours_end": d["quiet_hours_end"], "time_zone": d["time_zone"].strip(),
    }


@login_required
def policy_edit(request, pk: int):
    if not selectors.is_admin(request.user):
        return _forbidden(request, "Only admins manage communication policies.")
    policy = selectors.policies().filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    form = PolicyEditForm(request.POST or None, prefix="policy", policy=policy)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = services.policy_update(actor=request.user, policy=policy, **_policy_fields(form.cleaned_data),
                                                active=form.cleaned_data["active"])
            except ApplicationError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, f"Policy \u201c{policy.name}\u201d saved.")
                return redirect("policies:policies")
        status = 400
    preview_channel = policy.channel if policy.channel.active else None
    return _layout(request, "policies/policy_edit.html", {
        "form": form, "policy": policy, "section": "policies",
        "preview": PreviewForm(prefix="preview", initial={"channel": preview_channel}),
    }, status)


@login_required
@require_POST
def preview(request):
    """The live preview box: the decision for a message, as an htmx fragment. Nothing is stored."""
    if not request.user.is_agent:
        return _forbidden(request, "Only the service desk checks outbound posts.")
    form = PreviewForm(request.POST, prefix="preview")
    decision = None
    if form.is_valid():
        try:
            decision = services.outbound_preview(actor=request.user, channel=form.cleaned_data["channel"],
                                                 body=form.cleaned_data["body"], event=form.cleaned_data["event"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    return render(request, "policies/_decision.html", {"decision": decision, "form": form})


# --- outbound posts -----------------------------------------------------------------------------


class OutboundForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(active=True).order_by("name"), empty_label=None)
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), label="Message")
    event = forms.ChoiceField(choices=EventKind.choices, initial=EventKind.MANUAL_POST)


@login_required
def outbound(request):
    if not request.user.is_agent:
        return _forbidden(request, "Only the service desk posts outside the product.")
    form = OutboundForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                post = services.outbound_create(actor=request.user, channel=form.cleaned_data["channel"],
                                                body=form.cleaned_data["body"], event=form.cleaned_data["event"])
            except ApplicationError as exc:
                _service_error(form, exc)
            else:
                messages.info(request, f"Post #{post.pk}: {post.get_status_display().lower()}.")
                return redirect("policies:post", pk=post.pk)
        status = 400
    posts = selectors.recent_posts(viewer=request.user)
    return _layout(request, "policies/outbound.html", {"form": form, "posts": posts, "section": "outbound"}, status)


@login_required
def post_detail(request, pk: int):
    try:
        post = selectors.post_visible(viewer=request.user, post_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    audit = list(post.audit.select_related("actor").order_by("id"))
    return _layout(request, "policies/post.html", {
        "post": post, "audit": audit, "section": "outbound", "sole_reviewer": _sole_reviewer(request.user, [post]),
    })


def _sole_reviewer(user, posts) -> bool:
    """Whether the viewer is the only reviewer, asked only when one of the posts is theirs and held."""
    if not any(p.created_by_id == user.pk and p.status == OutboundStatus.PENDING_REVIEW for p in posts):
        return False
    return not selectors.other_reviewers(user).exists()


@login_required
@require_POST
def post_review(request, pk: int, action: str):
    try:
        post = selectors.post_visible(viewer=request.user, post_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    note = request.POST.get("note", "")
    try:
        if action == "approve":
            services.outbound_approve(actor=request.user, post=post, note=note)
            messages.success(request, f"Post #{post.pk} approved: it is on its way.")
        elif action == "reject":
            services.outbound_reject(actor=request.user, post=post, note=note)
            messages.success(request, f"Post #{post.pk} rejected.")
        elif action in ("sent", "retry"):
            services.outbound_resolve(actor=request.user, post=post, outcome=action, note=note)
            messages.success(request, f"Post #{post.pk} marked {'as sent' if action == 'sent' else 'to send again'}.")
        else:
            raise Http404
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        messages.error(request, exc.message)
    if request.POST.get("next") == "review":
        return redirect("policies:review")
    return redirect("policies:post", pk=post.pk)


@login_required
def review(request):
    if not selectors.can_review(request.user):
        return _forbidden(request, "Only admins and managers review outbound posts.")
    posts = list(selectors.review_queue()[:200])
    return _layout(request, "policies/review.html", {
        "held": [p for p in posts if p.status == OutboundStatus.PENDING_REVIEW],
        "ambiguous": [p for p in posts if p.status == OutboundStatus.AMBIGUOUS], "section": "review",
        "sole_reviewer": _sole_reviewer(request.user, posts),
    })


# --- audit --------------------------------------------------------------------------------------

AUDIT_FILTERS = ("channel", "status", "actor", "date_from", "date_to")


@login_required
def audit(request):
    if not selectors.can_review(request.user):
        return _forbidden(request, "Only admins and managers read the audit trail.")
    filters = {k: request.GET.get(k, "").strip() for k in AUDIT_FILTERS}
    qs = selectors.audit_entries(**filters)
    if request.GET.get("format") == "csv":
        return _audit_csv(qs)
    before = request.GET.get("before", "")
    if before.isdecimal():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs[: AUDIT_PAGE + 1])
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    query = urlencode({k: v for k, v in filters.items() if v})
    next_url = f"?{query}&before={rows[-1].pk}" if more else ""
    return _layout(request, "policies/audit.html", {
        "rows": rows, "filters": filters, "next_url": next_url, "csv_url": f"?{query}&format=csv" if query else "?format=csv",
        "channels": list(selectors.channels()), "statuses": OutboundStatus.choices, "section": "audit",
    })


class _Echo:
    def write(self, value):
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Text a spreadsheet would run as a formula (`=HYPERLINK(...)`, `@SUM(...)`) is kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _audit_csv(qs):
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(["id", "at", "action", "actor", "channel", "post", "status", "reasons", "note", "text"])
        for e in qs.iterator(chunk_size=500):
            yield writer.writerow([csv_cell(value) for value in (
                e.pk, e.at.isoformat(), e.action, e.actor.username if e.actor_id else "system", e.channel.name if e.channel_id else "",
                e.post_id or "", e.status, " | ".join(e.reasons), e.note, e.text,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="outbound-audit.csv"'
    return response


# --- listening ----------------------------------------------------------------------------------


class SourceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Source name")
    kind = forms.ChoiceField(choices=ListeningSource.Kind.choices, label="Source kind")
    url = forms.URLField(required=False, label="Feed address", assume_scheme="https")
    secret = forms.CharField(required=False, label="Shared secret (webhooks)", widget=forms.PasswordInput(render_value=False))


class RuleForm(forms.Form):
    label = forms.CharField(max_length=80, label="Rule label")
    keywords = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Keywords", help_text="One a line.")


@login_required
def listening(request):
    if not selectors.can_listen(request.user):
        return _forbidden(request, "The listening wall is for the service desk.")
    source_form, rule_form = SourceForm(prefix="source"), RuleForm(prefix="rule")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "poll":
                from .tasks import listening_poll

                enqueue_on_commit(listening_poll)
                messages.info(request, "Polling the feeds now; new items appear here in a moment.")
                return redirect("policies:listening")
            if action == "source":
                source_form = SourceForm(request.POST, prefix="source")
                if source_form.is_valid():
                    services.listening_source_create(actor=request.user, **source_form.cleaned_data)
                    messages.success(request, "Source added.")
                    return redirect("policies:listening")
            elif action == "rule":
                rule_form = RuleForm(request.POST, prefix="rule")
                if rule_form.is_valid():
                    services.listening_rule_create(actor=request.user, label=rule_form.cleaned_data["label"],
                                                   keywords=_lines(rule_form.cleaned_data["keywords"]))
                    messages.success(request, "Rule added.")
                    return redirect("policies:listening")
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            _service_error(source_form if action == "source" else rule_form, exc)
        status = 400
    show_all = request.GET.get("show") == "all"
    return _layout(request, "policies/listening.html", {
        "items": list(selectors.listening_wall(show_all=show_all)[:100]), "show_all": show_all,
        "sources": list(selectors.listening_sources()), "rules": list(selectors.listening_rules()),
        "source_form": source_form, "rule_form": rule_form, "section": "listening",
    }, status)


@login_required
@require_POST
def listening_to_ticket(request, pk: int):
    try:
        ticket = services.listening_item_to_ticket(actor=request.user, item_id=pk)
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        raise Http404(exc.message) from exc
    messages.success(request, f"{ticket.number} logged from what was heard.")
    return redirect(ticket.get_absolute_url())


# --- DLP flags ----------------------------------------------------------------------------------


@login_required
def flags(request):
    if not selectors.can_review(request.user):
        return _forbidden(request, "Only admins and managers see data-loss flags.")
    show = request.GET.get("show", "open")
    status = "" if show == "all" else "open"
    return _layout(request, "policies/flags.html", {
        "flags": list(selectors.dlp_flags(status=status)[:200]), "show": show, "section": "flags",
    })


@login_required
@require_POST
def flag_dismiss(request, pk: int):
    try:
        services.dlp_flag_dismiss(actor=request.user, flag_id=pk)
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        raise Http404(exc.message) from exc
    messages.success(request, "Flag dismissed.")
    return redirect("policies:flags")


# --- a person's external channel ----------------------------------------------------------------


@login_required
@require_POST
def external_channel(request):
    try:
        channel = services.external_channel_set(actor=request.user, channel_id=request.POST.get("channel") or None)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Updates on your tickets will be sent to {channel.name}." if channel
                         else "Updates on your tickets will not be sent outside the product.")
    return redirect("feeds:preferences")
