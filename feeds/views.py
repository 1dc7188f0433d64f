"""Pages of the event spine: notifications, the feed, walls (people, services, tags) and posts.

Reads come from `feeds.selectors` (and `walls.resolve` for who may see what); every change goes
through `feeds.services`. An `ApplicationError` becomes a form error (400, the text kept), a 403
page or a 404.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import TimeZoneField
from servicedesk import pages
from servicedesk.errors import ApplicationError
from servicedesk.forms import ServiceErrorsMixin

from . import selectors, services, walls
from .models import Post


@login_required
def notification_list(request):
    page = _notification_page(request.user, request.GET.get("page"))
    return render(request, "feeds/notifications.html", _notification_context(page))


def _notification_page(user, number):
    return Paginator(selectors.notifications_for(user).select_related("activity"), 30).get_page(number)


def _notification_context(page) -> dict:
    return {"notifications": page.object_list, "groups": selectors.notification_groups(page.object_list), "page_obj": page}


@login_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(actor=request.user, all_=True)
    if request.headers.get("HX-Request"):
        context = _notification_context(_notification_page(request.user, 1))
        return render(request, "feeds/_notification_list.html", {**context, "unread_notifications": 0})
    return redirect("feeds:notifications")


# --- the feed and walls ------------------------------------------------------------------------

FEED_CONTEXTS = [("all", "All"), ("tickets", "Tickets"), ("communities", "Communities"), ("people", "People")]
WALL_TYPES = {"user", "service", "tag", "community"}
MUTABLE_WALLS = {"user", "tag"}
FOLLOWERS_SHOWN = 20
SUGGESTIONS = 5

OBJECT_URLS = {
    "ticket": "/tickets/{}/",
    "post": "/posts/{}/",
    "user": "/people/{}/",
    "service": "/services/{}/",
    "tag": "/tags/{}/",
    "community": "/communities/{}/",
    "question": "/questions/{}/",
    "article": "/articles/{}/",
}
VERB_PHRASES = {
    "commented": "commented on",
    "noted": "added notes to",
    "posted": "posted",
    "posted_on_wall": "wrote",
    "liked": "liked",
    "me_too": "said \u201cme too\u201d on",
    "updated": "updated",
    "changed_status": "changed the status of",
    "assigned": "assigned",
    "opened": "opened",
    "reopened": "reopened",
    "closed": "closed",
    "rated": "rated",
    "linked": "linked",
    "mentioned": "mentioned",
}
# Verbs where the service desk acts and the object is the person it happened to: a run of them
# reads as a sentence about that person, not as the service desk doing something N times.
GROUPED_ABOUT_OBJECT = {
    "earned_badge": "{object} earned {count} badges",
}


class BodyForm(ServiceErrorsMixin, forms.Form):
    """A markdown text box: a post, a comment or an edit."""

    body = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label: str = "Message", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = label
        self.fields["body"].help_text = help_text


POST_HELP = "Markdown works. Use #tags to reach people who follow a topic and @username to mention someone."


def post_form(data=None, *, label="Share with your followers"):
    return BodyForm(data, prefix="post", label=label, help_text=POST_HELP)


_forbidden = pages.forbidden_page("feeds", url_name="feeds:feed", label="Back to your feed")


def _error_page(request, exc: ApplicationError):
    """A one-button action was refused: 404 hides what the caller may not see."""
    if pages.refused(exc):
        raise exc
    return render(request, "feeds/error.html", {"message": exc.message, "errors": exc.errors}, status=exc.status)


def _cursor(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _object_url(type_: str, key: str) -> str:
    pattern = OBJECT_URLS.get(type_)
    return pattern.format(key) if pattern and key else ""


# --- feed items and grouping -------------------------------------------------------------------


@dataclass
class FeedItem:
    """One line of a feed or wall: an activity, or several on the same object with the same verb."""

    activities: list = field(default_factory=list)
    post: Post | None = None
    liked: bool = False

    @property
    def first(self):
        return self.activities[0]

    @property
    def id(self) -> int:
        return self.first.pk

    @property
    def actor(self):
        return self.first.actor

    @property
    def actor_name(self) -> str:
        actor = self.first.actor
        return (actor.display_name or actor.username) if actor else "The service desk"

    @property
    def url(self) -> str:
        a = self.first
        return _object_url(a.object_type, a.object_key) or _object_url(a.target_type, a.target_key)

    @property
    def grouped(self) -> bool:
        return len(self.activities) > 1

    @property
    def object_label(self) -> str:
        a = self.first
        if a.object_type == "ticket":
            return (a.object_title.split(" ", 1)[0]) or a.object_title
        if a.object_type == "post":
            return f"a post on {a.target_title}" if a.target_title else "a post"
        return a.object_title or a.object_key

    @property
    def post_line(self) -> str:
        """Above a post's own text, a short line: the summary would repeat it."""
        a = self.first
        if a.verb == "posted":
            where = f" on {a.target_title}" if a.target_title and a.target_title != self.actor_name else ""
            return f"{self.actor_name} posted{where}"
        return f"{self.text.split(':', 1)[0]}" if self.grouped else f"{self.actor_name} {VERB_PHRASES.get(a.verb, a.verb)} a post"

    @property
    def text(self) -> str:
        if not self.grouped:
            return self.first.summary or f"{self.actor_name} {VERB_PHRASES.get(self.first.verb, self.first.verb)} {self.object_label}"
        about_object = GROUPED_ABOUT_OBJECT.get(self.first.verb)
        if about_object:
            return about_object.format(object=self.object_label, count=len(self.activities))
        names = []
        for activity in self.activities:
            actor = activity.actor
            name = (actor.display_name or actor.username) if actor else "The service desk"
            if name not in names:
                names.append(name)
        verb = VERB_PHRASES.get(self.first.verb, self.first.verb.replace("_", " "))
        if len(names) == 1:
            who = names[0]
            times = f" ({len(self.activities)} times)"
        else:
            others = len(names) - 1
            who = f"{names[0]} and {others} other{'s' if others != 1 else ''}"
            times = ""
        return f"{who} {verb} {self.object_label}{times}"


def _group(activities) -> list[FeedItem]:
    """Collapse runs of activities on the same object with the same verb into one line."""
    items: list[FeedItem] = []
    for activity in activities:
        last = items[-1].first if items else None
        if (
            last is not None
            and last.object_type == activity.object_type
            and last.object_key == activity.object_key
            and last.verb == activity.verb
        ):
            items[-1].activities.append(activity)
        else:
            items.append(FeedItem(activities=[activity]))
    return items


def _attach_posts(items: list[FeedItem], viewer) -> None:
    ids = {int(i.first.object_key) for i in items if i.first.object_type == "post" and i.first.object_key.isdecimal()}
    if not ids:
        return
    posts, liked = selectors.posts_with_likes(viewer=viewer, post_ids=ids)
    for item in items:
        if item.first.object_type == "post" and item.first.object_key.isdecimal():
            item.post = posts.get(int(item.first.object_key))
            item.liked = item.post is not None and item.post.pk in liked


# --- the feed ----------------------------------------------------------------------------------


def _feed_query(context: str, about: str, **extra) -> str:
    params = {k: v for k, v in (("context", context if context != "all" else ""), ("about", about)) if v}
    params.update({k: v for k, v in extra.items() if v})
    return "?" + urlencode(params) if params else ""


def _feed_context(request) -> dict:
    context = request.GET.get("context", "all")
    if context not in dict(FEED_CONTEXTS):
        context = "all"
    about = (request.GET.get("about") or "").strip()
    try:
        context, about = services.feed_filter_check(actor=request.user, context=context, about=about)
    except ApplicationError:
        about = ""  # something no longer followed: show the whole context instead
    before = _cursor(request.GET.get("before"))
    # What the person did themselves stays out unless they ask for it ("mine=1").
    mine = "1" if request.GET.get("mine") == "1" else ""
    activities, next_before = selectors.feed_page(user=request.user, context=context, before=before, about=about,
                                                  own=bool(mine))
    items = _group(activities)
    _attach_posts(items, request.user)
    feed_url = reverse("feeds:feed")
    return {
        "items": items,
        "feed_context": context,
        "feed_about": about,
        "feed_mine": bool(mine),
        "mine_toggle_url": feed_url + _feed_query(context, about, mine="" if mine else "1"),
        "contexts": [(value, label, feed_url + _feed_query(value, about, mine=mine)) for value, label in FEED_CONTEXTS],
        "before": before,
        "older_url": feed_url + _feed_query(context, about, before=next_before, mine=mine) if next_before else "",
        "newest_url": feed_url + _feed_query(context, about, mine=mine),
        # Where a like or an inline comment returns to (the list is also served alone, by htmx).
        "item_next": feed_url + _feed_query(context, about, mine=mine),
        "items_url": reverse("feeds:feed_items") + _feed_query(context, about, mine=mine),
        "newest_id": activities[0].pk if activities else 0,
    }


@login_required
def feed(request):
    form = post_form()
    status = 200
    if request.method == "POST":
        form = post_form(request.POST)
        if form.is_valid():
            try:
                services.post_create(actor=request.user, wall_type="user", wall_key=request.user.username, body=form.cleaned_data["body"])
            except ApplicationError as exc:
                if exc.status == 403:
                    raise
                form.add_service_error(exc)
            else:
                messages.success(request, "Shared with your followers.")
                # One's own actions stay out of the feed by default; right after sharing, show them.
                return redirect(reverse("feeds:feed") + "?mine=1")
        status = form.error_status
    context = _feed_context(request)
    context["form"] = form
    context["follows"] = list(selectors.follows_of(request.user).only("target_type", "target_key")[:500])
    context["saved_filters"] = list(selectors.saved_feed_filters(request.user))
    if not context["items"] and context["before"] is None:
        context.update(selectors.follow_suggestions(request.user, limit=SUGGESTIONS))
    return render(request, "feeds/feed.html", context, status=status)


@login_required
@require_POST
def feed_filter_save(request):
    try:
        saved = services.saved_feed_filter_save(
            actor=request.user, name=request.POST.get("name", ""), context=request.POST.get("context", "all"),
            about=request.POST.get("about", ""),
        )
    except ApplicationError as exc:
        messages.error(request, " ".join([exc.message, *[e for errs in exc.errors.values() for e in errs]]))
        return redirect("feeds:feed")
    messages.success(request, f"Saved the view \u201c{saved.name}\u201d.")
    return redirect(reverse("feeds:feed") + _feed_query(saved.context, saved.about))


@login_required
@require_POST
def feed_filter_delete(request, filter_id: int):
    try:
        services.saved_feed_filter_delete(actor=request.user, filter_id=filter_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, "The saved view is gone.")
    return redirect("feeds:feed")


@login_required
@require_GET
def popular(request):
    """Popular this week: the posts people engage with most, your follows' engagement weighing more."""
    posts = selectors.popular_posts(viewer=request.user)
    liked = selectors.posts_liked(viewer=request.user, post_ids=[p.pk for p in posts])
    items = [FeedItem(activities=[post.activity], post=post, liked=post.pk in liked) for post in posts]
    return render(request, "feeds/popular.html", {"items": items, "item_next": reverse("feeds:popular")})


@login_required
@require_GET
def feed_items(request):
    return render(request, "feeds/_feed_list.html", _feed_context(request))


# --- walls -------------------------------------------------------------------------------------


def _resolve_or_404(request, wall_type: str, key) -> walls.Wall:
    if wall_type not in WALL_TYPES:
        raise Http404("Unknown kind of page.")
    try:
        return walls.resolve(request.user, wall_type, key)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


def wall_activities(request, wall: walls.Wall):
    before = _cursor(request.GET.get("before"))
    limit = selectors.FEED_PAGE
    rows = selectors.stream_activities(viewer=request.user, stream=wall.stream, before=before, limit=limit + 1)
    page = rows[:limit]
    items = _group(page)
    _attach_posts(items, request.user)
    return {
        "items": items,
        "before": before,
        "older_url": f"{wall.url}?before={page[-1].pk}" if len(rows) > limit else "",
        "newest_url": wall.url,
        "items_url": reverse("feeds:wall_items", args=[wall.type, wall.key]),
        "newest_id": page[0].pk if page else 0,
    }


def _wall_page(request, wall_type: str, key):
    wall = _resolve_or_404(request, wall_type, key)
    form = post_form(label="Write on this page" if wall.type != "user" or wall.key != request.user.username else "Share with your followers")
    status = 200
    if request.method == "POST":
        form = post_form(request.POST, label=form.fields["body"].label)
        if form.is_valid():
            try:
                post = services.post_create(actor=request.user, wall_type=wall.type, wall_key=wall.key, body=form.cleaned_data["body"])
            except ApplicationError as exc:
                if pages.refused(exc):
                    raise
                form.add_service_error(exc)
            else:
                messages.success(request, "Posted.")
                return redirect(wall.url or reverse("feeds:post", args=[post.pk]))
        status = form.error_status

    followers = selectors.followers_of(target_type=wall.type, target_key=wall.key)
    context = {
        "wall": wall,
        "form": form,
        "follower_count": followers.count(),
        "followers": list(followers[:FOLLOWERS_SHOWN]),
        "my_follow": selectors.follows_of(request.user).filter(target_type=wall.type, target_key=wall.key).first(),
        "can_mute": wall.type in MUTABLE_WALLS and not (wall.type == "user" and wall.key == request.user.username),
        "muted": wall.type in MUTABLE_WALLS and selectors.is_muted(user=request.user, target_type=wall.type, target_key=wall.key),
        "is_me": wall.type == "user" and wall.key == request.user.username,
        **wall_activities(request, wall),
    }
    context.update(selectors.wall_owner(wall))
    return render(request, "feeds/wall.html", context, status=status)


@login_required
def person(request, username: str):
    return _wall_page(request, "user", username)


@login_required
def service(request, pk: int):
    return _wall_page(request, "service", pk)


@login_required
def tag(request, tag: str):
    # Only the canonical spelling has a page: "/tags/VPN/" and "/tags/Not a tag/" do not.
    if walls.normalise_tag(tag) != tag:
        raise Http404("No such tag.")
    return _wall_page(request, "tag", tag)


@login_required
@require_GET
def wall_items(request, wall_type: str, key: str):
    wall = _resolve_or_404(request, wall_type, key)
    return render(request, "feeds/_wall_list.html", {"wall": wall, **wall_activities(request, wall)})


# --- following and muting ----------------------------------------------------------------------


@login_required
@require_POST
def follow(request):
    wall_type, key = request.POST.get("type", ""), request.POST.get("key", "")
    try:
        wall = walls.resolve(request.user, wall_type, key)
        services.follow_create(actor=request.user, target_type=wall_type, key=key)
    except ApplicationError as exc:
        return _error_page(request, exc)
    messages.success(request, f"You follow {wall.title}. What happens there now shows in your feed.")
    return redirect(_next_url(request, wall.url or reverse("feeds:feed")))


@login_required
@require_POST
def unfollow(request):
    follow_id = _cursor(request.POST.get("follow"))
    if follow_id is None:
        return render(request, "feeds/error.html", {"message": "Say what to stop following."}, status=400)
    try:
        services.follow_delete(actor=request.user, follow_id=follow_id)
    except ApplicationError as exc:
        return _error_page(request, exc)
    messages.success(request, "You no longer follow this.")
    return redirect(_next_url(request, reverse("feeds:feed")))


@login_required
@require_POST
def mute(request):
    wall_type, key = request.POST.get("type", ""), request.POST.get("key", "")
    muted = request.POST.get("muted", "1") != "0"
    try:
        wall = walls.resolve(request.user, wall_type, key)
        services.mute_set(actor=request.user, target_type=wall_type, key=key, muted=muted)
    except ApplicationError as exc:
        return _error_page(request, exc)
    if muted:
        messages.success(request, f"{wall.title} is muted: it stays out of your feed.")
    else:
        messages.success(request, f"{wall.title} is no longer muted.")
    return redirect(_next_url(request, wall.url or reverse("feeds:feed")))


# --- posts -------------------------------------------------------------------------------------


def _post_or_404(request, pk: int) -> tuple[Post, walls.Wall]:
    try:
        post = selectors.post_visible(viewer=request.user, post_id=pk)
        wall = walls.resolve(request.user, post.wall_type, post.wall_key)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    return post, wall


def _post_page(request, pk: int, *, comment_form=None, edit_form=None, like_error: str = "", status: int = 200):
    post, wall = _post_or_404(request, pk)
    user = request.user
    is_author = post.author_id == user.pk
    context = {
        "post": post,
        "wall": wall,
        "wall_url": wall.url or _object_url(wall.type, wall.key),
        **selectors.post_thread(viewer=user, post=post, with_revisions=is_author or user.is_agent),
        "is_author": is_author,
        "can_delete": is_author or user.is_agent,
        "comment_form": comment_form or BodyForm(prefix="comment", label="Add a comment"),
        "edit_form": edit_form or BodyForm(initial={"body": post.body}, prefix="edit", label="Your post", help_text=POST_HELP),
        "like_error": like_error,
    }
    return render(request, "feeds/post.html", context, status=status)


@login_required
def post_detail(request, pk: int):
    return _post_page(request, pk)


@login_required
@require_POST
def post_comment(request, pk: int):
    form = BodyForm(request.POST, prefix="comment", label="Add a comment")
    if form.is_valid():
        try:
            services.post_comment_add(actor=request.user, post_id=pk, body=form.cleaned_data["body"])
        except ApplicationError as exc:
            if exc.status in (403, 404):
                return _error_page(request, exc)
            form.add_service_error(exc)
        else:
            messages.success(request, "Comment added.")
            # Commented inline from the feed: back to the feed, where the count moved on.
            return redirect(_next_url(request, reverse("feeds:post", args=[pk]) + "#comments"))
    return _post_page(request, pk, comment_form=form, status=form.error_status)


@login_required
@require_POST
def post_edit(request, pk: int):
    form = BodyForm(request.POST, prefix="edit", label="Your post", help_text=POST_HELP)
    if form.is_valid():
        try:
            services.post_edit(actor=request.user, post_id=pk, body=form.cleaned_data["body"])
        except ApplicationError as exc:
            if exc.status in (403, 404):
                return _error_page(request, exc)
            form.add_service_error(exc)
        else:
            messages.success(request, "Your post is updated.")
            return redirect("feeds:post", pk=pk)
    else:
        # Only the author may even try: nobody else learns what the form would say.
        post, _ = _post_or_404(request, pk)
        if post.author_id != request.user.pk:
            return _forbidden(request, "Only the author edits a post.")
    return _post_page(request, pk, edit_form=form, status=400)


@login_required
@require_POST
def post_delete(request, pk: int):
    _post, wall = _post_or_404(request, pk)
    try:
        services.post_delete(actor=request.user, post_id=pk)
    except ApplicationError as exc:
        return _error_page(request, exc)
    messages.success(request, "The post is removed.")
    return redirect(wall.url or reverse("feeds:feed"))


def _like_action(request, pk: int, action):
    """Like or unlike (``action`` is the service), then back where the button was."""
    try:
        action(actor=request.user, post_id=pk)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            return _error_page(request, exc)
        return _post_page(request, pk, like_error=exc.message, status=exc.status)
    return redirect(_next_url(request, reverse("feeds:post", args=[pk])))


@login_required
@require_POST
def post_like(request, pk: int):
    return _like_action(request, pk, services.like_add)


@login_required
@require_POST
def post_unlike(request, pk: int):
    return _like_action(request, pk, services.like_remove)


# --- notification settings and feed links -----------------------------------------------------


class QuietHoursForm(forms.Form):
    quiet_hours_start = forms.TimeField(label="Quiet from", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_hours_end = forms.TimeField(label="Quiet until", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = TimeZoneField(help_text="Quiet hours and the daily digest follow it.")
    email_digest = forms.BooleanField(label="Send me one e-mail a day instead of one per event", required=False)


def _preference_rows(user) -> list[dict]:
    from .api import preferences_payload

    return preferences_payload(user)["kinds"]


@login_required
def preferences(request):
    """Per kind × channel choices, quiet hours, the digest, and secret links for feed readers."""
    from .notification_kinds import KINDS

    user = request.user
    form = QuietHoursForm(
        request.POST or None,
        initial={"quiet_hours_start": user.quiet_hours_start, "quiet_hours_end": user.quiet_hours_end,
                 "time_zone": user.time_zone, "email_digest": user.email_digest},
    )
    status = 200
    new_link = None
    if request.method == "POST" and request.POST.get("action") == "feed_link":
        try:
            token, key = services.feed_token_create(actor=user, label=request.POST.get("label", ""))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            new_link = request.build_absolute_uri(f"/rss/{key}/")
            messages.success(request, "Your new feed link is shown below. Copy it now: it will not be shown again.")
        form = QuietHoursForm(initial=form.initial)
    elif request.method == "POST":
        kinds = {
            kind: {"in_app": f"{kind}:in_app" in request.POST, "email": f"{kind}:email" in request.POST}
            for kind in KINDS
        }
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.notification_preferences_set(
                    actor=user, kinds=kinds, email_digest=data["email_digest"],
                    quiet_hours_start=data["quiet_hours_start"], quiet_hours_end=data["quiet_hours_end"],
                    time_zone=data["time_zone"],
                )
            except ApplicationError as exc:
                for field, errors in exc.errors.items():
                    form.add_error("quiet_hours_start" if field == "quiet_hours" else field if field in form.fields else None, errors)
            else:
                messages.success(request, "Your notification settings are saved.")
                return redirect("feeds:preferences")
        status = 400
    tokens = list(user.feed_tokens.filter(revoked_at__isnull=True).order_by("-id"))
    return render(
        request, "feeds/preferences.html",
        {"form": form, "kinds": _preference_rows(user), "tokens": tokens, "new_link": new_link},
        status=status,
    )


@login_required
@require_POST
def feed_link_revoke(request, token_id: int):
    try:
        services.feed_token_revoke(actor=request.user, token_id=token_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, "That feed link no longer works.")
    return redirect("feeds:preferences")


