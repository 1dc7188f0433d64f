"""The OpenAPI schema describes what the API does, errors and envelopes included.

`ContractAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to every operation:

- the error responses it can give, all with the `Error` body of API.md (`{"message", "errors"}`):
  400 for writes and for reads that take query parameters, 401 when sign-in is required, 403 for
  writes (role rules, and CSRF on session writes) and for reads a role rule can refuse, 404 when the
  path, the body or the query names an object, 429 for authenticated writes (content rate limits)
  and for the throttled token endpoint;
- the `{"results": [...], "next": url|null}` envelope for list responses of plain views, which is
  what every list view answers;
- the input rules the views enforce: no NUL character in any text, and text that must not be blank
  must hold something other than white space (the views trim it).

`servicedesk.contract` enforces the same schema at run time, so input the schema does not allow
answers 400 even where a field would otherwise coerce it (`"5"` for an integer, `1` for a boolean).
"""
from __future__ import annotations

import re
from zoneinfo import available_timezones

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated

# What Python's str.strip() removes (DRF trims text with it); spelled out because a regex `\s`
# differs between engines.
WHITESPACE = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{WHITESPACE}][^\\u0000]*$"
# DRF's TimeField input formats (ISO 8601 without a zone).
TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?$"

ERROR_COMPONENT = {
    "type": "object",
    "description": "Every 4xx answer of the API (API.md): a message, and per field what is wrong.",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field and what is wrong with it.",
    "401": "Not signed in: no session and no valid `Authorization: Token ...` header.",
    "403": "Signed in, but this role may not do this (or a session write lacks its CSRF token).",
    "404": "No such object, or one the caller may not see.",
    "429": "Too many requests: a rate limit or throttle; try again later.",
}

# A database id: what an integer parameter naming a row may hold.
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Cursor pagination's query parameters, for plain views that page with `servicedesk.api.Pagination`.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` link's cursor; one that names no page answers 404.",
                     pattern=NO_NUL),
    OpenApiParameter("page_size", int, description="Items per page; values are clamped to 1..100 (default 25)."),
]


def comma_list(values: list[str]) -> dict:
    """A repeatable query parameter whose each value lists some of `values`, comma-separated."""
    choice = "|".join(re.escape(v) for v in values)
    return {"type": "array", "items": {"type": "string", "pattern": f"^,*(({choice})(,+|$))*$"}}


def page_parameters() -> list[OpenApiParameter]:
    return list(PAGE_PARAMETERS)


# Rules a view checks across fields, which a serializer field cannot say (OpenAPI 3.0 keywords).
COMPONENT_RULES = {
    "NotificationsReadInputRequest": {
        "anyOf": [
            {"required": ["ids"], "properties": {"ids": {"minItems": 1}}},
            {"required": ["all"], "properties": {"all": {"enum": [True]}}},
        ],
    },
}


def add_component_rules(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] entry: merges COMPONENT_RULES into the schema."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, rules in COMPONENT_RULES.items():
        if name in schemas:
            schemas[name].update(rules)
    return result


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 150, "pattern": NOT_BLANK},
                            {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}]})
class KeyField(serializers.CharField):
    """What names a followable thing: an id (a number, or its digits), a username, a slug or a tag."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)


TIME_ZONES = sorted(available_timezones())


@extend_schema_field({"type": "string", "enum": TIME_ZONES})
class TimeZoneField(serializers.CharField):
    """An IANA time zone name; the services check it with `zoneinfo`, the schema lists the names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


class ContractAutoSchema(AutoSchema):
    # Views can refine the error responses with class attributes:
    # - `forbidden_reads = {"get"}`: a read a role rule can refuse with 403 although the permission
    #   classes let any signed-in person in (the view decides);
    # - `error_codes = {"401"}`: further codes the view answers by its own means;
    # - `partial_patch = True`: the PATCH body is validated partially (see below).

    # --- responses -------------------------------------------------------------------------------

    def _get_paginator(self):
        # (also decides the envelope of list responses, see `_get_response_for_code`)
        paginator = super()._get_paginator()
        if paginator is None and not isinstance(self.view, GenericAPIView):
            # Plain views answer every list in the envelope, paged or not (`next` is then null).
            from servicedesk.api import Pagination

            return Pagination()
        return paginator

    def _get_pagination_parameters(self):
        if not isinstance(self.view, GenericAPIView):
            return []
        return super()._get_pagination_parameters()

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter.get("in") in ("query", "path") and schema.get("type") == "string" and not (
                {"pattern", "enum", "format"} & schema.keys()
            ):
                schema["pattern"] = NO_NUL
        return parameters

    def _requires_auth(self) -> bool:
        classes = self.view.get_permissions()
        return not all(isinstance(p, AllowAny) for p in classes)

    def _role_restricted(self) -> bool:
        if self.method.lower() in getattr(self.view, "forbidden_reads", ()):
            return True
        return any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in self.view.get_permissions())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        self.registry.register_on_missing(self._error_component())
        has_path_params = "{" in self.path
        query_params = [p for p in self._get_parameters() if p.get("in") == "query"]
        auth = self._requires_auth()
        write = self.method in WRITE_METHODS
        codes = []
        if write or query_params or self._get_request_body():
            codes.append("400")
        if auth:
            codes.append("401")
            if write or self._role_restricted():
                codes.append("403")
        if has_path_params or query_params or self._get_request_body():
            # Objects are named by the path, by the body (a service, a community, a person) or by the
            # query (a user, a cursor); one that does not exist or that the caller may not see is 404.
            codes.append("404")
        if (write and auth) or getattr(self.view, "throttle_scope", None):
            codes.append("429")
        # A view with its own way of refusing (a signature, say) names the extra codes it answers.
        codes.extend(sorted(c for c in getattr(self.view, "error_codes", ()) if c not in codes))
        for code in codes:
            responses.setdefault(code, {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                "description": ERROR_DESCRIPTIONS[code],
            })
        return dict(sorted(responses.items()))

    def _error_component(self):
        from drf_spectacular.plumbing import ResolvedComponent

        return ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, schema=ERROR_COMPONENT,
                                 object="servicedesk.api.Error")

    # --- inputs ----------------------------------------------------------------------------------

    def _get_request_for_media_type(self, serializer, direction="request"):
        # drf-spectacular documents every PATCH body as partial; these views validate the whole input
        # serializer (its own optional fields make it partial), unless they say `partial_patch = True`.
        if self.method == "PATCH" and not getattr(self.view, "partial_patch", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.DecimalField):
            # DRF takes a number or its text; both are documented, with the field's digits.
            whole = (field.max_digits or 30) - (field.decimal_places or 0)
            places = field.decimal_places or 0
            text = f"^-?[0-9]{{1,{whole}}}" + (f"(\\.[0-9]{{1,{places}}})?$" if places else "$")
            limit = {k: float(v) for k, v in (("minimum", field.min_value), ("maximum", field.max_value)) if v is not None}
            bound = float(10 ** whole) - 10 ** -places
            number = {"type": "number", "minimum": -bound, "maximum": bound, **limit}
            return {"oneOf": [number, {"type": "string", "pattern": text}],
                    **({"default": schema["default"]} if "default" in schema else {})}
        if isinstance(field, serializers.TimeField):
            schema.pop("format", None)
            schema["pattern"] = TIME_PATTERN
        elif isinstance(field, serializers.CharField) and schema.get("type") == "string":
            if "pattern" not in schema and "enum" not in schema and "format" not in schema:
                blank_ok = field.allow_blank or not field.trim_whitespace
                schema["pattern"] = NO_NUL if blank_ok else NOT_BLANK
        return schema
