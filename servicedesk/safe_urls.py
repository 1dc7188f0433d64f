"""Outbound HTTP that cannot be pointed inside the network (server-side request forgery guard).

Every request the product makes to an address an admin typed in (channel webhooks, Slack, Teams,
Mastodon, X, listening feeds) goes through `client()`. For each request, redirects included:

- the host is resolved once, by this module, in every notation the C library accepts
  (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`, `[::1]`, `0.0.0.0`) and by
  DNS for names; `localhost` and `*.localhost` never leave the machine, so they are refused as
  they are;
- every address it resolves to must be public unicast: loopback, private, shared (100.64/10),
  link-local, multicast, unspecified, reserved, documentation, benchmarking, IPv4-mapped /
  NAT64 / 6to4 / Teredo forms of those and anything outside IPv6 global unicast are refused;
- the connection goes to the vetted address itself (the URL's host is kept in the `Host` header
  and as the TLS server name), so a second DNS answer cannot swap it for an internal one;
- no proxy from the environment is used (it would connect somewhere else).

`OUTBOUND_ALLOWED_HOSTS` (settings, env var, comma separated, default empty) lets an admin allow
internal targets explicitly: a host name (exactly, case-insensitive) or an IP address / network
in CIDR notation (`10.20.0.0/16`, `127.0.0.1`), matched against the resolved address.

`address_problem(url)` answers the save-time question (None or the reason to show);
`RefusedAddress` is what a request to a refused address raises, with a reason for the logs only:
what is recorded for people is `GENERIC_ERROR`, never the network error itself (which would tell
which internal ports are open).
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Could not reach the target."
NOT_ALLOWED = "This address is not allowed: it points to a private, loopback or reserved network."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_BLOCKED_V4 = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8",  # "this network", includes 0.0.0.0
    "10.0.0.0/8",
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, includes 255.255.255.255
))
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_BLOCKED_V6 = tuple(ipaddress.ip_network(n) for n in (
    "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4: carries an IPv4 address
    "3fff::/20",  # documentation
))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class RefusedAddress(Exception):
    """The request would reach a refused address. The message is for the logs, not for people."""


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 in every form inet_aton(3) takes: 1 to 4 parts, each decimal, octal (0…) or hex (0x…);
    the last part fills the remaining bytes (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`)."""
    parts = host.split(".")
    if host.endswith(".") and len(parts) > 1:
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if re.fullmatch(r"0[xX][0-9a-fA-F]*", part):
            value = int(part[2:] or "0", 16)
        elif re.fullmatch(r"0[0-7]+", part):
            value = int(part, 8)
        elif re.fullmatch(r"0|[1-9][0-9]*", part):  # `08` is no number to inet_aton: a name then
            value = int(part, 10)
        else:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in any notation; None for a name."""
    host = (host or "").strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return _inet_aton(host)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True only for public unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public(embedded)
        if ip not in _IPV6_GLOBAL_UNICAST or any(ip in net for net in _BLOCKED_V6):
            return False
    elif any(ip in net for net in _BLOCKED_V4):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_loopback
                                 or ip.is_link_local or ip.is_unspecified)


def _allowlist() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, networks = set(), []
    for entry in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", ()) or ():
        entry = str(entry).strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _allowed(ip: IPAddress, networks) -> bool:
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(c in net for c in candidates for net in networks if c.version == net.version)


def _is_localhost_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost") or host in ("localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _getaddrinfo(host: str, port: int) -> list[IPAddress]:
    """DNS, by itself so that tests can answer in its place."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` stands for (raises socket.gaierror / OSError when it does not resolve)."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    seen: list[IPAddress] = []
    for ip in _getaddrinfo(host, port):
        if ip not in seen:
            seen.append(ip)
    if not seen:
        raise socket.gaierror("no address")
    return seen


@dataclass(frozen=True)
class Vetted:
    scheme: str
    host: str
    port: int
    ip: IPAddress


def vet(url: httpx.URL | str) -> Vetted:
    """Resolve and check one URL. Raises RefusedAddress, or httpx.ConnectError when the name does
    not resolve (which may pass: it is retried, and checked again then)."""
    if not isinstance(url, httpx.URL):
        try:
            url = httpx.URL(str(url))
        except httpx.InvalidURL:
            # httpx will not connect to it (`0177.0.0.1`, say); still, an internal address is named as such.
            try:
                host = urlsplit(str(url)).hostname or ""
            except ValueError:
                raise httpx.InvalidURL("not a URL") from None
            literal = ip_literal(host)
            if _is_localhost_name(host) or (literal is not None and not is_public(literal)):
                raise RefusedAddress(f"{host} is not a public address") from None
            raise
    scheme, host = url.scheme, (url.host or "").lower()
    if scheme not in ("http", "https"):
        raise RefusedAddress(f"scheme {scheme!r} is not http(s)")
    if not host:
        raise RefusedAddress("no host")
    port = url.port or (443 if scheme == "https" else 80)
    names, networks = _allowlist()
    by_name = host.rstrip(".") in names
    if _is_localhost_name(host) and not by_name:
        literal = ipaddress.ip_address("127.0.0.1")
        if not _allowed(literal, networks):
            raise RefusedAddress(f"{host} is the machine itself")
        return Vetted(scheme, host, port, literal)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise httpx.ConnectError(f"{host} did not resolve: {exc}") from None
    if not by_name:
        refused = [ip for ip in addresses if not is_public(ip) and not _allowed(ip, networks)]
        if refused:
            raise RefusedAddress(f"{host} resolves to {refused[0]}, which is not public")
    return Vetted(scheme, host, port, addresses[0])


def address_problem(url) -> str | None:
    """The save-time check: NOT_ALLOWED when the URL points (or resolves) to a refused address,
    None otherwise. A name that does not resolve now passes: it is checked again at each send."""
    if not isinstance(url, str):
        return None
    try:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return None  # the URL validator says it must be http(s)
        vet(url)
    except RefusedAddress:
        return NOT_ALLOWED
    except (httpx.InvalidURL, httpx.ConnectError, ValueError, TypeError):
        return None  # does not resolve now, or the URL validator says what is wrong with its form
    return None


class GuardedTransport(httpx.BaseTransport):
    """Vets every request (each redirect hop is a request of its own) and connects to the vetted
    address, keeping the URL's host as the Host header and the TLS server name. One inner
    connection pool per (scheme, host, address, port), so a TLS connection is never reused for
    another name."""

    def __init__(self, **transport_options):
        self._options = {"retries": 0, **transport_options}
        self._pools: dict[tuple, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = vet(request.url)
        extensions = dict(request.extensions)
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host.rstrip(".")
        pinned = httpx.Request(
            request.method, request.url.copy_with(host=str(target.ip)), headers=request.headers, stream=request.stream,
            extensions=extensions,
        )
        key = (target.scheme, target.host, str(target.ip), target.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.HTTPTransport(**self._options)
        return pool.handle_request(pinned)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def client(*, timeout: httpx.Timeout | float, follow_redirects: bool = False, **options) -> httpx.Client:
    """An httpx client whose every request is vetted; at most OUTBOUND_MAX_REDIRECTS redirects."""
    return httpx.Client(
        timeout=timeout, follow_redirects=follow_redirects, max_redirects=settings.OUTBOUND_MAX_REDIRECTS,
        transport=GuardedTransport(), trust_env=False, **options,
    )
