"""Request checks that hold for every app."""
from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulMiddleware:
    """A NUL character in the path or the query string answers 400.

    PostgreSQL cannot store or compare text containing NUL, so such a value can match nothing;
    left alone it would reach a query and fail there as a 500 in whichever view used it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, values in request.GET.lists() for v in values):
            message = "The address contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse({"message": message, "errors": {"non_field_errors": [message]}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
