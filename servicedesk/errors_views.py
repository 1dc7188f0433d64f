"""Error pages: JSON in API.md's shape under /api/, HTML elsewhere."""
import sys

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from servicedesk.overload import is_overload, overload_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"message": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    # Called while the exception is being handled: one raised outside a view (a middleware that
    # could not get a database connection) is overload, not a bug.
    if is_overload(sys.exc_info()[1]):
        return overload_response(request)
    if _is_api(request):
        return JsonResponse({"message": "Something went wrong on our side. It has been logged."}, status=500)
    return HttpResponseServerError(loader.get_template("500.html").render())
