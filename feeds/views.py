from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services


@login_required
def notification_list(request):
    page = Paginator(selectors.notifications_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "feeds/notifications.html", {"notifications": page.object_list, "page_obj": page})


@login_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(actor=request.user, all_=True)
    if request.headers.get("HX-Request"):
        page = Paginator(selectors.notifications_for(request.user), 30).get_page(1)
        return render(
            request,
            "feeds/_notification_list.html",
            {"notifications": page.object_list, "page_obj": page, "unread_notifications": 0},
        )
    return redirect("feeds:notifications")
