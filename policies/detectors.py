"""Personal data and secrets in free text: e-mail addresses, phone numbers, IP addresses, host
names, tokens and secrets. Used by the outbound engine and by the internal DLP scan.

Where in doubt the detectors flag (a false alarm costs a reviewer a click, a leak is forever), but
a host name must look like one: a dotted name ending in a real top-level domain or an internal
suffix, or a machine name with a role or a zero-padded number. Words with a hyphen and a number
("covid-19", "utf-8", "Windows-11"), versions ("v2.3.1") and file names ("readme.md") are not hosts.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tickets.models import NUMBER_PATTERN

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

# A host name is a dotted name ending in a real top-level domain or in one of the organisation's
# internal suffixes. Real ones: the generic domains in common use and every country code, less the
# few country codes that are everyday file extensions (readme.md, setup.py, main.rs, install.sh).
GENERIC_TLDS = frozenset("""
    com net org edu gov mil int arpa info biz name pro mobi asia tel travel jobs museum aero coop cat
    io ai app dev cloud tech online site website xyz top club shop store blog page news media live
    email link network systems solutions services software digital agency host hosting server global
    group company business consulting support security codes tools zone world today center
    example test invalid localhost
""".split())
COUNTRY_TLDS = frozenset("""
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by
    bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi
    fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in
    io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md
    me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe
    pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st
    su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu
    wf ws ye yt za zm zw
""".split()) - {"md", "py", "rs", "sh", "ps", "pm", "so"}
TLDS = GENERIC_TLDS | COUNTRY_TLDS
# Suffixes the organisation's own networks use; `POLICIES_INTERNAL_DOMAINS` replaces these.
DEFAULT_INTERNAL_DOMAINS = ("corp", "local", "localdomain", "internal", "intra", "intranet", "lan", "private")
# Dotted names that are products, not hosts.
NOT_HOSTS = frozenset({"asp.net", "vb.net", "ado.net", "socket.io"})

# The shape of a dotted name; whether it is a host is decided by its last label (see `_is_fqdn`).
FQDN_RE = re.compile(r"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}(?![.-]?\w)")

# Machine names: role tokens that name infrastructure, found in names like srv-fin-01, fin-db01,
# PAYSQL02, mail01. A number alone is not enough (covid-19, utf-8, sha-256, windows-11).
ROLES = frozenset("""
    srv server db sql mssql mysql pg psql ora oracle mongo redis app web www mail smtp imap exch dc ldap dns dhcp
    fs file files print prn vm host hyp esx esxi kube k8s worker proxy lb fw gw rtr nas san bkp backup git
    build jenkins ci sap erp crm citrix rds vdi
""".split())
# A word, or hyphen- or underscore-joined parts, starting with a letter; `_is_machine_name` decides.
MACHINE_RE = re.compile(r"(?<![\w@.-])[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*(?![\w-]|\.\d)")
TICKET_NUMBER_RE = re.compile(rf"^{NUMBER_PATTERN}$", re.I)

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


def _is_fqdn(name: str, internal_domains) -> bool:
    labels = name.split(".")
    tld, lower = labels[-1], name.lower()
    if lower in NOT_HOSTS or not re.search(r"[A-Za-z]", labels[0]):
        return False  # "ASP.NET", or "8.am" ("at 8.am")
    if tld != tld.lower() and name != name.upper():
        return False  # "done.No more": a sentence missing its space, not a host
    if any(lower.endswith("." + suffix) for suffix in internal_domains):
        return True
    return tld.lower() in TLDS


def _is_machine_name(name: str) -> bool:
    """srv-fin-01, fin-db01, srv_app_03, PAYSQL02, mail01, lab-pc-007: a number that is zero-padded
    (machines are numbered 01, 02 ...) or follows a part naming an infrastructure role."""
    if len(name) > 100 or not name[-1].isdigit() or TICKET_NUMBER_RE.match(name):
        return False
    parts = re.split(r"[-_]", name.lower())
    digits = re.search(r"\d+$", parts[-1]).group(0)
    if len(parts) == 1:
        # One word: a role right before 2-3 digits (PAYSQL02, mail01), never "covid19" or "db2".
        word = parts[0][: -len(digits)]
        return len(digits) >= 2 and any(word.endswith(role) for role in ROLES)
    if not re.fullmatch(r"[a-z]*\d{1,3}", parts[-1]):
        return False
    padded = len(digits) >= 2 and digits.startswith("0")
    return padded or any(re.sub(r"\d+$", "", part) in ROLES for part in parts)


def find_personal_data(text: str, *, public_hosts: frozenset[str] = frozenset(),
                       internal_domains=DEFAULT_INTERNAL_DOMAINS) -> list[Finding]:
    """Everything that looks like personal data or a secret, in the order of the detectors.

    `internal_domains`: suffixes of the organisation's own host names (corp, local ...)."""
    internal_domains = tuple(d.strip(".").lower() for d in internal_domains if d and d.strip("."))
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
        if _is_fqdn(m.group(0), internal_domains) and m.group(0).lower() not in public_hosts:
            add(HOST, m)
    for m in MACHINE_RE.finditer(text):
        if _is_machine_name(m.group(0)):
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
