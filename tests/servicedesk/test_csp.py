"""The Content-Security-Policy header, and templates that keep to it (no inline script, no
inline event handler, no javascript: URL, no inline style). The browser test
tests/browser/test_csp_pages.py checks the real pages in Chromium."""
import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_pages_carry_a_policy_without_inline_script(client, alice):
    anonymous = directives(client.get("/accounts/login/"))
    client.force_login(alice)
    for response in (client.get("/"), client.get("/notifications/"), client.get("/no/such/page/")):
        policy = directives(response)
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert policy["img-src"] == ["'self'", "data:"]
        assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
        assert "unsafe" not in response["Content-Security-Policy"]
        assert policy == anonymous


def test_api_and_docs_carry_it_too_and_the_docs_start_from_a_file(client, alice):
    client.force_login(alice)
    assert "script-src 'self'" in client.get("/api/v1/me/")["Content-Security-Policy"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "script-src 'self'" in docs["Content-Security-Policy"]
    page = docs.content.decode()
    assert "<style" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "cdn.jsdelivr.net" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_report_only_mode(client, settings):
    settings.CSP_REPORT_ONLY = True
    settings.CSP_REPORT_URI = "/csp-reports/"
    response = client.get("/accounts/login/")
    assert "Content-Security-Policy" not in response
    assert "report-uri /csp-reports/" in response["Content-Security-Policy-Report-Only"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
HTMX_EVAL = re.compile(r"""hx-on|hx-vars|(hx-vals|hx-headers)\s*=\s*["'](js|javascript):|hx-trigger\s*=\s*["'][^"']*\[""", re.I)


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_templates_keep_to_the_policy(path):
    text = (ROOT / path).read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js"
    assert not EVENT_HANDLER.search(text), "inline event handler: attach it from static/js"
    assert "javascript:" not in text.lower()
    assert not HTMX_EVAL.search(text), "htmx features that evaluate code (allowEval is off)"
    assert not re.search(r"<style\b", text, re.I) and not re.search(r"""\sstyle\s*=\s*["']""", text, re.I), "inline style"
