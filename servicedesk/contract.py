"""The OpenAPI schema, enforced: input it does not allow answers 400 with the API.md error body.

DRF's fields coerce generously (`"5"` passes as an integer, `1` as a boolean, a number as text), so
without this a client could rely on input the schema forbids. Two hooks check each API request
against the operation the schema describes for it:

- `ContractJSONParser` (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]) checks a JSON body when the view
  reads it, that is after authentication, permissions and the object lookup, so 401/403/404 keep
  their precedence over 400;
- `ContractQueryMiddleware` checks the declared query parameters (type, enum, bounds, pattern).
  Undeclared parameters are left alone, as OpenAPI allows.

The schema is generated once per process, on the first API request that needs it.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from django.http import JsonResponse
from jsonschema import Draft202012Validator
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

API_PREFIX = "/api/v1/"
# drf-spectacular's generator is not thread-safe on its first run: every generation takes this lock.
generation_lock = threading.Lock()
_operations: dict | None = None
_converter = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass
class Operation:
    body: Draft202012Validator | None = None
    query: dict[str, tuple[dict, Draft202012Validator]] = field(default_factory=dict)


def _to_json_schema(node):
    """OpenAPI 3.0 schema objects to JSON Schema 2020-12: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        if "type" in out and not any(k in out for k in ("allOf", "oneOf", "anyOf", "$ref")):
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    for key in ("readOnly", "writeOnly", "example", "discriminator"):
        out.pop(key, None)
    return out


def _validator(schema: dict, components: dict) -> Draft202012Validator:
    return Draft202012Validator({**_to_json_schema(schema), "components": components})


def _load() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    components = {"schemas": _to_json_schema(document.get("components", {}).get("schemas", {}))}
    operations = {}
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operation = Operation()
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                operation.body = _validator(body, components)
            for parameter in spec.get("parameters", []):
                if parameter.get("in") == "query":
                    schema = parameter.get("schema", {})
                    operation.query[parameter["name"]] = (schema, _validator(schema, components))
            operations[(path, method.upper())] = operation
    return operations


def operations() -> dict:
    global _operations
    if _operations is None:
        with generation_lock:
            if _operations is None:
                _operations = _load()
    return _operations


def operation_for(django_request) -> Operation | None:
    match = getattr(django_request, "resolver_match", None)
    if match is None or not django_request.path.startswith(API_PREFIX):
        return None
    path = "/" + _converter.sub(r"{\1}", match.route)
    return operations().get((path, django_request.method))


def _field_name(error) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        if missing:
            return f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path or "non_field_errors"


def _message(error) -> str:
    if error.validator == "required":
        return "This field is required."
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"Must be of type {expected}."
    if error.validator == "enum":
        return f"Must be one of: {', '.join(str(v) for v in error.validator_value)}."
    if error.validator == "maxLength":
        return f"Ensure this field has no more than {error.validator_value} characters."
    if error.validator == "minLength":
        return "This field may not be blank." if error.validator_value == 1 else \
            f"Ensure this field has at least {error.validator_value} characters."
    if error.validator == "pattern":
        return "Contains a character that is not allowed, or holds only white space."
    if error.validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        word = "at least" if "in" in error.validator.lower() else "at most"
        return f"Ensure this value is {word} {error.validator_value}."
    if error.validator in {"maxItems", "minItems"}:
        word = "at most" if error.validator == "maxItems" else "at least"
        return f"Give {word} {error.validator_value} items."
    return "Invalid value."


def errors_for(validator: Draft202012Validator, value, prefix: str = "") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(value):
        name = _field_name(error)
        if prefix:
            name = prefix if name == "non_field_errors" else f"{prefix}.{name}"
        messages = errors.setdefault(name, [])
        message = _message(error)
        if message not in messages:
            messages.append(message)
    return errors


class ContractJSONParser(JSONParser):
    """JSON bodies, checked against the operation's request schema."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        django_request = getattr(request, "_request", None)
        operation = operation_for(django_request) if django_request is not None else None
        if operation is not None and operation.body is not None:
            errors = errors_for(operation.body, data)
            if errors:
                raise exceptions.ValidationError(errors)
        return data


_INTEGER = re.compile(r"^-?[0-9]+$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def _coerce(raw: str, schema: dict):
    """A query string value as the JSON value its schema describes; the raw text if it is none."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and _INTEGER.match(raw):
        return int(raw)
    if "number" in kinds and _NUMBER.match(raw):
        return float(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


class ContractQueryMiddleware:
    """Declared query parameters must hold what the schema says they hold, or the answer is 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith(API_PREFIX) or not request.GET:
            return None
        operation = operation_for(request)
        if operation is None or not operation.query:
            return None
        errors: dict[str, list[str]] = {}
        for name, values in request.GET.lists():
            if name not in operation.query:
                continue
            schema, validator = operation.query[name]
            if schema.get("type") == "array":
                value = [_coerce(v, schema.get("items", {})) for v in values]
                errors.update(errors_for(validator, value, prefix=name))
                continue
            if len(values) > 1:
                errors[name] = ["Give this parameter once."]
                continue
            errors.update(errors_for(validator, _coerce(values[0], schema), prefix=name))
        if errors:
            return JsonResponse({"message": "Invalid query parameter.", "errors": errors}, status=400)
        return None
