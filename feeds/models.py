"""The event spine: activities with their audience, notifications, the outbox, live tickets."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Activity(models.Model):
    """Something that happened. `id` increases over time and is the cursor for resume and feeds.

    `stream` is the object's stream ("ticket:42"), `target_stream` the target's; subscribers of
    either stream receive the activity live if its audience admits them.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_key = models.CharField(max_length=128)
    object_title = models.CharField(max_length=255, blank=True)
    stream = models.CharField(max_length=170, db_index=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_key = models.CharField(max_length=128, blank=True)
    target_title = models.CharField(max_length=255, blank=True)
    target_stream = models.CharField(max_length=170, blank=True, db_index=True)
    summary = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"#{self.pk} {self.verb} {self.stream}"


class ActivityAudience(models.Model):
    """Who may see an activity, decided once when it is written.

    A row names either one user (who also receives it: feed, live push) or a named group
    ("signed_in", "agents", "managers", "admins", later "community:<slug>") whose members may see
    it on walls and streams they look at.
    """

    # No database-level foreign keys: an incident's comment writes a row per follower in its
    # request, and PostgreSQL checked both keys of each row at commit (12 ms of a 1,000-follower
    # comment's 77 ms here). The rows are written only with the activity just created and people
    # read from their follows; deleting an activity or a person still takes their rows with them
    # (Django's own cascade, as with every key here). The person's column has no index of its own:
    # the (user, activity) index below serves every read by person, and a second index cost each
    # of those rows another insert (a 1,000-follower comment's rows: 7-13 ms with it, 5-5.6 without).
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="audience", db_constraint=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_constraint=False, db_index=False)
    group = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "activity"]),
            models.Index(fields=["group", "activity"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, group="") | models.Q(user__isnull=True) & ~models.Q(group="")),
                name="activityaudience_user_xor_group",
            )
        ]


class Notification(models.Model):
    """What one person is told. Repeats from one actor within `NOTIFICATION_COALESCE_SECONDS`
    share one row (`coalesce_key`): its `count` grows and `text`, `url` and `activity` follow
    the latest event, so a burst is one notification and at most one e-mail."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    count = models.PositiveIntegerField(default=1)
    # kind, actor, window and (for per-object kinds) object: events with the same key merge.
    coalesce_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-id"]),
            models.Index(fields=["recipient", "read"], name="notification_unread_idx", condition=models.Q(read=False)),
        ]
        constraints = [
            # One notification per event per person, however many paths led to them.
            models.UniqueConstraint(fields=["activity", "recipient"], name="notification_once_per_activity"),
            # One row per burst, however many requests race to add to it.
            models.UniqueConstraint(
                fields=["recipient", "coalesce_key"], condition=~models.Q(coalesce_key=""), name="notification_coalesced_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.text}"


class OutboxMessage(models.Model):
    """A side effect promised in the same transaction as the change that caused it.

    A task delivers it on commit; the periodic sweep re-sends what a crash left pending. `key` is
    unique so the same delivery can never be written, or sent, twice.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        FANOUT = "fanout", "Feed fan-out"
        DELIVER = "deliver", "Per-person delivery"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_pending_idx", condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class Follow(models.Model):
    """Someone follows a person, ticket, service, community or tag. One table for every kind, so a
    feed's fan-out reads one index whatever is followed."""

    class Type(models.TextChoices):
        USER = "user", "Person"
        TICKET = "ticket", "Ticket"
        SERVICE = "service", "Service"
        COMMUNITY = "community", "Community"
        TAG = "tag", "Tag"

    class Reason(models.TextChoices):
        MANUAL = "manual", "Followed"
        REQUESTER = "requester", "Requester"
        ASSIGNEE = "assignee", "Assignee"
        COMMENTER = "commenter", "Commenter"
        ME_TOO = "me_too", "Me too"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    target_type = models.CharField(max_length=16, choices=Type.choices)
    target_key = models.CharField(max_length=150)
    # The numeric id of tickets, services, people and communities, so domains can join on it.
    target_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "target_type", "target_key"], name="follow_once"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_key"], name="follow_target_idx"),
            models.Index(fields=["target_type", "target_id"], name="follow_target_id_idx"),
            models.Index(fields=["user", "-id"], name="follow_user_idx"),
        ]

    @property
    def stream(self) -> str:
        return f"{self.target_type}:{self.target_key}"


class TimelineEntry(models.Model):
    """One activity in one person's feed, written when the activity fans out (never at read)."""

    class Context(models.TextChoices):
        TICKETS = "tickets", "Tickets"
        COMMUNITIES = "communities", "Communities"
        PEOPLE = "people", "People"

    pk = models.CompositePrimaryKey("user_id", "activity_id")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    context = models.CharField(max_length=16, choices=Context.choices)

    class Meta:
        indexes = [models.Index(fields=["user", "context", "-activity"], name="timeline_context_idx")]


class Mute(models.Model):
    """Keep a ticket, person or tag out of someone's feed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes")
    target_type = models.CharField(max_length=16)
    target_key = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "target_type", "target_key"], name="mute_once")]

    @property
    def stream(self) -> str:
        return f"{self.target_type}:{self.target_key}"


class Post(models.Model):
    """Markdown someone wrote on a wall (a person's, a service's, a ticket's, a community's, a tag's)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    wall_type = models.CharField(max_length=16)
    wall_key = models.CharField(max_length=150)
    body = models.TextField()
    body_html = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["wall_type", "wall_key", "-id"], name="post_wall_idx")]

    @property
    def wall_stream(self) -> str:
        return f"{self.wall_type}:{self.wall_key}"


class PostRevision(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class PostComment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)


class Like(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="like_once")]


class NotificationPreference(models.Model):
    """One person's choice for one kind of notification; absent rows mean the kind's defaults."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=64)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]


class FeedToken(models.Model):
    """A secret that lets a feed reader fetch RSS/Atom of public walls as this person; revocable."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class ActivityTag(models.Model):
    """A #tag an activity carries, so tag walls and tag streams find it through an index."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "tag"], name="activity_tag_once")]
        indexes = [models.Index(fields=["tag", "-activity"], name="activity_tag_idx")]


class SavedFeedFilter(models.Model):
    """A named view of one's feed: a context and, optionally, one followed thing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_feed_filters")
    name = models.CharField(max_length=60)
    context = models.CharField(max_length=16, default="all")
    about = models.CharField(max_length=170, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_feed_filter_name_once")]
        ordering = ["name"]


class MailSent(models.Model):
    """A notification e-mail the desk sent: a reply naming its Message-ID finds the thread and the
    notifications it told of."""

    message_id = models.CharField(max_length=255, unique=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=32, blank=True)
    object_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "object_type", "object_key"])]


class MailSuppression(models.Model):
    """An address mail is no longer sent to (it bounced)."""

    address = models.CharField(max_length=254, unique=True)  # lower case
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
