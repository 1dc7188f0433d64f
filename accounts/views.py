from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from feeds.selectors import notifications_for
from servicedesk.errors import ApplicationError, NotVisible

from . import selectors, services


def _cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


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
        username = request.POST.get("username", "")[:150]
        valid = form.is_valid()
        services.login_attempt_record(request=request, username=username, success=valid)
        if valid:
            login(request, form.get_user())
            return redirect(_safe_next(request, next_url))
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request)
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=400 if form.errors else 200)


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out account sees: the API error body or the sign-in page, both 429."""
    message = f"Too many failed sign-in attempts. Try again in {_cooloff_minutes()} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message}, status=429)
    form = AuthenticationForm(request)
    context = {"form": form, "next": request.POST.get("next", ""), "lockout": True, "cooloff_minutes": _cooloff_minutes()}
    return render(request, "accounts/login.html", context, status=429)


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def signin_history(request):
    logins = list(selectors.login_history(request.user)[:100])
    reports = list(request.user.security_reports.order_by("-id")[:20])
    return render(request, "accounts/signins.html", {"logins": logins, "reports": reports})


@login_required
@require_POST
def signin_report(request, login_id: int):
    try:
        services.signin_report(actor=request.user, login_id=login_id, note=request.POST.get("note", ""))
    except NotVisible as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Thank you. The security team has been told and will look into it.")
    return redirect("accounts:signins")


@login_required
def home(request):
    recent = list(notifications_for(request.user)[:5])
    return render(request, "home.html", {"recent_notifications": recent})


@login_required
def styleguide(request):
    return render(request, "styleguide.html")
