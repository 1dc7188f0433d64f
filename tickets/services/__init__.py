"""Every write to tickets. Each service changes the ticket, writes the audit rows, publishes the
activity with its audience and the notifications, all in one transaction."""

from __future__ import annotations

from ._common import (
    PUBLIC_UPDATE_VERBS,
    QUEUE,
    TICKET_NUMBER_RE,
    TRANSITIONS,
    _apply_sla,
    _change,
    _comment_write,
    _default_team,
    _follow,
    _followers_to_notify,
    _lock,
    _name,
    _publish,
    _refresh_search,
    _require_agent,
    _set_status,
    _staff,
    priority_from,
    ticket_audience,
    ticket_follows,
    ticket_ref,
)
from .canned import _canned_check, canned_response_apply, canned_response_create, canned_response_delete
from .conveniences import deflection_record, portal_ticket_log, saved_view_delete, saved_view_save
from .conversation import (
    ALLOWED_UPLOADS,
    OFFICE_EXTENSIONS,
    _notify_mentions,
    _sniff,
    attachment_add,
    attachments_unclaimed_purge,
    comment_add,
    reply_add,
)
from .deadlines import _sla_flag, sla_check
from .following import _me_too_sentence, ticket_follow, ticket_me_too, ticket_me_too_withdraw, ticket_unfollow
from .lifecycle import (
    _notify_assigned,
    _team_agents,
    service_create,
    ticket_close_stale,
    ticket_create,
    ticket_reopen,
    ticket_update,
)
from .merging import ticket_merge
from .problems import problem_create_from, problem_link, problem_resolve, problem_unlink
from .ratings import rating_create
from .security import security_incident_open
