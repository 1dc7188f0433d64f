"""API plumbing shared by every app: error body, pagination, the v1 URL list."""
from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from servicedesk.errors import ApplicationError


def _as_error_lists(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for sub, subval in _as_error_lists(value).items():
                    out[f"{field}.{sub}"] = subval
            elif isinstance(value, list):
                flat = []
                for item in value:
                    if isinstance(item, dict):
                        for sub, subval in _as_error_lists(item).items():
                            out[f"{field}.{sub}"] = subval
                    else:
                        flat.append(str(item))
                if flat:
                    out[field] = flat
            else:
                out[field] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict:
    body: dict = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    """Render every error as `{"message": ..., "errors": {field: [...]}}` (API.md)."""
    if isinstance(exc, ApplicationError):
        body = error_body(exc.message, exc.errors)
        code = getattr(exc, "code", None)
        if code:
            body["code"] = code
        response = Response(body, status=exc.status)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            body["retry_after"] = retry_after
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("Invalid input.", errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return Response(error_body("Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("Invalid input.", _as_error_lists(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        response.data = error_body(message)
    return response


class Pagination(CursorPagination):
    """`{"results": [...], "next": url|null}`, newest first, constant cost at any depth."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ApplicationError("Invalid page size.", errors={"page_size": ["Give a whole number."]}) from None
        return min(self.max_page_size, max(1, size))

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_schema_operation_parameters(self, view):
        from servicedesk.schema import NO_NUL

        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "The `next` link's cursor; one that names no page answers 404.",
             "schema": {"type": "string", "pattern": NO_NUL}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": "Items per page; values are clamped to 1..100 (default 25).",
             "schema": {"type": "integer"}},
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {"results": schema, "next": {"type": "string", "nullable": True, "format": "uri"}},
        }
