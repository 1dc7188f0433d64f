import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from servicedesk import hooks, pages
from servicedesk.errors import ApplicationError, NotVisible

from . import guard, selectors, services
from .forms import ProfileForm


def _minutes(seconds: int | None) -> int:
    if seconds is None:
        seconds = int(settings.SIGNIN_COOLOFF.total_seconds())
    return max(1, math.ceil(seconds / 60))


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request, next_url))
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST":
        username = request.POST.get("username", "")
        with transaction.atomic():
            guard.attempt_serialize(request=request, username=username)
            verdict = guard.signin_verdict(request=request, username=username)
            if not verdict.allowed:
                return lockout_response(request, retry_after=verdict.retry_after)
            valid = form.is_valid()
            services.login_attempt_record(request=request, username=username, success=valid, device=verdict.device)
            if valid:
                user = form.get_user()
                login(request, user)
                response = redirect(_safe_next(request, next_url))
                guard.device_remember(request, response, user)
                return response
            after = guard.signin_verdict(request=request, username=username)
        if not after.allowed:
            return lockout_response(request, retry_after=after.retry_after)
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=400 if form.errors else 200)


def lockout_response(request, original_response=None, credentials=None, retry_after: int | None = None):
    """What a held-back sign-in sees: the API error body or the sign-in page, both 429."""
    minutes = _minutes(retry_after)
    if request.path.startswith("/api/"):
        response = JsonResponse({"message": f"Too many failed sign-in attempts. Try again in {minutes} minutes."}, status=429)
    else:
        form = AuthenticationForm(request)
        context = {"form": form, "next": request.POST.get("next", ""), "lockout": True, "cooloff_minutes": minutes}
        response = render(request, "accounts/login.html", context, status=429)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def signin_history(request):
    logins = selectors.login_history_described(request.user)
    reports = list(request.user.security_reports.order_by("-id")[:20])
    return render(request, "accounts/signins.html", {"logins": logins, "reports": reports})


@login_required
@require_POST
def signin_report(request, login_id: int):
    try:
        services.signin_report(actor=request.user, login_id=login_id, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        if pages.refused(exc):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, "Thank you. The security team has been told and will look into it.")
    return redirect("accounts:signins")


@login_required
def profile_edit(request):
    """A person's own profile: name, photo, title, location, expertise and time zone."""
    user = request.user
    form = ProfileForm(
        request.POST or None, request.FILES or None, has_avatar=bool(user.avatar),
        initial={"display_name": user.display_name, "title": user.title, "location": user.location,
                 "expertise_tags": ", ".join(user.expertise_tags), "time_zone": user.time_zone},
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.profile_update(
                    actor=user, user=user,
                    fields={name: data[name] for name in ("display_name", "title", "location", "expertise_tags", "time_zone")},
                    avatar=data.get("avatar"), avatar_remove=data.get("avatar_remove", False),
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:profile")
        return render(request, "accounts/profile_edit.html", {"form": form}, status=form.error_status)
    return render(request, "accounts/profile_edit.html", {"form": form})


@login_required
def avatar_file(request, name: str):
    """Profile photos are for signed-in people only; names are random, so they are cached long."""
    path = f"avatars/{name}"
    if "/" in name or not default_storage.exists(path):
        raise Http404
    response = FileResponse(default_storage.open(path), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def home(request):
    # What a home shows is owned by the apps above (tickets, communities, points, policies):
    # each adds its sections for the person's role through the home_sections hook.
    sections: list[dict] = []
    hooks.home_sections(user=request.user, sections=sections)
    sections.sort(key=lambda section: section["order"])
    return render(request, "home.html", {
        "main_sections": [s for s in sections if s.get("column", "main") == "main"],
        "side_sections": [s for s in sections if s.get("column") == "side"],
    })


@login_required
def styleguide(request):
    return render(request, "styleguide.html")
