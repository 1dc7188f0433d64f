"""Every write of the policies domain: channels, policies, outbound posts and their delivery,
reviews, inbound listening and internal DLP flags. Each decision and attempt leaves an audit row.

Where the decision is made: `outbound_create` runs the engine in the request (or in the service
that raised the event) so the caller learns at once whether the post is blocked, held or queued,
and stores that decision. The delivery task runs the engine again on the stored body just before
sending (policies may have changed, the hour's rate may have filled up) and stores that decision
too; only an allowed re-check sends. A reviewer's approval answers "needs approval" and "rate
limit" holds, never a block or an engine error.
"""

from __future__ import annotations

from ._common import (
    ANNOUNCEMENTS,
    MAJOR_PRIORITY,
    PERSONAL_EVENTS,
    STATUS_FOR,
    _audit,
    _require_admin,
    _require_reviewer,
    _str_list,
)
from .announcing import (
    _announcement,
    _personal_text,
    chat_thread_update,
    external_channel_set,
    requester_update,
    ticket_announce,
)
from .channels import (
    POLICY_FIELDS,
    UNCHANGED,
    _check_config,
    _lock_channel,
    _merge_config,
    _policy_values,
    _shown,
    _yes_no,
    channel_create,
    channel_update,
    policy_check,
    policy_create,
    policy_update,
)
from .deciding import (
    OWN_POST_REFUSAL,
    SOLE_REVIEWER_NOTE,
    _check_outbound_input,
    _dispatch_on_commit,
    _internal_domains,
    _lock_post,
    _message,
    _policy_facts,
    _public_hosts,
    decide,
    outbound_approve,
    outbound_create,
    outbound_preview,
    outbound_reject,
    outbound_resolve,
)
from .delivering import _finish_attempt, _retry_delay, _start_attempt, outbound_deliver, outbound_sweep
from .dlp import FLAG_KINDS, WRITTEN_IN, _written_in, dlp_flag_dismiss, dlp_scan, text_scan
from .listening import (
    FEED_UNREACHABLE,
    LISTENING_MAX_BYTES,
    _analyzer,
    _feed_error,
    _fetch_feed,
    _ingest,
    listening_item_to_ticket,
    listening_poll,
    listening_rule_create,
    listening_source_create,
    listening_webhook_receive,
    sentiment,
    signature_valid,
)
