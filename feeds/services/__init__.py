"""Writes of the event spine. Every other domain publishes through `activity_publish`."""

from __future__ import annotations

from ._common import OUTBOX_MAX_ATTEMPTS, NotificationSpec, ObjectRef
from .enqueueing import (
    _delivery_batches,
    _dispatch_outbox,
    _enqueue_deliveries,
    _outbox_notification_emails,
    outbox_enqueue,
    quiet_until,
)
from .feed_tokens import feed_token_create, feed_token_revoke, feed_token_user
from .following import (
    backfill_on_commit,
    follow_create,
    follow_delete,
    follow_write,
    mute_set,
    timeline_backfill,
)
from .live_access import live_ticket_issue, live_ticket_redeem
from .mail import (
    _mail,
    _mail_connection,
    _MailConnection,
    mail_address_suppress,
    mail_address_suppressed,
    mail_thread_find,
)
from .notifications import notifications_mark_read, notifications_mark_visited
from .outbox import (
    _SENDERS,
    _SWEEP_LOCK_ID,
    _send_notification_email,
    _sweep_lock,
    mail_replied,
    outbox_message_deliver,
    outbox_messages_deliver,
    outbox_sweep,
)
from .posts import (
    HASHTAG_RE,
    MENTION_RE,
    _check_body,
    _mentions_and_tags,
    _post_ref,
    _wall_open_to,
    audience_restrict,
    like_add,
    like_remove,
    mentions_check,
    post_comment_add,
    post_create,
    post_delete,
    post_edit,
)
from .preferences import _send_digest, digests_send, notification_preferences_set
from .publishing import (
    _addressed_entries_write,
    _coalesce_key,
    _coalesced_text,
    _deliver_chunk,
    _deliveries_enqueue,
    _fan_out,
    _merge_repeats,
    _notifications_write,
    _notify_candidates,
    _notify_people,
    _timeline_write,
    _unread_counts,
    activity_publish,
)
from .saved_filters import FEED_CONTEXTS, feed_filter_check, saved_feed_filter_delete, saved_feed_filter_save
