"""The client address every rate limit and lockout judges a request by.

One setting, `PROXY_COUNT`, says how many reverse proxies in front of the application append
to `X-Forwarded-For`. With 0 (the default) the header is ignored and the socket's peer address
is used; with N the N-th address from the right is used, which is the one the outermost proxy
of ours saw. DRF's throttles read the same setting (`NUM_PROXIES`) and django-axes calls this
function, so a caller cannot pick the address it is judged by on one path and not another.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR"))
    proxies = int(getattr(settings, "PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # The same pick as rest_framework.throttling.BaseThrottle.get_ident with NUM_PROXIES.
    return _valid(forwarded[-min(proxies, len(forwarded))]) or remote
