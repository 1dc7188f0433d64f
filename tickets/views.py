"""Ticket pages: the portal, lists, the ticket page and the agent queue.

Views stay thin: reads come from `tickets.selectors`, every change goes through `tickets.services`,
and an `ApplicationError` becomes a form error (400), a 403 page or a 404.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Team
from servicedesk import pages
from servicedesk.errors import ApplicationError

from . import knowledge, selectors, services
from .forms import (
    BulkUpdateForm,
    CannedResponseForm,
    CommentForm,
    LinkForm,
    ProblemCreateForm,
    ProblemResolveForm,
    RatingForm,
    ReopenForm,
    SavedViewForm,
    TicketCreateForm,
    TicketUpdateForm,
)
from .models import OPEN_STATUSES, Deflection, Kind, Priority, Status, Ticket

LIST_PAGE_SIZE = 25
QUEUE_PAGE_SIZE = 50
TICKET_NUMBER_IN_TEXT = re.compile(r"^(?:INC|REQ|PRB)-0*(\d{1,12})$")
PORTAL_LIST_SIZE = 20
QUEUE_FILTER_KEYS = ("status", "priority", "team", "service", "assignee", "breached", "sla", "sort", "q")
SAVED_VIEW_KEYS = ("status", "priority", "team", "service", "assignee", "breached", "sla", "sort")
QUEUE_SORTS = [("due", "SLA due"), ("priority", "Priority"), ("updated", "Recently updated"), ("-id", "Newest")]


# --- helpers -----------------------------------------------------------------------------------


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


_forbidden = pages.forbidden_page("tickets", url_name="tickets:portal", label="Go to the portal")


def _ticket_or_404(request, pk: int) -> Ticket:
    try:
        return selectors.ticket_get(user=request.user, ticket_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


def _teams() -> list[Team]:
    return selectors.teams_list()


@dataclass
class Page:
    """One page of a list, fetched as page_size + 1 rows: the extra row only says "there is more"."""

    rows: list
    number: int
    has_next: bool
    previous_url: str | None
    next_url: str | None


# Far past any real list, and small enough that the row offset still fits the database's integers.
MAX_PAGE = 1_000_000


def _page(request, queryset, size: int, path: str | None = None) -> Page:
    try:
        number = min(MAX_PAGE, max(1, int(request.GET.get("page", 1))))
    except ValueError:
        number = 1
    rows = selectors.page_of(queryset, (number - 1) * size, number * size + 1)
    has_next = len(rows) > size

    def url(n):
        params = request.GET.copy()
        params["page"] = str(n)
        return f"{path or request.path}?{params.urlencode()}"

    return Page(
        rows=rows[:size], number=number, has_next=has_next,
        previous_url=url(number - 1) if number > 1 else None, next_url=url(number + 1) if has_next else None,
    )


def _back_to(ticket: Ticket, anchor: str = ""):
    return redirect(ticket.get_absolute_url() + anchor)


# --- portal ------------------------------------------------------------------------------------


def _my_tickets(user):
    return selectors.ticket_list(user=user, filters=selectors.TicketFilters(requester="me"))


def _followed(user):
    return selectors.ticket_list(user=user, filters=selectors.TicketFilters(following=True))


@login_required
def portal(request):
    services_list = selectors.services_list()
    agent = selectors.is_staff(request.user)
    form = TicketCreateForm(
        request.POST or None, services=services_list, agent=agent, suggestions_url=reverse("tickets:suggestions")
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.portal_ticket_log(
                    actor=request.user, kind=data["kind"], title=data["title"], description=data["description"],
                    service=data["service"], impact=data["impact"], urgency=data["urgency"],
                    visibility=data["visibility"],
                    suggestions_shown_for=(data["suggestions_query"] or data["title"]) if data["suggestions_shown"] else "",
                )
            except ApplicationError as exc:
                if exc.status == 403:
                    raise
                form.add_service_error(exc)
            else:
                messages.success(request, f"{ticket.number} is logged. Follow its progress here; we will keep you posted.")
                return redirect(ticket.get_absolute_url())
        status = form.error_status
    context = {
        "form": form,
        "my_tickets": list(_my_tickets(request.user)[:PORTAL_LIST_SIZE]),
        "followed": list(_followed(request.user)[:PORTAL_LIST_SIZE]),
        "list_size": PORTAL_LIST_SIZE,
    }
    return render(request, "tickets/portal.html", context, status=status)


@login_required
@require_GET
def suggestions(request):
    query = (request.GET.get("q") or request.GET.get("title") or "").strip()[:200]
    found = selectors.suggestions(user=request.user, text=query)
    mine = selectors.own_similar(user=request.user, text=query)
    articles = knowledge.article_suggestions(user=request.user, text=query)
    return render(request, "tickets/_suggestions.html", {
        "suggestions": found, "mine": mine, "articles": articles, "query": query,
        "count": len(found) + len(articles) + len(mine),
    })


@login_required
@require_GET
def deflect(request):
    if request.GET.get("type") == "article":
        return knowledge.deflect_to_article(request)
    if request.GET.get("type") != "ticket":
        raise Http404("Unknown suggestion.")
    ticket = _ticket_or_404(request, request.GET.get("key"))
    services.deflection_record(
        actor=request.user, query=request.GET.get("q", ""), outcome=Deflection.Outcome.OPENED,
        suggestion_type="ticket", suggestion_key=str(ticket.pk), ticket=ticket,
    )
    return redirect(ticket.get_absolute_url())


# --- lists -------------------------------------------------------------------------------------


def _ticket_list_page(request, *, queryset, title: str, intro: str, empty_title: str, empty_text: str, current: str):
    page = _page(request, queryset, LIST_PAGE_SIZE)
    context = {
        "page": page, "title": title, "intro": intro, "empty_title": empty_title, "empty_text": empty_text,
        "current": current,
    }
    return render(request, "tickets/list.html", context)


@login_required
def mine(request):
    return _ticket_list_page(
        request, queryset=_my_tickets(request.user), title="My tickets", current="mine",
        intro="Everything you have logged, newest first.",
        empty_title="You haven't logged anything yet",
        empty_text="When you log an incident or a request from the portal, it appears here.",
    )


@login_required
def followed(request):
    return _ticket_list_page(
        request, queryset=_followed(request.user), title="Followed tickets", current="followed",
        intro="Tickets you follow: yours, the ones you said \u201cme too\u201d to, and any you chose to follow.",
        empty_title="You aren't following any tickets",
        empty_text="Follow a ticket to hear about every reply and status change.",
    )


@login_required
def search(request):
    query = (request.GET.get("q") or "").strip()[:200]
    tab = "community" if request.GET.get("tab") == "community" else "tickets"
    page = None
    hits = []
    if query and tab == "community":
        hits = knowledge.community_search(user=request.user, text=query)
    elif query:
        queryset = selectors.ticket_list(user=request.user, filters=selectors.TicketFilters(q=query))
        page = _page(request, queryset, LIST_PAGE_SIZE)
    return render(request, "tickets/search.html", {"query": query, "page": page, "tab": tab, "hits": hits})


# --- the ticket page ---------------------------------------------------------------------------


def _update_form(user, ticket: Ticket, *, agents, teams, services=(), data=None) -> TicketUpdateForm:
    form = TicketUpdateForm(
        data, user=user, agents=agents, teams=teams, services=services, auto_id="update_%s",
        initial={
            "status": ticket.status,
            "assignee": ticket.assignee.username if ticket.assignee_id else "",
            "priority": ticket.priority,
            "team": ticket.team_id,
            "service": ticket.service_id,
            "kind": ticket.kind,
        },
    )
    if ticket.kind == Kind.PROBLEM:
        del form.fields["kind"]
    return form


def _detail_context(request, ticket: Ticket, **forms) -> dict:
    user = request.user
    agent = selectors.is_staff(user)
    page = selectors.ticket_page(user=user, ticket=ticket)
    context = {
        "ticket": ticket,
        "page": page,
        "agent": agent,
        "is_requester": ticket.requester_id == user.pk,
        "comment_form": forms.get("comment_form") or CommentForm(agent=agent, auto_id="reply_%s"),
        # Forms are built only where the page shows them (each is a deep copy of its fields).
        "rating_form": forms.get("rating_form") or (RatingForm(auto_id="rating_%s") if page.can_rate else None),
        "reopen_form": forms.get("reopen_form") or (ReopenForm(auto_id="reopen_%s") if page.can_reopen else None),
        "problem_form": forms.get("problem_form") or (
            ProblemResolveForm(auto_id="problem_%s") if agent and ticket.kind == Kind.PROBLEM else None),
        # "Me too" is how affected people raise their hand; staff work the ticket instead.
        "can_me_too": (
            not agent and ticket.kind == Kind.INCIDENT and ticket.is_public and ticket.is_open
            and ticket.requester_id != user.pk
        ),
    }
    if agent:
        canned = selectors.canned_responses_for(user=user)
        context.update(
            social=selectors.social_context(viewer=user, person=ticket.requester),
            **_controls(user, ticket, forms.get("update_form")),
            open_incidents=sum(1 for t in page.incidents if t.status in OPEN_STATUSES),
            canned=canned,
            link_form=forms.get("link_form") or LinkForm(auto_id="link_%s"),
            merge_form=forms.get("merge_form") or LinkForm(auto_id="merge_%s"),
            problem_create_form=ProblemCreateForm(auto_id="newproblem_%s"),
            tool_error=forms.get("tool_error", ""),
        )
    return context


def _controls(user, ticket: Ticket, form: TicketUpdateForm | None = None) -> dict:
    """The triage form and the suggested assignees, read from the agents the form already holds."""
    form = form or _update_form(
        user, ticket, agents=selectors.agents_offered(), teams=_teams(), services=selectors.services_list()
    )
    # Offer only the moves the ticket can make from where it is.
    allowed = services.TRANSITIONS[ticket.status]
    form.fields["status"].choices = [
        (value, label) for value, label in Status.choices if value == ticket.status or value in allowed
    ]
    suggested = selectors.suggested_assignees(ticket=ticket, agents_list=list(form.agent_objects.values()))
    return {"update_form": form, "suggested_assignees": suggested}


@login_required
def detail(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    return render(request, "tickets/detail.html", _detail_context(request, ticket))


def _render_detail_with_errors(request, ticket: Ticket, **forms):
    """Show the ticket page again with the form that failed, everything typed kept (400, or 429
    when a rate limit refused it)."""
    status = max([form.error_status for form in forms.values() if hasattr(form, "error_status")] or [400])
    return render(request, "tickets/detail.html", _detail_context(request, ticket, **forms), status=status)


@login_required
@require_GET
def conversation(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    agent = selectors.is_staff(request.user)
    context = {
        "ticket": ticket,
        "comments": selectors.comments_for(user=request.user, ticket=ticket),
        "agent": agent,
        "with_summary": _is_htmx(request),
    }
    # An agent's page asks for its triage controls too, and takes them only if the agent is not using them.
    if context["with_summary"] and agent and request.GET.get("controls") == "1":
        context.update(_controls(request.user, ticket))
    # The requester's rating and reopen forms follow the status live (resolved: "Rate the resolution").
    if context["with_summary"] and ticket.requester_id == request.user.pk and not agent:
        can_rate, can_reopen = selectors.resolution_choices(user=request.user, ticket=ticket)
        context.update(with_resolution=True, can_rate=can_rate, can_reopen=can_reopen,
                       rating_form=RatingForm(auto_id="rating_%s"), reopen_form=ReopenForm(auto_id="reopen_%s"))
    return render(request, "tickets/_conversation_response.html", context)


@login_required
@require_POST
def comment(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    agent = selectors.is_staff(request.user)
    form = CommentForm(request.POST, request.FILES, agent=agent, auto_id="reply_%s")
    if not form.is_valid():
        return _render_detail_with_errors(request, ticket, comment_form=form)
    upload = form.cleaned_data.get("file")
    try:
        new = services.reply_add(
            actor=request.user, ticket=ticket, body=form.cleaned_data["body"], internal=form.internal,
            uploads=[upload] if upload else [],
        )
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        form.add_service_error(exc)
        return _render_detail_with_errors(request, ticket, comment_form=form)
    applied = _apply_canned(request, ticket)
    messages.success(request, ("Internal note added." if new.internal else "Reply sent.") + applied)
    return _back_to(ticket, f"#comment-{new.pk}")


def _apply_canned(request, ticket: Ticket) -> str:
    """A canned response inserted into the reply may also set the status and priority: applied
    once the reply is sent. A change the ticket refuses is reported, the reply stays sent."""
    raw = request.POST.get("canned", "")
    if not raw or not selectors.is_staff(request.user):
        return ""
    try:
        response = selectors.canned_response_get(user=request.user, response_id=raw)
        before = (ticket.status, ticket.priority)
        ticket = services.canned_response_apply(actor=request.user, ticket=Ticket.objects.get(pk=ticket.pk), response=response)
    except ApplicationError as exc:
        return f" The canned response's changes were not applied: {exc.message}"
    if (ticket.status, ticket.priority) == before:
        return ""
    return f" Now {ticket.get_status_display().lower()}, priority {ticket.priority}."


def _simple_action(request, pk: int, action, success: str, anchor: str = ""):
    """Follow, unfollow, "me too": call the service, then the page again (or the htmx partial)."""
    ticket = _ticket_or_404(request, pk)
    try:
        action(actor=request.user, ticket=ticket)
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        if _is_htmx(request):
            return _actions_partial(request, ticket, error=exc.message, status=exc.status)
        messages.error(request, exc.message)
        return _back_to(ticket, anchor)
    if _is_htmx(request):
        ticket = _ticket_or_404(request, pk)
        return _actions_partial(request, ticket, notice=success)
    messages.success(request, success)
    return _back_to(ticket, anchor)


def _actions_partial(request, ticket: Ticket, *, notice: str = "", error: str = "", status: int = 200):
    context = _detail_context(request, ticket)
    context.update(notice=notice, error=error)
    return render(request, "tickets/_social_actions.html", context, status=status)


@login_required
@require_POST
def follow(request, pk: int):
    return _simple_action(request, pk, services.ticket_follow, "You are following this ticket.")


@login_required
@require_POST
def unfollow(request, pk: int):
    return _simple_action(request, pk, services.ticket_unfollow, "You no longer follow this ticket.")


@login_required
@require_POST
def me_too(request, pk: int):
    return _simple_action(request, pk, services.ticket_me_too, "Noted: you are affected too, and you now follow it.")


@login_required
@require_POST
def rate(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    form = RatingForm(request.POST, auto_id="rating_%s")
    if not form.is_valid():
        return _render_detail_with_errors(request, ticket, rating_form=form)
    try:
        services.rating_create(actor=request.user, ticket=ticket, score=form.cleaned_data["score"],
                               comment=form.cleaned_data["comment"])
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        form.add_service_error(exc)
        return _render_detail_with_errors(request, ticket, rating_form=form)
    messages.success(request, "Thank you for rating the resolution.")
    return _back_to(ticket)


@login_required
@require_POST
def reopen(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    form = ReopenForm(request.POST, auto_id="reopen_%s")
    if not form.is_valid():
        return _render_detail_with_errors(request, ticket, reopen_form=form)
    try:
        services.ticket_reopen(actor=request.user, ticket=ticket, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        form.add_service_error(exc)
        return _render_detail_with_errors(request, ticket, reopen_form=form)
    messages.success(request, f"{ticket.number} is open again.")
    return _back_to(ticket)


@login_required
@require_POST
def update(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Only agents change tickets.")
    form = _update_form(request.user, ticket, agents=selectors.agents_list(), teams=_teams(),
                        services=selectors.services_list(), data=request.POST)
    error = None
    if form.is_valid():
        try:
            ticket = services.ticket_update(actor=request.user, ticket=ticket, **form.changes())
        except ApplicationError as exc:
            if pages.refused(exc):
                raise
            form.add_service_error(exc)
            error = exc.message
    if not form.errors:
        if _is_htmx(request):
            return HttpResponse(f"{ticket.number} updated.", content_type="text/plain")
        messages.success(request, f"{ticket.number} updated.")
        return _back_to(ticket)
    if _is_htmx(request):
        text = error or " ".join(str(m) for errors in form.errors.values() for m in errors)
        return HttpResponse(text, content_type="text/plain", status=400)
    return _render_detail_with_errors(request, ticket, update_form=form)


@login_required
@require_POST
def resolve_problem(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Only agents resolve problems.")
    form = ProblemResolveForm(request.POST, auto_id="problem_%s")
    if not form.is_valid():
        return _render_detail_with_errors(request, ticket, problem_form=form)
    try:
        resolved = services.problem_resolve(
            actor=request.user, problem=ticket, note=form.cleaned_data["note"],
            resolve_incidents=form.cleaned_data["resolve_incidents"],
        )
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        form.add_service_error(exc)
        return _render_detail_with_errors(request, ticket, problem_form=form)
    count = len(resolved)
    messages.success(request, f"Resolved {count} ticket{'s' if count != 1 else ''}, the problem included.")
    return _back_to(ticket)


# --- problems, merging and canned responses on the ticket page ----------------------------------


def _agent_ticket_or_404(request, pk: int) -> Ticket:
    ticket = _ticket_or_404(request, pk)
    if not selectors.is_staff(request.user):
        # Nothing here is offered to end users; the page they may see stays theirs, the tool does not exist.
        raise Http404("Not found.")
    return ticket


def _other_ticket(request, number: int) -> Ticket | None:
    try:
        return selectors.ticket_get(user=request.user, ticket_id=number)
    except ApplicationError:
        return None


def _tool_refused(request, ticket: Ticket, message: str, status: int = 400, **forms):
    if _is_htmx(request):
        return HttpResponse(message, content_type="text/plain", status=status)
    return render(request, "tickets/detail.html", _detail_context(request, ticket, tool_error=message, **forms), status=status)


def _tool_call(request, ticket: Ticket, call, form_name: str, form=None):
    """Run a service for a ticket-page tool: its refusal becomes the page again with the reason (400)."""
    try:
        return call(), None
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        message = " ".join([exc.message, *[m for ms in (exc.errors or {}).values() for m in ms]])
        if form is not None:
            form.add_service_error(exc)
            return None, _tool_refused(request, ticket, message, exc.status, **{form_name: form})
        return None, _tool_refused(request, ticket, message, exc.status)


def _ticket_named(request, ticket, *, auto_id: str, form_name: str, missing: str):
    """The other ticket a link or merge form names, with the form, or the refusal page saying what is wrong."""
    form = LinkForm(request.POST, auto_id=auto_id)
    if not form.is_valid():
        return None, form, _tool_refused(request, ticket, missing, **{form_name: form})
    other = _other_ticket(request, form.cleaned_data["ticket"])
    if other is None:
        form.add_error("ticket", "No ticket has that number.")
        return None, form, _tool_refused(request, ticket, "No ticket has that number.", **{form_name: form})
    return other, form, None


@login_required
@require_POST
def problem_link(request, pk: int):
    """On an incident: link it to the problem given. On a problem: link the incident given."""
    ticket = _agent_ticket_or_404(request, pk)
    other, form, refused = _ticket_named(request, ticket, auto_id="link_%s", form_name="link_form",
                                   missing="Give a ticket number.")
    if refused:
        return refused
    problem, incident = (ticket, other) if ticket.kind == Kind.PROBLEM else (other, ticket)
    linked, refused = _tool_call(
        request, ticket, lambda: services.problem_link(actor=request.user, problem=problem, incident=incident),
        "link_form", form,
    )
    if refused:
        return refused
    messages.success(request, f"{incident.number} is linked to {problem.number}.")
    return _back_to(ticket, "#links")


@login_required
@require_POST
def problem_unlink(request, pk: int):
    ticket = _agent_ticket_or_404(request, pk)
    raw = request.POST.get("incident", "")
    incident = _other_ticket(request, raw) if raw.isdecimal() else None
    if incident is None:
        return _tool_refused(request, ticket, "Choose a linked incident.")
    problem = ticket if ticket.kind == Kind.PROBLEM else None
    if problem is None:
        problem = _other_ticket(request, ticket.problem_id) if ticket.problem_id else None
    if problem is None:
        return _tool_refused(request, ticket, f"{ticket.number} is not linked to a problem.")
    _, refused = _tool_call(
        request, ticket, lambda: services.problem_unlink(actor=request.user, problem=problem, incident=incident), "",
    )
    if refused:
        return refused
    messages.success(request, f"{incident.number} is no longer linked to {problem.number}.")
    return _back_to(ticket, "#links")


@login_required
@require_POST
def problem_create(request, pk: int):
    ticket = _agent_ticket_or_404(request, pk)
    form = ProblemCreateForm(request.POST, auto_id="newproblem_%s")
    if not form.is_valid():
        return _tool_refused(request, ticket, "The problem was not created.")
    problem, refused = _tool_call(
        request, ticket, lambda: services.problem_create_from(
            actor=request.user, incident=ticket, title=form.cleaned_data["title"]), "",
    )
    if refused:
        return refused
    messages.success(request, f"{problem.number} is open, with {ticket.number} linked to it.")
    return redirect(problem.get_absolute_url())


@login_required
@require_POST
def merge(request, pk: int):
    """Merge this ticket (the duplicate) into the ticket given."""
    ticket = _agent_ticket_or_404(request, pk)
    target, form, refused = _ticket_named(request, ticket, auto_id="merge_%s", form_name="merge_form",
                                    missing="Give the number of the ticket to merge into.")
    if refused:
        return refused
    _, refused = _tool_call(
        request, ticket, lambda: services.ticket_merge(actor=request.user, duplicate=ticket, target=target),
        "merge_form", form,
    )
    if refused:
        return refused
    messages.success(request, f"{ticket.number} was merged into {target.number}.")
    return redirect(target.get_absolute_url())


@login_required
@require_GET
def find(request, pk: int):
    """Tickets to link to a problem or to merge into, by number or words (htmx partial)."""
    ticket = _agent_ticket_or_404(request, pk)
    purpose = "merge" if request.GET.get("purpose") == "merge" else "link"
    if purpose == "link":
        kind = Kind.INCIDENT if ticket.kind == Kind.PROBLEM else Kind.PROBLEM
    else:
        kind = None
    text = (request.GET.get("q") or "").strip()
    number = TICKET_NUMBER_IN_TEXT.search(text.upper())
    found = selectors.ticket_find(
        user=request.user, text=str(int(number.group(1))) if number else text, exclude=ticket.pk, kind=kind,
    )
    if purpose == "merge":
        found = [t for t in found if t.kind != Kind.PROBLEM]
    return render(request, "tickets/_find_results.html", {"ticket": ticket, "found": found, "purpose": purpose, "q": text})


@login_required
@require_GET
def about_requester(request, pk: int):
    """The on-demand part of "About the requester": recent posts, knowledge used, past ratings."""
    ticket = _agent_ticket_or_404(request, pk)
    more = selectors.social_more(viewer=request.user, person=ticket.requester)
    return render(request, "tickets/_social_more.html", {"ticket": ticket, "more": more})


@login_required
@require_GET
def canned_text(request, pk: int, response_id: int):
    """The canned response with this ticket's placeholders filled in, for the reply box."""
    from django.http import JsonResponse

    ticket = _agent_ticket_or_404(request, pk)
    try:
        response = selectors.canned_response_get(user=request.user, response_id=response_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    return JsonResponse({
        "id": response.pk, "title": response.title,
        "text": selectors.canned_text(response=response, ticket=ticket, agent=request.user),
        "set_status": response.set_status, "set_priority": response.set_priority,
    })


@login_required
def canned_responses(request):
    """The agent's canned responses: their own and their team's; write a new one."""
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Canned responses are for agents.")
    form = CannedResponseForm(request.POST or None, auto_id="canned_%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.canned_response_create(
                    actor=request.user, title=data["title"], body=data["body"],
                    team=request.user.team if data["shared"] else None,
                    set_status=data["set_status"], set_priority=data["set_priority"],
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Saved \u201c{created.title}\u201d.")
                return redirect(reverse("tickets:canned"))
        status = 400
    if request.user.team_id is None:
        form.fields["shared"].disabled = True
        form.fields["shared"].help_text = "You are in no team."
    return render(request, "tickets/canned.html", {
        "form": form, "responses": selectors.canned_responses_for(user=request.user),
    }, status=status)


@login_required
@require_POST
def canned_delete(request, response_id: int):
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Canned responses are for agents.")
    try:
        response = selectors.canned_response_get(user=request.user, response_id=response_id)
        services.canned_response_delete(actor=request.user, response=response)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, "The canned response was deleted.")
    return redirect(reverse("tickets:canned"))


# --- the agent queue ---------------------------------------------------------------------------


def _queue_state(request) -> dict:
    """The rows, the views with their counts and the query string: what the page and its live
    table share. The view the filters match is marked current."""
    filters, errors = selectors.queue_filters(request.GET, user=request.user)
    queryset = selectors.queue_list(user=request.user, filters=filters)
    page = _page(request, queryset, QUEUE_PAGE_SIZE, path=reverse("tickets:queue"))
    query = QueryDict(mutable=True)
    for key in request.GET:
        values = [value for value in request.GET.getlist(key) if value]
        if values and key != "page":
            query.setlist(key, values)
    current_key = selectors.queue_view_key(request.GET)
    queue_url = reverse("tickets:queue")
    views = selectors.queue_counts(user=request.user, views=selectors.queue_views(user=request.user))
    for view in views:
        view.url = f"{queue_url}?{urlencode(view.params)}" if view.params else queue_url
        view.current = selectors.queue_view_key(view.params) == current_key
    return {
        "filters": filters, "filter_errors": errors, "page": page, "query_string": query.urlencode(),
        "queue_views": [v for v in views if v.saved is None], "saved_views": [v for v in views if v.saved is not None],
    }


@login_required
def queue(request):
    if not selectors.is_staff(request.user):
        return _forbidden(request, "The queue is for agents. You can follow your own tickets from \u201cMy tickets\u201d.")
    state = _queue_state(request)
    context = {
        **state,
        "current": {key: request.GET.get(key, "") for key in QUEUE_FILTER_KEYS},
        "agent_choices": selectors.agent_choices(),
        "teams": _teams(),
        "services": selectors.services_list(),
        "status_choices": Status.choices,
        "priority_choices": Priority.choices,
        "sorts": QUEUE_SORTS,
    }
    return render(request, "tickets/queue.html", context, status=400 if state["filter_errors"] else 200)


@login_required
@require_GET
def queue_table(request):
    """The rows and the views' counts for the current filters: fetched when a filter changes (htmx,
    which then shows the queue's own address) and after a live change."""
    if not selectors.is_staff(request.user):
        return _forbidden(request, "The queue is for agents.")
    state = _queue_state(request)
    response = render(request, "tickets/_queue_table.html", {**state, "oob": True})
    if _is_htmx(request) and request.headers.get("HX-Trigger") == "queue-filters":
        query = state["query_string"]
        response["HX-Push-Url"] = f"{reverse('tickets:queue')}?{query}" if query else reverse("tickets:queue")
    return response


def _queue_url(request) -> str:
    query = request.POST.get("query", "")
    return f"{reverse('tickets:queue')}?{query}" if query else reverse("tickets:queue")


@login_required
@require_POST
def bulk(request):
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Only agents change tickets.")
    form = BulkUpdateForm(request.POST, agents=selectors.agents_list())
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(_queue_url(request))
    tickets = list(
        selectors.ticket_list(user=request.user, filters=selectors.TicketFilters())
        .filter(pk__in=form.ticket_ids()).order_by("pk")
    )
    changes = form.changes(request.user)
    updated, failed = [], []
    for ticket in tickets:
        # One ticket at a time: a change one ticket refuses must not undo the others.
        try:
            services.ticket_update(actor=request.user, ticket=ticket, **changes)
        except ApplicationError as exc:
            failed.append(f"{ticket.number}: {exc.message}")
        else:
            updated.append(ticket.number)
    if updated:
        messages.success(request, f"Updated {len(updated)} ticket{'s' if len(updated) != 1 else ''}: {', '.join(updated)}.")
    if failed:
        messages.error(request, f"{len(failed)} ticket{'s were' if len(failed) != 1 else ' was'} not changed. " + " ".join(failed))
    return redirect(_queue_url(request))


@login_required
@require_POST
def saved_view_save(request):
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Only agents save queue views.")
    form = SavedViewForm(request.POST)
    query = QueryDict(request.POST.get("query", ""))
    stored = {key: query.get(key) for key in SAVED_VIEW_KEYS if query.get(key)}
    if form.is_valid():
        try:
            view = services.saved_view_save(actor=request.user, name=form.cleaned_data["name"], query=stored)
        except ApplicationError as exc:
            messages.error(request, " ".join([exc.message, *[m for ms in exc.errors.values() for m in ms]]))
        else:
            messages.success(request, f"Saved the view \u201c{view.name}\u201d.")
    else:
        messages.error(request, " ".join(str(m) for ms in form.errors.values() for m in ms))
    return redirect(_queue_url(request))


@login_required
@require_POST
def saved_view_delete(request, view_id: int):
    if not selectors.is_staff(request.user):
        return _forbidden(request, "Only agents save queue views.")
    services.saved_view_delete(actor=request.user, view_id=view_id)
    messages.success(request, "The saved view was deleted.")
    return redirect(reverse("tickets:queue"))
