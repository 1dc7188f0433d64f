"""Every write to communities: membership, join requests, questions, answers, votes, acceptance."""

from __future__ import annotations

from ._common import community_audience, community_ref
from .articles import (
    _article_audience,
    answer_promote,
    article_create,
    article_edit,
    article_helpful,
    article_restore,
    article_reuse_record,
    question_to_ticket,
)
from .bridges import _pair, bridge_accept, bridge_propose, bridge_remove, community_services_set
from .ideas import idea_create, idea_status_set, idea_vote
from .membership import (
    _check_can_see,
    _drop_member,
    _join,
    community_create,
    community_join,
    community_leave,
    invitation_create,
    invitation_decide,
    join_request_decide,
    member_remove,
    member_role_set,
)
from .mentions import _publish_mentions
from .moderation import _community_of, answer_comment_add, content_remove
from .polls import poll_create, poll_vote
from .questions import (
    QUESTION_MAX_TAGS,
    QUESTION_TAG_PATTERN,
    QUESTION_VIEW_WINDOW_SECONDS,
    _check_text,
    _require_member,
    answer_accept,
    answer_post,
    answer_unaccept,
    answer_vote,
    question_ask,
    question_tags_clean,
    question_viewed,
)
