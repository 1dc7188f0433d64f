"""Pages of communities and knowledge: the community list and page, questions and answers, articles
with their history, ideas and polls.

Reads come from `communities.selectors`; every change goes through `communities.services`. An
`ApplicationError` becomes a form error (400, the text kept), a 403 page or a 404.
"""
from __future__ import annotations

import difflib
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_named
from servicedesk import pages
from servicedesk.errors import ApplicationError, Forbidden

from . import selectors, services
from .forms import (
    ArticleForm,
    BodyForm,
    BridgeForm,
    CommunityForm,
    IdeaForm,
    IdeaStatusForm,
    InviteForm,
    PollForm,
    QuestionForm,
    ReasonForm,
    ServicesForm,
)
from .models import Answer, Article, Community

# The question list's tabs: two orders and two filters ("all" is the old name of "latest").
SHOW_CHOICES = [("latest", "Latest"), ("top", "Top"), ("unanswered", "Unanswered"), ("mine", "Mine")]


# Refusals on these pages lead back to the list of communities.
pages.forbidden_page("communities", url_name="communities:list", label="Back to communities")


def _refused(request, exc: ApplicationError, back: str):
    """A one-button action was refused: 404 hides, 403 explains, 400 says why on the page it came from."""
    if pages.refused(exc):
        raise exc
    messages.error(request, exc.message)
    return redirect(back)


def _submit(request, form, call, *, back: str, success: str, to):
    """Validate a form and hand its data to a service. Returns the response to send (the redirect
    `to(result)` after success, or the refusal for 403/404), or None when the form now carries the
    errors and the caller should show it again with a 400."""
    if not form.is_valid():
        return None
    try:
        result = call(form.cleaned_data)
    except ApplicationError as exc:
        if exc.status not in (400, 429):
            return _refused(request, exc, back)
        form.add_service_error(exc)
        return None
    messages.success(request, success)
    return redirect(to(result))


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _community_or_404(request, slug: str, *, readable: bool = True) -> Community:
    try:
        if readable:
            return selectors.community_readable(user=request.user, slug=slug)
        return selectors.community_get(user=request.user, slug=slug)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


def _or_404(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


# --- communities -------------------------------------------------------------------------------


@login_required
def community_list(request):
    form = CommunityForm(request.POST or None, prefix="new")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                community = services.community_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"{community.name} is open for questions.")
                return redirect(community.get_absolute_url())
        status = 400
    communities = list(selectors.communities_for(request.user))
    mine = set(request.user.memberships.values_list("community_id", flat=True))
    for community in communities:
        community.is_member = community.pk in mine
    return render(request, "communities/list.html", {"communities": communities, "form": form}, status=status)


def _wall_context(request, community: Community) -> dict:
    from feeds import walls
    from feeds.views import wall_activities

    wall = walls.resolve(request.user, "community", community.slug)
    return {"wall": wall, **wall_activities(request, wall)}


def _community_page(request, community: Community, *, status: int = 200, **forms):
    show = request.GET.get("show", "latest")
    if show not in dict(SHOW_CHOICES):
        show = "latest"
    tag = request.GET.get("tag", "").strip().lower()[:30]
    page = selectors.community_page(user=request.user, community=community, show=show,
                                    sort="top" if show == "top" else "latest", tag=tag)
    context = {"community": community, "page": page, "show": show, "show_choices": SHOW_CHOICES, "tag": tag}
    if page.can_read:
        from feeds.views import post_form

        context.update(_wall_context(request, community))
        context["post_form"] = forms.get("post_form") or post_form(label="Write to the community")
        context["post_url"] = reverse("communities:post", args=[community.slug])
        context["idea_form"] = forms.get("idea_form") or IdeaForm(prefix="idea")
        context["poll_form"] = forms.get("poll_form") or PollForm(prefix="poll")
    if page.is_moderator:
        context["invite_form"] = forms.get("invite_form") or InviteForm(prefix="invite")
        context["bridge_form"] = forms.get("bridge_form") or _bridge_form(request.user, community)
        context["services_form"] = forms.get("services_form") or _services_form(community, page)
    return render(request, "communities/detail.html", context, status=status)


def _bridge_form(user, community, data=None) -> BridgeForm:
    form = BridgeForm(data, prefix="bridge")
    candidates = Community.objects.filter(pk__in=selectors.readable_community_ids(user)).exclude(pk=community.pk).order_by("name")
    form.fields["target"].choices = [(c.slug, c.name) for c in candidates]
    return form


def _services_form(community, page, data=None) -> ServicesForm:
    from tickets.selectors import services_active

    form = ServicesForm(data, prefix="services", initial={"services": [s.pk for s in page.services]})
    form.fields["services"].choices = [(s.pk, s.name) for s in services_active()]
    return form


@login_required
def community_detail(request, slug: str):
    return _community_page(request, _community_or_404(request, slug, readable=False))


@login_required
@require_POST
def community_post(request, slug: str):
    from feeds import services as feeds_services
    from feeds.views import post_form

    community = _community_or_404(request, slug)
    form = post_form(request.POST, label="Write to the community")
    done = _submit(
        request, form,
        lambda data: feeds_services.post_create(actor=request.user, wall_type="community", wall_key=community.slug,
                                                body=data["body"]),
        back=community.get_absolute_url(), success="Posted.", to=lambda _: community.get_absolute_url() + "#activity-title",
    )
    return done or _community_page(request, community, status=form.error_status, post_form=form)


@login_required
@require_POST
def community_join(request, slug: str):
    community = _community_or_404(request, slug, readable=False)
    try:
        state = services.community_join(actor=request.user, community=community)
    except ApplicationError as exc:
        return _refused(request, exc, community.get_absolute_url())
    if state == "member":
        messages.success(request, f"Welcome to {community.name}. What happens here now shows in your feed.")
    else:
        messages.success(request, f"Your request to join {community.name} was sent to its moderators.")
    return redirect(community.get_absolute_url())


@login_required
@require_POST
def community_leave(request, slug: str):
    community = _community_or_404(request, slug, readable=False)
    try:
        services.community_leave(actor=request.user, community=community)
    except ApplicationError as exc:
        return _refused(request, exc, community.get_absolute_url())
    messages.success(request, f"You left {community.name}.")
    return redirect(reverse("communities:list") if community.is_private else community.get_absolute_url())


@login_required
@require_POST
def request_decide(request, slug: str, request_id: int, decision: str):
    community = _community_or_404(request, slug, readable=False)
    try:
        decided = services.join_request_decide(actor=request.user, community=community, request_id=request_id,
                                               approve=decision == "approve")
    except ApplicationError as exc:
        return _refused(request, exc, community.get_absolute_url())
    verb = "joined" if decision == "approve" else "was not admitted"
    messages.success(request, f"{decided.user.display_name} {verb}.")
    return redirect(community.get_absolute_url() + "#requests-title")


@login_required
@require_POST
def invite(request, slug: str):
    community = _community_or_404(request, slug, readable=False)
    form = InviteForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            selectors.require_moderator(request.user, community, "Only the community's owners and moderators invite people.")
            user = account_named(form.cleaned_data["username"])
            if user is None:
                raise ApplicationError("No such person.", errors={"username": ["No active account has that username."]})
            services.invitation_create(actor=request.user, community=community, user=user)
        except ApplicationError as exc:
            if exc.status != 400:
                return _refused(request, exc, community.get_absolute_url())
            form.add_service_error(exc)
        else:
            messages.success(request, f"{user.display_name} is invited.")
            return redirect(community.get_absolute_url())
    return _community_page(request, community, status=400, invite_form=form)


@login_required
@require_POST
def invitation_decide(request, invitation_id: int, decision: str):
    try:
        invitation = services.invitation_decide(actor=request.user, invitation_id=invitation_id, accept=decision == "accept")
    except ApplicationError as exc:
        return _refused(request, exc, reverse("communities:list"))
    community = invitation.community
    if decision == "accept":
        messages.success(request, f"Welcome to {community.name}.")
        return redirect(community.get_absolute_url())
    messages.success(request, f"You declined the invitation to {community.name}.")
    return redirect(reverse("communities:list"))


@login_required
@require_POST
def member_remove(request, slug: str, username: str):
    community = _community_or_404(request, slug)
    user = account_named(username, active_only=False)
    if user is None:
        raise Http404("No such member.")
    try:
        services.member_remove(actor=request.user, community=community, user=user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _refused(request, exc, community.get_absolute_url())
    messages.success(request, f"{user.display_name} is no longer a member.")
    return redirect(community.get_absolute_url() + "#members-title")


@login_required
@require_POST
def bridge_propose(request, slug: str):
    community = _community_or_404(request, slug)
    form = _bridge_form(request.user, community, request.POST)
    if form.is_valid():
        target = Community.objects.filter(slug=form.cleaned_data["target"]).first()
        try:
            bridge = services.bridge_propose(actor=request.user, source=community, target=target)
        except ApplicationError as exc:
            if exc.status != 400:
                return _refused(request, exc, community.get_absolute_url())
            form.add_service_error(exc)
        else:
            if bridge.status == bridge.Status.ACTIVE:
                messages.success(request, f"{community.name} and {target.name} are linked.")
            else:
                messages.success(request, f"The moderators of {target.name} were asked to accept the link.")
            return redirect(community.get_absolute_url())
    return _community_page(request, community, status=400, bridge_form=form)


@login_required
@require_POST
def bridge_accept(request, slug: str, bridge_id: int):
    from .models import Bridge

    community = _community_or_404(request, slug)
    bridge = Bridge.objects.filter(pk=bridge_id, target=community).first()
    if bridge is None:
        raise Http404("No such link.")
    try:
        services.bridge_accept(actor=request.user, bridge=bridge)
    except ApplicationError as exc:
        return _refused(request, exc, community.get_absolute_url())
    messages.success(request, "The communities are linked.")
    return redirect(community.get_absolute_url())


@login_required
@require_POST
def services_set(request, slug: str):
    from tickets.models import Service

    community = _community_or_404(request, slug)
    page = selectors.community_page(user=request.user, community=community)
    form = _services_form(community, page, request.POST)
    if form.is_valid():
        try:
            services.community_services_set(actor=request.user, community=community,
                                            services=list(Service.objects.filter(pk__in=form.cleaned_data["services"])))
        except ApplicationError as exc:
            return _refused(request, exc, community.get_absolute_url())
        messages.success(request, "Linked services saved.")
        return redirect(community.get_absolute_url())
    return _community_page(request, community, status=400, services_form=form)


# --- questions and answers ---------------------------------------------------------------------


@login_required
def ask(request, slug: str):
    community = _community_or_404(request, slug)
    form = QuestionForm(request.POST or None, prefix="q", initial={"title": request.GET.get("title", "")[:200]})
    status = 200
    if request.method == "POST":
        done = _submit(
            request, form, lambda data: services.question_ask(actor=request.user, community=community, **data),
            back=community.get_absolute_url(), success="Your question is posted. You will be told when someone answers.",
            to=lambda question: question.get_absolute_url(),
        )
        if done:
            return done
        status = form.error_status
    return render(request, "communities/ask.html", {"community": community, "form": form}, status=status)


@login_required
@require_GET
def ask_routed(request):
    """"Ask the community instead": the communities that help with the chosen service."""
    from tickets.models import Service

    service = None
    service_id = request.GET.get("service", "")
    if service_id.isdecimal():
        service = Service.objects.filter(pk=int(service_id), active=True).first()
    readable = Community.objects.filter(pk__in=selectors.readable_community_ids(request.user)).order_by("name")
    routed = list(readable.filter(services=service)) if service else []
    title = request.GET.get("title", "")[:200]
    if len(routed) == 1:
        return redirect(reverse("communities:ask", args=[routed[0].slug]) + ("?title=" + _q(title) if title else ""))
    choices = routed or list(readable)
    return render(request, "communities/ask_routed.html", {"service": service, "choices": choices, "routed": bool(routed),
                                                           "title": title})


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _question_context(request, question, **forms) -> dict:
    page = selectors.question_page(user=request.user, question=question)
    return {
        "question": question, "community": question.community, "page": page,
        "answer_form": forms.get("answer_form") or BodyForm(prefix="answer"),
        "can_accept": request.user.pk == question.author_id or page.is_moderator,
        "can_answer": (page.is_member or not question.community.is_private) and not page.removed,
        "comment_error": forms.get("comment_error"),
    }


@login_required
def question_detail(request, pk: int):
    question = _or_404(selectors.question_get, user=request.user, question_id=pk)
    status = 200
    form = None
    if request.method == "GET":
        services.question_viewed(viewer=request.user, question=question)
    if request.method == "POST":
        form = BodyForm(request.POST, prefix="answer")
        done = _submit(
            request, form, lambda data: services.answer_post(actor=request.user, question=question, body=data["body"]),
            back=question.get_absolute_url(), success="Your answer is posted.",
            to=lambda answer: f"{question.get_absolute_url()}#answer-{answer.pk}",
        )
        if done:
            return done
        status = form.error_status
    return render(request, "communities/question.html", _question_context(request, question, answer_form=form), status=status)


@login_required
@require_GET
def question_answers(request, pk: int):
    """The answers list alone, drawn for the reader: the open question page swaps it in when it hears
    that votes or the accepted answer changed, so order, scores and accept buttons follow."""
    question = _or_404(selectors.question_get, user=request.user, question_id=pk)
    return render(request, "communities/_answers.html", _question_context(request, question))


def _answer_or_404(request, pk: int) -> Answer:
    return _or_404(selectors.answer_get, user=request.user, answer_id=pk)


@login_required
@require_POST
def answer_vote(request, pk: int):
    answer = _answer_or_404(request, pk)
    question = answer.question
    error = ""
    try:
        value = int(request.POST.get("value", ""))
        answer = services.answer_vote(actor=request.user, answer=answer, value=value)
    except ValueError:
        error = "Vote up or down."
    except ApplicationError as exc:
        if exc.status != 400:
            return _refused(request, exc, question.get_absolute_url())
        error = exc.message
    if request.headers.get("HX-Request"):
        from .models import Vote

        answer.my_vote = Vote.objects.filter(answer=answer, user=request.user).values_list("value", flat=True).first()
        return render(request, "communities/_votes.html", {"answer": answer, "vote_error": error, "question": question},
                      status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")


@login_required
@require_POST
def answer_accept(request, pk: int):
    answer = _answer_or_404(request, pk)
    try:
        services.answer_accept(actor=request.user, answer=answer)
    except ApplicationError as exc:
        return _refused(request, exc, answer.question.get_absolute_url())
    messages.success(request, "Answer accepted. Thank you for closing the loop.")
    return redirect(f"{answer.question.get_absolute_url()}#answer-{answer.pk}")


@login_required
@require_POST
def answer_promote(request, pk: int):
    answer = _answer_or_404(request, pk)
    try:
        article = services.answer_promote(actor=request.user, answer=answer)
    except ApplicationError as exc:
        return _refused(request, exc, answer.question.get_absolute_url())
    messages.success(request, f"The answer is now a knowledge article, credited to {answer.author.display_name}.")
    return redirect(article.get_absolute_url())


@login_required
@require_POST
def answer_comment(request, pk: int):
    answer = _answer_or_404(request, pk)
    question = answer.question
    form = BodyForm(request.POST, prefix=f"comment-{answer.pk}", label="Comment", rows=2, max_length=2000, help_text="")
    if form.is_valid():
        try:
            services.answer_comment_add(actor=request.user, answer=answer, body=form.cleaned_data["body"])
        except ApplicationError as exc:
            if exc.status in (400, 429):  # the page again, the comment as typed, the reason next to it
                error = {"answer": answer.pk, "message": exc.message, "body": form.cleaned_data["body"]}
                return render(request, "communities/question.html", _question_context(request, question, comment_error=error),
                              status=exc.status)
            return _refused(request, exc, question.get_absolute_url())
        return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")
    messages.error(request, "Write a comment of up to 2,000 characters.")
    return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")


def _remove(request, item, back: str, done: str):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why it is removed.")
        return redirect(back)
    try:
        services.content_remove(actor=request.user, item=item, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        return _refused(request, exc, back)
    messages.success(request, "Removed. It stays on record with your reason.")
    return redirect(done)


@login_required
@require_POST
def question_remove(request, pk: int):
    question = _or_404(selectors.question_get, user=request.user, question_id=pk)
    return _remove(request, question, question.get_absolute_url(), question.community.get_absolute_url())


@login_required
@require_POST
def answer_remove(request, pk: int):
    answer = _answer_or_404(request, pk)
    url = answer.question.get_absolute_url()
    return _remove(request, answer, url, url)


@login_required
@require_POST
def question_ticket(request, pk: int):
    question = _or_404(selectors.question_get, user=request.user, question_id=pk)
    try:
        ticket = services.question_to_ticket(actor=request.user, question=question)
    except ApplicationError as exc:
        return _refused(request, exc, question.get_absolute_url())
    messages.success(request, f"{ticket.number} is logged from your question; you follow it.")
    return redirect(ticket.get_absolute_url())


# --- knowledge articles ------------------------------------------------------------------------


@login_required
def article_list(request):
    text = (request.GET.get("q") or "").strip()[:200]
    articles = selectors.articles_for(request.user)
    if text:
        articles = selectors.text_search(articles, text, ("title", "body"))
    return render(request, "communities/articles.html", {"articles": list(articles[:50]), "query": text})


@login_required
def article_create(request):
    community = None
    slug = request.GET.get("community") or request.POST.get("community") or ""
    if slug:
        community = _community_or_404(request, slug)
    form = ArticleForm(request.POST or None, prefix="article")
    del form.fields["note"]
    status = 200
    if request.method == "POST":
        done = _submit(
            request, form,
            lambda data: services.article_create(actor=request.user, title=data["title"], body=data["body"], community=community),
            back=reverse("communities:articles"), success="The article is published.",
            to=lambda article: article.get_absolute_url(),
        )
        if done:
            return done
        status = 400
    return render(request, "communities/article_form.html", {"form": form, "community": community, "article": None},
                  status=status)


def _article_or_404(request, pk: int) -> Article:
    return _or_404(selectors.article_get, user=request.user, article_id=pk)


@login_required
def article_edit(request, pk: int):
    article = _article_or_404(request, pk)
    if not selectors.can_edit_article(request.user, article):
        raise Forbidden(selectors.ARTICLE_EDIT_REFUSED)
    form = ArticleForm(request.POST or None, prefix="article", initial={"title": article.title, "body": article.body})
    status = 200
    if request.method == "POST":
        done = _submit(
            request, form, lambda data: services.article_edit(actor=request.user, article=article, **data),
            back=article.get_absolute_url(), success="Saved as a new revision.", to=lambda _: article.get_absolute_url(),
        )
        if done:
            return done
        status = 400
    return render(request, "communities/article_form.html", {"form": form, "community": article.community, "article": article},
                  status=status)


def side_by_side(old: str, new: str) -> list[dict]:
    """Rows of a two-column diff: each side's line and whether it was removed, added or changed."""
    a, b = old.splitlines(), new.splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [{"kind": "same", "old": a[i], "new": b[j1 + n], "old_no": i + 1, "new_no": j1 + n + 1}
                     for n, i in enumerate(range(i1, i2))]
            continue
        left, right = a[i1:i2], b[j1:j2]
        for n in range(max(len(left), len(right))):
            rows.append({
                "kind": tag,
                "old": left[n] if n < len(left) else None, "old_no": i1 + n + 1 if n < len(left) else "",
                "new": right[n] if n < len(right) else None, "new_no": j1 + n + 1 if n < len(right) else "",
            })
    return rows


def _diff_context(request, article) -> dict:
    revisions = list(article.revisions.select_related("editor").order_by("-number"))
    numbers = [r.number for r in revisions]
    context = {"revisions": revisions, "diff_rows": None, "diff_error": ""}
    raw_from, raw_to = request.GET.get("from"), request.GET.get("to")
    if raw_from == "portal":
        raw_from = None  # `?from=portal` marks a visit from the portal's suggestions, not a revision
    if raw_from is None and raw_to is None:
        context.update({"from_rev": numbers[1] if len(numbers) > 1 else numbers[0], "to_rev": numbers[0]})
        return context
    try:
        a, b = int(raw_from or ""), int(raw_to or "")
    except ValueError:
        context.update({"diff_error": "Choose two revisions.", "from_rev": None, "to_rev": None})
        return context
    by_number = {r.number: r for r in revisions}
    if a not in by_number or b not in by_number:
        context.update({"diff_error": "Choose revisions of this article.", "from_rev": a, "to_rev": b})
        return context
    old, new = by_number[a], by_number[b]
    context.update({"from_rev": a, "to_rev": b,
                    "diff_rows": side_by_side(f"# {old.title}\n{old.body}", f"# {new.title}\n{new.body}")})
    return context


@login_required
def article_detail(request, pk: int):
    article = _article_or_404(request, pk)
    context = {"article": article, **_diff_context(request, article)}
    context["can_edit"] = selectors.can_edit_article(request.user, article)
    context["is_moderator"] = (
        selectors.is_moderator(request.user, article.community) if article.community_id
        else request.user.is_agent or request.user.is_manager or request.user.is_admin_role
    )
    context["marked_helpful"] = article.helpful_votes.filter(user=request.user).exists()
    context["is_author"] = article.author_id == request.user.pk
    context["saved_tickets"] = selectors.article_deflections(article)
    context["from_portal"] = request.GET.get("from") == "portal"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "diff":
        return render(request, "communities/_diff.html", context, status=400 if context["diff_error"] else 200)
    return render(request, "communities/article.html", context, status=400 if context["diff_error"] else 200)


@login_required
@require_POST
def article_restore(request, pk: int):
    article = _article_or_404(request, pk)
    try:
        number = int(request.POST.get("revision", ""))
        article = services.article_restore(actor=request.user, article=article, number=number)
    except ValueError:
        messages.error(request, "Choose a revision to restore.")
        return redirect(article.get_absolute_url())
    except ApplicationError as exc:
        return _refused(request, exc, article.get_absolute_url())
    messages.success(request, f"Revision {number} is back, as revision {article.revision}.")
    return redirect(article.get_absolute_url())


@login_required
@require_POST
def article_helpful(request, pk: int):
    article = _article_or_404(request, pk)
    error = ""
    try:
        article.helpful_count = services.article_helpful(actor=request.user, article=article)
    except ApplicationError as exc:
        if exc.status != 400:
            return _refused(request, exc, article.get_absolute_url())
        error = exc.message
    if request.headers.get("HX-Request"):
        marked = article.helpful_votes.filter(user=request.user).exists()
        return render(request, "communities/_helpful.html",
                      {"article": article, "marked_helpful": marked, "helpful_error": error, "is_author": article.author_id == request.user.pk})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Thank you: that helps others find it.")
    return redirect(article.get_absolute_url())


@login_required
@require_POST
def article_remove(request, pk: int):
    article = _article_or_404(request, pk)
    done = article.community.get_absolute_url() if article.community_id else reverse("communities:articles")
    return _remove(request, article, article.get_absolute_url(), done)


# --- ideas and polls ---------------------------------------------------------------------------


@login_required
@require_POST
def idea_create(request, slug: str):
    community = _community_or_404(request, slug)
    form = IdeaForm(request.POST, prefix="idea")
    done = _submit(
        request, form, lambda data: services.idea_create(actor=request.user, community=community, **data),
        back=community.get_absolute_url(), success="Your idea is posted.", to=lambda idea: idea.get_absolute_url(),
    )
    return done or _community_page(request, community, status=400, idea_form=form)


@login_required
def idea_detail(request, slug: str, pk: int):
    community = _community_or_404(request, slug)
    idea = _or_404(selectors.idea_get, user=request.user, community=community, idea_id=pk)
    moderator = selectors.is_moderator(request.user, community)
    form = None
    status = 200
    if request.method == "POST":
        form = IdeaStatusForm(request.POST, prefix="status")
        done = _submit(
            request, form, lambda data: services.idea_status_set(actor=request.user, idea=idea, **data),
            back=idea.get_absolute_url(), success="Status saved; the author and the voters are told.",
            to=lambda _: idea.get_absolute_url(),
        )
        if done:
            return done
        status = 400
    voted = idea.votes.filter(user=request.user).exists()
    return render(request, "communities/idea.html", {
        "community": community, "idea": idea, "voted": voted, "is_moderator": moderator,
        "status_form": form or IdeaStatusForm(prefix="status", initial={"status": idea.status, "note": idea.status_note}),
    }, status=status)


@login_required
@require_POST
def idea_vote(request, slug: str, pk: int):
    community = _community_or_404(request, slug)
    idea = _or_404(selectors.idea_get, user=request.user, community=community, idea_id=pk)
    try:
        services.idea_vote(actor=request.user, idea=idea)
    except ApplicationError as exc:
        return _refused(request, exc, _back(request, idea.get_absolute_url()))
    messages.success(request, "Vote counted.")
    return redirect(_back(request, idea.get_absolute_url()))


@login_required
@require_POST
def idea_remove(request, slug: str, pk: int):
    community = _community_or_404(request, slug)
    idea = _or_404(selectors.idea_get, user=request.user, community=community, idea_id=pk)
    return _remove(request, idea, idea.get_absolute_url(), community.get_absolute_url())


@login_required
@require_POST
def poll_create(request, slug: str):
    community = _community_or_404(request, slug)
    form = PollForm(request.POST, prefix="poll")
    if form.is_valid():
        closes_at = form.cleaned_data["closes_at"]
        if closes_at.tzinfo is None:
            closes_at = closes_at.replace(tzinfo=dt_timezone.utc)
        try:
            poll = services.poll_create(actor=request.user, community=community, question=form.cleaned_data["question"],
                                        options=form.option_list(), closes_at=closes_at)
        except ApplicationError as exc:
            if exc.status != 400:
                return _refused(request, exc, community.get_absolute_url())
            form.add_service_error(exc)
        else:
            messages.success(request, "The poll is open.")
            return redirect(f"{community.get_absolute_url()}#poll-{poll.pk}")
    return _community_page(request, community, status=400, poll_form=form)


@login_required
@require_POST
def poll_vote(request, slug: str, pk: int):
    community = _community_or_404(request, slug)
    poll = _or_404(selectors.poll_get, user=request.user, community=community, poll_id=pk)
    back = f"{community.get_absolute_url()}#poll-{poll.pk}"
    try:
        option = int(request.POST.get("option", ""))
    except ValueError:
        messages.error(request, "Choose an option.")
        return redirect(back)
    try:
        services.poll_vote(actor=request.user, poll=poll, option_id=option)
    except ApplicationError as exc:
        return _refused(request, exc, back)
    messages.success(request, "Vote counted.")
    return redirect(back)


# --- the portal's suggestions ------------------------------------------------------------------


def deflect_to_article(request):
    """A knowledge article suggested on the portal was opened: record it, then show the article.
    If the person does not log the ticket afterwards, the article saved one."""
    from tickets import services as tickets_services
    from tickets.models import Deflection

    key = request.GET.get("key", "")
    if not key.isdecimal():
        raise Http404("No such article.")
    article = _article_or_404(request, int(key))
    tickets_services.deflection_record(
        actor=request.user, query=request.GET.get("q", ""), outcome=Deflection.Outcome.OPENED,
        suggestion_type="article", suggestion_key=str(article.pk),
    )
    return redirect(f"{article.get_absolute_url()}?from=portal")


# --- knowledge in an agent's reply on a ticket ----------------------------------------------------


def _agent_ticket(request, pk: int):
    from tickets import selectors as ticket_selectors

    if not ticket_selectors.is_staff(request.user):
        raise Http404("Not found.")
    try:
        return ticket_selectors.ticket_get(user=request.user, ticket_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


@login_required
@require_GET
def reply_knowledge(request, pk: int):
    """Articles and accepted answers matching the ticket, each with an "Insert" button (htmx partial)."""
    ticket = _agent_ticket(request, pk)
    found = selectors.reply_knowledge(user=request.user, ticket=ticket)
    return render(request, "communities/_reply_knowledge.html", {"ticket": ticket, "found": found})


@login_required
@require_POST
def reply_knowledge_link(request, pk: int, article_id: int):
    """The agent inserted this article into a reply: record the reuse, answer the text to insert."""
    from django.http import JsonResponse

    ticket = _agent_ticket(request, pk)
    article = _article_or_404(request, article_id)
    try:
        services.article_reuse_record(actor=request.user, article=article, ticket=ticket)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    url = request.build_absolute_uri(article.get_absolute_url())
    summary = selectors._summary(article.body)
    return JsonResponse({"text": f"[{article.title}]({url}): {summary}", "article": article.pk})
