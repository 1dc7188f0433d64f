"""Pages: the leaderboard (live), campaigns with progress charts, the manager dashboard with
CSV export, the rules managers tune, and the desk-visit and bounty controls on ticket pages."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Team
from communities.models import Community, Membership
from servicedesk import pages
from servicedesk.errors import ApplicationError
from tickets import selectors as ticket_selectors
from tickets.models import Service

from . import charts, dashboard, drilldown, selectors, services
from .models import MaturityPlan, Rule

PERIOD_LABELS = [("week", "This week"), ("month", "This month"), ("all", "All time")]


_forbidden = pages.forbidden_page("gamification", url_name="home", label="Back home")


# --- leaderboard -------------------------------------------------------------------------------



def _place_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Field errors next to their fields; the message on top only when no field is named."""
    for field, errors in exc.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.errors:
        form.add_error(None, exc.message)

def _board_context(request) -> dict:
    period = request.GET.get("period", "week")
    scope = request.GET.get("scope", "global")
    try:
        board = selectors.board(viewer=request.user, period=period, scope=scope)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        board = selectors.board(viewer=request.user, period="week", scope="global")
    scopes = [("global", "Everyone")]
    if request.user.team_id:
        scopes.append((f"team:{request.user.team_id}", request.user.team.name))
    for slug, name in Membership.objects.filter(user=request.user).values_list("community__slug", "community__name")[:10]:
        scopes.append((f"community:{slug}", name))
    if board.scope not in [s for s, _ in scopes]:
        scopes.append((board.scope, board.title))
    return {
        "board": board,
        "periods": [(p, label, "?" + urlencode({"period": p, "scope": board.scope})) for p, label in PERIOD_LABELS],
        "scopes": [(s, label, "?" + urlencode({"period": board.period, "scope": s})) for s, label in scopes],
        "fragment_url": reverse("gamification:leaderboard_board") + "?" + urlencode({"period": board.period, "scope": board.scope}),
    }


@login_required
@require_GET
def leaderboard_page(request):
    return render(request, "gamification/leaderboard.html", _board_context(request))


@login_required
@require_GET
def leaderboard_board(request):
    return render(request, "gamification/_board.html", _board_context(request))


# --- campaigns ---------------------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    rule = forms.ModelChoiceField(queryset=Rule.objects.exclude(slug__in=["bounty", "quest_completed"]).order_by("name"),
                                  to_field_name="slug", label="Rule it boosts or counts")
    multiplier = forms.DecimalField(min_value=0.1, max_value=10, decimal_places=2, initial=2, label="Points multiplier",
                                    help_text="2 doubles the points of the rule while the campaign runs.")
    starts_at = forms.DateTimeField(label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    ends_at = forms.DateTimeField(label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    tag = forms.CharField(max_length=50, required=False, label="Only for the tag", help_text="For example outlook.")
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True), required=False, label="Only for the service")
    community = forms.ModelChoiceField(queryset=Community.objects.all(), to_field_name="slug", required=False,
                                       label="Only in the community")
    goal = forms.IntegerField(min_value=0, max_value=100000, initial=0, required=False, label="Quest goal",
                              help_text="How many times to do it to complete the quest (0: no quest).")
    bonus_points = forms.IntegerField(min_value=0, max_value=10000, initial=0, required=False, label="Quest bonus points")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Description")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "campaign_%s")
        super().__init__(*args, **kwargs)
        self.fields["rule"].label_from_instance = lambda rule: rule.name


@login_required
def campaign_list(request):
    form = None
    status = 200
    if request.user.is_manager:
        form = CampaignForm(request.POST or None)
        if request.method == "POST":
            if form.is_valid():
                data = dict(form.cleaned_data)
                data["goal"] = data.get("goal") or 0
                data["bonus_points"] = data.get("bonus_points") or 0
                try:
                    campaign = services.campaign_create(actor=request.user, **data)
                except ApplicationError as exc:
                    _place_errors(form, exc)
                else:
                    messages.success(request, f"The campaign \u201c{campaign.name}\u201d is set up.")
                    return redirect(campaign.get_absolute_url())
            status = 400
    elif request.method == "POST":
        return _forbidden(request, "Only managers and admins run campaigns.", reverse("gamification:campaigns"), "Back to campaigns")
    campaigns = list(selectors.campaigns_visible(request.user)[:50])
    return render(request, "gamification/campaigns.html", {"campaigns": campaigns, "form": form}, status=status)


@login_required
@require_GET
def campaign_detail(request, pk: int):
    try:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    progress = selectors.campaign_progress(campaign, viewer=request.user)
    people = progress["participants"]
    chart = charts.hbar_chart(
        chart_id="campaign-progress-chart",
        title=f"Progress in {campaign.name}" + (f" towards {campaign.goal}" if campaign.goal else ""),
        labels=[p["user"].display_name or p["user"].username for p in people],
        values=[p["count"] for p in people], scale=progress["scale"], goal=campaign.goal or None,
    ) if people else None
    return render(request, "gamification/campaign.html", {"campaign": campaign, "progress": progress, "chart": chart})


# --- manager pages -----------------------------------------------------------------------------


def _dashboard_selection(request):
    """The date range and team of the request, or (the default selection, the errors)."""
    try:
        return dashboard.selection_parse(request.GET), None
    except ApplicationError as exc:
        return dashboard.selection_parse({}), exc


def _filter_links(selection) -> dict:
    query = urlencode(selection.query())
    return {"query": query, "csv_url": reverse("gamification:dashboard_csv") + "?" + query}


@login_required
@require_GET
def manager_dashboard(request):
    if not request.user.is_manager:
        return _forbidden(request, "The dashboard is for managers and admins.")
    selection, error = _dashboard_selection(request)
    figures = dashboard.figures(selection)
    labels = figures.bucket_labels()
    adoption = [
        {"name": name, "label": label, "total": sum(figures.series[name]) if name != "active_people" else figures.active_people,
         "chart": charts.bar_chart(chart_id=f"chart-{name}", title=f"{label} per {figures.bucket_unit}", labels=labels,
                                   values=figures.series[name], width=320, height=140)}
        for name, label in dashboard.SERIES
    ]
    history = charts.bar_chart(
        chart_id="chart-maturity-history", title="Social IT maturity level per week",
        labels=[s.week.strftime("%d %b") for s in figures.history], values=[s.level for s in figures.history],
        top=4, width=480, height=140) if figures.history else None
    board = selectors.board(viewer=request.user, period="week", scope="global", limit=5)
    teams = list(Team.objects.order_by("name").values_list("pk", "name")[:200])
    return render(request, "gamification/dashboard.html", {
        "f": figures, "s": selection, "adoption": adoption, "board": board, "teams": teams, "history": history,
        "service_rows": dashboard.rows(figures, dashboard.SERVICE_ROWS),
        "value_rows": dashboard.rows(figures, dashboard.VALUE_ROWS),
        "backlog": [(p, figures.backlog.get(p, 0)) for p in (1, 2, 3, 4)],
        "error": error, "raw": {k: request.GET.get(k, "") for k in ("from", "to", "team")},
        "currency": settings.DASHBOARD_CURRENCY, **_filter_links(selection),
    }, status=400 if error else 200)


@login_required
@require_GET
def manager_dashboard_csv(request):
    if not request.user.is_manager:
        return _forbidden(request, "The dashboard is for managers and admins.")
    selection, error = _dashboard_selection(request)
    if error:
        return JsonResponse({"message": error.message, "errors": error.errors}, status=400)
    response = HttpResponse(dashboard.as_csv(dashboard.figures(selection)), content_type="text/csv; charset=utf-8")
    name = f"service-desk-dashboard-{selection.first.isoformat()}-{selection.last.isoformat()}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
@require_GET
def manager_dashboard_drill(request, key: str):
    if not request.user.is_manager:
        return _forbidden(request, "The dashboard is for managers and admins.")
    selection, error = _dashboard_selection(request)
    raw_page = request.GET.get("page", "1")
    page = int(raw_page) if raw_page.isdecimal() and len(raw_page) < 6 else 1
    as_csv = request.GET.get("format") == "csv"
    if as_csv and error:
        return JsonResponse({"message": error.message, "errors": error.errors}, status=400)
    result = (drilldown.drill(key=key, selection=selection, page_size=drilldown.CSV_LIMIT) if as_csv
              else drilldown.drill(key=key, selection=selection, page=page))
    if result is None:
        raise Http404("No such figure.")
    if as_csv:
        response = HttpResponse(drilldown.as_csv(result, selection), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}-{selection.first.isoformat()}-{selection.last.isoformat()}.csv"'
        return response
    links = _filter_links(selection)
    links["csv_url"] = "?" + urlencode({**selection.query(), "format": "csv"})
    return render(request, "gamification/dashboard_drill.html", {
        "d": result, "s": selection, "error": error, **links,
        "back_url": reverse("gamification:dashboard") + "?" + links["query"],
        "next_url": "?" + urlencode({**selection.query(), "page": result.page + 1}) if result.has_next else "",
        "prev_url": "?" + urlencode({**selection.query(), "page": result.page - 1}) if result.page > 1 else "",
    }, status=400 if error else 200)


class MaturityPlanForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=10000, label="The plan",
                              help_text="Milestones, the benefits you expect and how you will measure them (markdown).")
    satisfaction_target = forms.DecimalField(min_value=1, max_value=5, decimal_places=2, initial=4, label="Average satisfaction (1–5)")
    response_sla_target = forms.IntegerField(min_value=0, max_value=100, initial=90, label="Response SLA met (%)")
    active_share_target = forms.IntegerField(min_value=0, max_value=100, initial=25, label="People taking a social action (%)")
    social_ticket_target = forms.IntegerField(min_value=0, max_value=100, initial=20,
                                              label="Resolved tickets with social context (%)")
    collaboration_target = forms.IntegerField(min_value=0, max_value=100, initial=10,
                                              label="Resolved tickets several agents worked on (%)")
    community_answer_target = forms.IntegerField(min_value=0, max_value=100, initial=50,
                                                 label="Questions first answered by non-staff (%)")
    first_answer_hours_target = forms.IntegerField(min_value=0, max_value=10000, initial=24,
                                                   label="Mean hours to a question's first answer (at most)")
    ideas_done_target = forms.IntegerField(min_value=0, max_value=100000, initial=1, label="Ideas reaching done in the period")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "plan_%s")
        super().__init__(*args, **kwargs)


@login_required
def maturity_plan(request):
    if not request.user.is_manager:
        return _forbidden(request, "Only managers and admins write the social IT plan.")
    current = MaturityPlan.objects.select_related("created_by").first()
    initial = {name: getattr(current, name) for name in MaturityPlanForm.base_fields} if current else None
    form = MaturityPlanForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.maturity_plan_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                _place_errors(form, exc)
            else:
                messages.success(request, "The social IT plan is saved; the dashboard measures against its targets.")
                return redirect(reverse("gamification:dashboard") + "#maturity")
        status = 400
    return render(request, "gamification/maturity_plan.html", {"form": form, "current": current}, status=status)


class RuleForm(forms.Form):
    points = forms.IntegerField(min_value=-1000, max_value=1000, label="Points")
    daily_cap = forms.IntegerField(min_value=0, max_value=100000, label="Daily cap")
    active = forms.BooleanField(required=False, label="Active")


@login_required
def rules_page(request):
    if not request.user.is_manager:
        return _forbidden(request, "Only managers and admins tune the rules.")
    services.rules_ensure_defaults()
    status = 200
    error_for = None
    if request.method == "POST":
        rule = Rule.objects.filter(slug=request.POST.get("rule", "")).first()
        if rule is None:
            raise Http404("No such rule.")
        form = RuleForm(request.POST, prefix=rule.slug)
        if form.is_valid():
            services.rule_update(actor=request.user, rule=rule, **form.cleaned_data)
            messages.success(request, f"\u201c{rule.name}\u201d saved.")
            return redirect("gamification:rules")
        status, error_for = 400, (rule.slug, form)
    rows = []
    for rule in selectors.rules_all():
        form = error_for[1] if error_for and error_for[0] == rule.slug else RuleForm(
            prefix=rule.slug, initial={"points": rule.points, "daily_cap": rule.daily_cap, "active": rule.active})
        rows.append((rule, form))
    return render(request, "gamification/rules.html", {"rows": rows}, status=status)


# --- ticket page control -----------------------------------------------------------------------


@login_required
@require_POST
def desk_visit(request, pk: int):
    try:
        ticket = ticket_selectors.ticket_get(user=request.user, ticket_id=pk)
        services.desk_visit_log(actor=request.user, ticket=ticket, note=request.POST.get("note", "")[:500])
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        if exc.status == 403:
            return _forbidden(request, exc.message, f"/tickets/{pk}/", "Back to the ticket")
        messages.error(request, exc.message)
    else:
        messages.success(request, "Desk visit logged.")
    return redirect(f"/tickets/{pk}/")


class BountyForm(forms.Form):
    points = forms.IntegerField(min_value=1, max_value=10000, label="Bounty points",
                                help_text="Paid once to whoever resolves the problem.")
    note = forms.CharField(max_length=300, required=False, label="Note for the agents",
                           help_text="What would count as fixed, for example.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "bounty_%s")
        super().__init__(*args, **kwargs)


@login_required
def bounty(request, pk: int):
    """Set or change the bounty on a problem. Used from the card on the problem's page; a form
    that does not validate comes back here with its errors next to the fields."""
    try:
        ticket = ticket_selectors.ticket_get(user=request.user, ticket_id=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    back = f"/tickets/{pk}/"
    if not request.user.is_manager:
        return _forbidden(request, "Only managers and admins set bounties.", back, "Back to the ticket")
    if ticket.kind != "problem":
        raise Http404("Bounties go on problems.")
    form = BountyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.bounty_set(actor=request.user, ticket=ticket, **form.cleaned_data)
            except ApplicationError as exc:
                _place_errors(form, exc)
            else:
                messages.success(request, f"Bounty of {form.cleaned_data['points']} points set on {ticket.number}.")
                return redirect(f"{back}#bounty")
        status = 400
    return render(request, "gamification/bounty.html", {"ticket": ticket, "form": form}, status=status)
