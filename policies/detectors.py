"""Personal data and secrets in free text: e-mail addresses, phone numbers, IP addresses, host
names, tokens and secrets. Used by the outbound engine and by the internal DLP scan.

The detectors err towards flagging: a false alarm costs a reviewer a click, a leak is forever.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

EMAIL = "email"
PHONE = "phone"
IP = "ip"
HOST = "host"
SECRET = "secret"

LABELS = {
    EMAIL: "an e-mail address",
    PHONE: "a phone number",
    IP: "an IP address",
    HOST: "a host name",
    SECRET: "a token or secret",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    value: str

    @property
    def masked(self) -> str:
        """Enough to recognise what was found, never enough to reuse it."""
        v = self.value
        if self.kind == SECRET:
            return (v[:4] + "…") if len(v) > 8 else "…"
        if len(v) <= 4:
            return "…"
        return v[:2] + "…" + v[-2:]


EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

PHONE_RES = [
    # International: +44 20 7946 0958, 0049 (30) 901820, +1-202-555-0143
    re.compile(r"(?<![\w+-])(?:\+|00)[1-9][\d\s().-]{6,18}\d(?![\w-])"),
    # National trunk prefix: 020 7946 0958, 06 12 34 56 78, 030/901820
    re.compile(r"(?<![\w+.:/-])0\d{1,4}(?:[\s./-]?\d{2,4}){2,4}(?![\w-])"),
    # North American: (202) 555-0143, 202-555-0143, 202.555.0143
    re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?![\w-])"),
    # "ext. 4412", "extension 4412", "tel 5521"
    re.compile(r"\b(?:ext(?:ension)?\.?|tel(?:ephone)?\.?|phone|call me on|mobile)\s*:?\s*\+?\d[\d\s-]{2,14}\d\b", re.I),
]

IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\d.])")
IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

TLDS = (
    "com|net|org|io|co|biz|info|local|localdomain|lan|corp|internal|intra|intranet|priv|private|home|cloud|dev|"
    "app|eu|uk|de|fr|nl|be|ch|at|it|es|se|no|dk|fi|ie|pl|us|ca|au|jp|in|ad|int|svc|cluster"
)
FQDN_RE = re.compile(rf"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+(?:{TLDS})\b(?![.-]?\w)", re.I)
# Machine-looking names: fin-db01, srv-app-03, PAYSQL02, web3.
HOST_LABEL_RES = [
    re.compile(r"(?<![\w@.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:[a-z]+\d+|\d{1,3})(?![\w-])"),
    re.compile(r"(?<![\w@.-])[A-Za-z]*(?:srv|SRV|db|DB|dc|DC|sql|SQL|vm|VM|fs|FS|node|NODE|host|HOST)[-_]?\d{1,4}(?![\w-])"),
]
TICKET_NUMBER_RE = re.compile(r"^(?:INC|REQ|PRB)-\d{6}$", re.I)

SECRET_RES = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(
        r"(?i)\b(?:password|passwd|pwd|passphrase|secret|api[_ -]?key|access[_ -]?key|client[_ -]?secret|token|auth)"
        # the value must hold a digit or a symbol: "password is stored safely" is not a secret
        r"\s*(?:is|=|:)\s*[\"']?(?=[^\s\"',;]*[\d!@#$%^&*_+=/-])[^\s\"',;]{6,}"
    ),
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s:/@]+@"),  # credentials in a URL
]
# A long run of mixed letters and digits looks like a key whatever its prefix.
ENTROPY_RE = re.compile(r"(?<![\w/.-])[A-Za-z0-9+/_=-]{32,}(?![\w/.-])")


def _valid_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_network(candidate, strict=False) if "/" in candidate else ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _looks_random(token: str) -> bool:
    kinds = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return kinds >= 2 and len(set(token)) >= 12


def find_personal_data(text: str, *, public_hosts: frozenset[str] = frozenset()) -> list[Finding]:
    """Everything that looks like personal data or a secret, in the order of the detectors."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, match: re.Match) -> None:
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        findings.append(Finding(kind, match.group(0).strip()))

    for pattern in SECRET_RES:
        for m in pattern.finditer(text):
            add(SECRET, m)
    for m in ENTROPY_RE.finditer(text):
        if _looks_random(m.group(0)):
            add(SECRET, m)
    for m in EMAIL_RE.finditer(text):
        add(EMAIL, m)
    for m in IPV4_RE.finditer(text):
        if _valid_ip(m.group(0)):
            add(IP, m)
    for m in IPV6_RE.finditer(text):
        value = m.group(0)
        if value.count(":") >= 2 and re.search(r"[0-9A-Fa-f]", value) and _valid_ip(value):
            add(IP, m)
    for m in FQDN_RE.finditer(text):
        if m.group(0).lower().rstrip(".") not in public_hosts:
            add(HOST, m)
    for pattern in HOST_LABEL_RES:
        for m in pattern.finditer(text):
            if not TICKET_NUMBER_RE.match(m.group(0)):
                add(HOST, m)
    for pattern in PHONE_RES:
        for m in pattern.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 4 <= len(digits) <= 15 and (len(digits) >= 7 or pattern is PHONE_RES[-1]):
                add(PHONE, m)
    return findings


def describe(findings: list[Finding]) -> list[str]:
    kinds = []
    for f in findings:
        if f.kind not in kinds:
            kinds.append(f.kind)
    return [LABELS[k] for k in kinds]
