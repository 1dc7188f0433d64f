"""Creating and editing outbound channels and their policies (admins only, every change audited)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from servicedesk import safe_urls
from servicedesk.errors import ApplicationError

from .. import engine, senders
from ..models import Audience as ChannelAudience
from ..models import AuditEntry, Channel, EventKind, Policy
from ._common import _audit, _require_admin, _str_list


def _check_config(kind: str, config, errors: dict) -> dict:
    if not isinstance(config, dict):
        errors["config"] = ["Give the configuration as an object."]
        return {}
    required, optional = senders.CONFIG_KEYS[kind]
    clean = {}
    for key in required:
        if config.get(key) in (None, "", []):
            errors.setdefault("config", []).append(f"{key} is required for a {kind} channel.")
    unknown = sorted(set(config) - set(required) - set(optional))
    if unknown:
        errors.setdefault("config", []).append(f"Unknown settings: {', '.join(unknown)}.")
    url_check = URLValidator(schemes=["http", "https"])
    for key in (*required, *optional):
        if key not in config:
            continue
        value = config[key]
        if key in ("url", "instance_url", "api_url"):
            try:
                url_check(value if isinstance(value, str) else "")
            except ValidationError:
                errors.setdefault("config", []).append(f"{key} must be an http(s) URL.")
            if isinstance(value, str) and "\x00" not in value and (problem := safe_urls.address_problem(value)):
                errors.setdefault("config", []).append(f"{key}: {problem}")
        elif key == "to":
            addresses = [value] if isinstance(value, str) else value
            if not isinstance(addresses, list) or not addresses:
                errors.setdefault("config", []).append("to must list at least one e-mail address.")
            else:
                for address in addresses:
                    try:
                        EmailValidator()(address if isinstance(address, str) else "")
                    except ValidationError:
                        errors.setdefault("config", []).append(f"{address!r} is not an e-mail address.")
                value = addresses
        elif not isinstance(value, str):
            errors.setdefault("config", []).append(f"{key} must be text.")
        if any("\x00" in v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)):
            # PostgreSQL cannot store it; said without echoing the value, which may be a secret.
            errors.setdefault("config", []).append(f"{key} contains a NUL character.")
        clean[key] = value
    return clean


@transaction.atomic
def channel_create(*, actor: User, name: str, kind: str, audience: str, config: dict | None = None,
                   announces_incidents: bool = False, offered_to_requesters: bool = False) -> Channel:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 120:
        errors["name"] = ["Give the channel a name of up to 120 characters."]
    elif Channel.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A channel with this name exists."]
    if kind not in Channel.Kind.values:
        errors["kind"] = [f"Choose one of {', '.join(Channel.Kind.values)}."]
    if audience not in ChannelAudience.values:
        errors["audience"] = [f"Choose one of {', '.join(ChannelAudience.values)}."]
    clean = _check_config(kind, config or {}, errors) if kind in Channel.Kind.values else {}
    if errors:
        raise ApplicationError("The channel could not be saved.", errors=errors)
    slug = base = slugify(name)[:100] or "channel"
    n = 2
    while Channel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    channel = Channel.objects.create(
        name=name, slug=slug, kind=kind, audience=audience, config=clean, announces_incidents=bool(announces_incidents),
        offered_to_requesters=bool(offered_to_requesters), created_by=actor,
    )
    _audit(AuditEntry.Action.CHANNEL, actor=actor, channel=channel, note=f"{channel.get_kind_display()}, {channel.get_audience_display()}")
    return channel


def policy_check(*, name, allowed_events=None, blocked_terms=None, blocked_patterns=None, template="",
                 rate_limit_per_hour=0, quiet_hours_start=None, quiet_hours_end=None, time_zone="UTC") -> dict[str, list[str]]:
    """The field errors of a policy (used by the API, the form and `policy_create`)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = ["Give the policy a name of up to 120 characters."]
    events = _str_list(allowed_events, "allowed_events", errors)
    unknown = [e for e in events if e not in EventKind.values]
    if unknown:
        errors["allowed_events"] = [f"Unknown event kinds: {', '.join(unknown)}. Choose from {', '.join(EventKind.values)}."]
    _str_list(blocked_terms, "blocked_terms", errors)
    for pattern in _str_list(blocked_patterns, "blocked_patterns", errors):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.setdefault("blocked_patterns", []).append(f"{pattern}: {exc}.")
    if not isinstance(template, str):
        errors["template"] = ["Give the template as text."]
    else:
        problems = engine.check_template(template)
        if problems:
            errors["template"] = problems + [f"Use {', '.join('{' + p + '}' for p in engine.PLACEHOLDERS)}."]
    if not isinstance(rate_limit_per_hour, int) or isinstance(rate_limit_per_hour, bool) or not 0 <= rate_limit_per_hour <= 10_000:
        errors["rate_limit_per_hour"] = ["Give a whole number from 0 (no limit) to 10000."]
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        errors["quiet_hours"] = ["Give both a start and an end (or neither)."]
    try:
        ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Unknown time zone."]
    return errors


@transaction.atomic
def policy_create(*, actor: User, channel: Channel, name: str, allowed_events=None, blocked_terms=None,
                  blocked_patterns=None, block_personal_data: bool = True, template: str = "",
                  requires_approval: bool = False, rate_limit_per_hour: int = 0, confidential_services=(),
                  quiet_hours_start=None, quiet_hours_end=None, time_zone: str = "UTC") -> Policy:
    """`allowed_events` left out (None) or empty allows every event kind; content rules still apply."""
    _require_admin(actor)
    errors = policy_check(
        name=name, allowed_events=allowed_events, blocked_terms=blocked_terms, blocked_patterns=blocked_patterns,
        template=template, rate_limit_per_hour=rate_limit_per_hour, quiet_hours_start=quiet_hours_start,
        quiet_hours_end=quiet_hours_end, time_zone=time_zone,
    )
    if errors:
        raise ApplicationError("The policy could not be saved.", errors=errors)
    ignored: dict = {}
    policy = Policy.objects.create(
        name=name.strip(), channel=channel, allowed_events=_str_list(allowed_events, "", ignored),
        blocked_terms=_str_list(blocked_terms, "", ignored), blocked_patterns=_str_list(blocked_patterns, "", ignored),
        block_personal_data=bool(block_personal_data), template=template.strip(), requires_approval=bool(requires_approval),
        rate_limit_per_hour=rate_limit_per_hour, quiet_hours_start=quiet_hours_start, quiet_hours_end=quiet_hours_end,
        time_zone=time_zone or "UTC", created_by=actor,
    )
    if confidential_services:
        policy.confidential_services.set(confidential_services)
    _audit(AuditEntry.Action.POLICY, actor=actor, channel=channel, note=f"Policy \u201c{policy.name}\u201d")
    return policy


UNCHANGED = object()


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _lock_channel(channel: Channel) -> Channel:
    return Channel.objects.select_for_update().get(pk=channel.pk)


def _merge_config(current: dict, patch, errors: dict) -> tuple[dict, list[str]]:
    """A new value replaces a setting, an empty one (null, "", []) removes it, a missing one keeps it.

    The changes are described without any secret's value, old or new."""
    if not isinstance(patch, dict):
        errors["config"] = ["Give the configuration as an object."]
        return dict(current), []
    merged, changes = dict(current), []
    for key in sorted(patch):
        value = patch[key]
        secret = key in senders.SECRET_KEYS
        if value in (None, "", []):
            if key in merged:
                del merged[key]
                changes.append(f"{key}: cleared")
            continue
        if secret:
            changes.append(f"{key}: {'replaced' if merged.get(key) else 'set'} (secret, not recorded)")
        elif merged.get(key) != value:
            changes.append(f"{key}: {_shown(merged.get(key))} \u2192 {_shown(value)}")
        merged[key] = value
    return merged, changes


def _shown(value) -> str:
    if value in (None, "", [], ()):
        return "\u2014"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return f"\u201c{value}\u201d" if isinstance(value, str) else str(value)


@transaction.atomic
def channel_update(*, actor: User, channel: Channel, name=UNCHANGED, kind=UNCHANGED, audience=UNCHANGED, config=UNCHANGED,
                   announces_incidents=UNCHANGED, offered_to_requesters=UNCHANGED, active=UNCHANGED) -> Channel:
    """Change what was given. `config` is merged into the stored one (see `_merge_config`), so a
    secret the caller never saw is kept unless replaced or cleared. The kind is fixed: posts
    already sent went out through it, and its settings would not fit another. Channels are never
    deleted (posts and the audit refer to them): an inactive one sends nothing."""
    _require_admin(actor)
    channel = _lock_channel(channel)
    errors: dict[str, list[str]] = {}
    changes: list[str] = []
    fields: list[str] = []
    if name is not UNCHANGED:
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > 120:
            errors["name"] = ["Give the channel a name of up to 120 characters."]
        elif Channel.objects.filter(name__iexact=name).exclude(pk=channel.pk).exists():
            errors["name"] = ["A channel with this name exists."]
        elif name != channel.name:
            changes.append(f"name: {_shown(channel.name)} \u2192 {_shown(name)}")
            channel.name = name
            fields.append("name")
    if kind is not UNCHANGED and kind != channel.kind:
        errors["kind"] = ["A channel's kind cannot change: create a new channel and deactivate this one."]
    if audience is not UNCHANGED:
        if audience not in ChannelAudience.values:
            errors["audience"] = [f"Choose one of {', '.join(ChannelAudience.values)}."]
        elif audience != channel.audience:
            changes.append(f"audience: {channel.audience} \u2192 {audience}")
            channel.audience = audience
            fields.append("audience")
    if config is not UNCHANGED:
        merged, config_changes = _merge_config(channel.config, config, errors)
        if "config" not in errors:
            clean = _check_config(channel.kind, merged, errors)
            if config_changes:
                channel.config = clean
                changes += config_changes
                fields.append("config")
    for field, value in (("announces_incidents", announces_incidents), ("offered_to_requesters", offered_to_requesters),
                         ("active", active)):
        if value is UNCHANGED:
            continue
        if not isinstance(value, bool):
            errors[field] = ["Give true or false."]
        elif value != getattr(channel, field):
            changes.append(f"{field}: {_yes_no(getattr(channel, field))} \u2192 {_yes_no(value)}")
            setattr(channel, field, value)
            fields.append(field)
    if errors:
        raise ApplicationError("The channel could not be saved.", errors=errors)
    if fields:
        channel.save(update_fields=fields)
        _audit(AuditEntry.Action.CHANNEL_CHANGED, actor=actor, channel=channel, reasons=[f"{c}." for c in changes])
    return channel


POLICY_FIELDS = (
    "name", "channel", "allowed_events", "blocked_terms", "blocked_patterns", "block_personal_data", "template",
    "requires_approval", "rate_limit_per_hour", "confidential_services", "quiet_hours_start", "quiet_hours_end", "time_zone",
    "active",
)


def _policy_values(policy: Policy) -> dict:
    values = {f: getattr(policy, f) for f in POLICY_FIELDS if f != "confidential_services"}
    values["confidential_services"] = sorted(policy.confidential_services.all(), key=lambda s: s.pk)
    return values


@transaction.atomic
def policy_update(*, actor: User, policy: Policy, **changes) -> Policy:
    """Change the fields given (any of `POLICY_FIELDS`), checked exactly as `policy_create` checks
    them. An inactive policy no longer applies; a channel left without an active policy blocks
    everything. Policies are never deleted: the audit refers to them."""
    _require_admin(actor)
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise ApplicationError("The policy could not be saved.", errors={k: ["Unknown field."] for k in unknown})
    policy = Policy.objects.select_for_update(of=("self",)).select_related("channel").get(pk=policy.pk)
    before = _policy_values(policy)
    after = {**before, **changes}
    errors = policy_check(
        name=after["name"], allowed_events=after["allowed_events"], blocked_terms=after["blocked_terms"],
        blocked_patterns=after["blocked_patterns"], template=after["template"], rate_limit_per_hour=after["rate_limit_per_hour"],
        quiet_hours_start=after["quiet_hours_start"], quiet_hours_end=after["quiet_hours_end"], time_zone=after["time_zone"],
    )
    if not isinstance(after["channel"], Channel):
        errors["channel"] = ["Unknown channel."]
    for field in ("block_personal_data", "requires_approval", "active"):
        if not isinstance(after[field], bool):
            errors[field] = ["Give true or false."]
    if errors:
        raise ApplicationError("The policy could not be saved.", errors=errors)
    ignored: dict = {}
    after["name"] = after["name"].strip()
    after["template"] = (after["template"] or "").strip()
    after["time_zone"] = after["time_zone"] or "UTC"
    for field in ("allowed_events", "blocked_terms", "blocked_patterns"):
        after[field] = _str_list(after[field], "", ignored)
    after["confidential_services"] = sorted(set(after["confidential_services"] or ()), key=lambda s: s.pk)
    described: list[str] = []
    fields: list[str] = []
    for field in POLICY_FIELDS:
        old, new = before[field], after[field]
        if old == new:
            continue
        if field == "confidential_services":
            policy.confidential_services.set(new)
            described.append(f"{field}: {_shown([s.name for s in old])} \u2192 {_shown([s.name for s in new])}")
            continue
        setattr(policy, field, new)
        fields.append(field)
        if field == "channel":
            described.append(f"channel: {_shown(old.name)} \u2192 {_shown(new.name)}")
        elif isinstance(new, bool):
            described.append(f"{field}: {_yes_no(old)} \u2192 {_yes_no(new)}")
        else:
            described.append(f"{field}: {_shown(old)} \u2192 {_shown(new)}")
    if fields:
        policy.save(update_fields=fields)
    if described:
        described = [f"{d}." for d in described]
        _audit(AuditEntry.Action.POLICY_CHANGED, actor=actor, channel=policy.channel, reasons=described,
               note=f"Policy \u201c{policy.name}\u201d")
        if before["channel"] != policy.channel:
            # The channel it left is governed differently too: its trail says so.
            _audit(AuditEntry.Action.POLICY_CHANGED, actor=actor, channel=before["channel"], reasons=described,
                   note=f"Policy \u201c{policy.name}\u201d moved to {policy.channel.name}")
    return policy
