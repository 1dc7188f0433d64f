"""Content-Security-Policy on every response.

Scripts come only from this origin's files: no inline <script>, no inline event handlers, no
`javascript:` URLs, no eval (htmx runs with `allowEval: false`). JSON for scripts travels in
`<script type="application/json">` (json_script), which is data and never executed. Styles come
only from stylesheets; a style set from a script (element.style) is not affected. Websockets may
connect to the host that served the page.

Settings: CSP_REPORT_ONLY (send Content-Security-Policy-Report-Only instead, to try the policy
on a deployment without enforcing it) and CSP_REPORT_URI (where browsers report violations)."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"

BASE_DIRECTIVES: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "media-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "frame-ancestors": ("'none'",),
    "form-action": ("'self'",),
}


def policy_for(request) -> str:
    directives = {name: list(values) for name, values in BASE_DIRECTIVES.items()}
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    if host:
        # 'self' covers ws:/wss: of the same host in CSP 3 browsers; older ones need it spelled out.
        directives["connect-src"] += [f"ws://{host}", f"wss://{host}"]
    report_uri = getattr(settings, "CSP_REPORT_URI", "")
    if report_uri:
        directives["report-uri"] = [report_uri]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = REPORT_ONLY_HEADER if getattr(settings, "CSP_REPORT_ONLY", False) else HEADER
        if HEADER not in response and REPORT_ONLY_HEADER not in response:
            response[header] = policy_for(request)
        return response
