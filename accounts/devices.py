"""Readable names for the browsers and systems in the sign-in history."""
from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


def _version(major: str | None, minor: str | None = None) -> str:
    if not major:
        return ""
    return f" {major}.{minor}" if minor and minor != "0" else f" {major}"


@lru_cache(maxsize=1024)
def describe(user_agent: str) -> str:
    """"Firefox 121 on Ubuntu", "Safari on iOS 17.1", or "" when nothing is recognised."""
    if not user_agent:
        return ""
    result = parse(user_agent[:512])
    browser = ""
    if result.user_agent and result.user_agent.family != "Other":
        browser = result.user_agent.family + _version(result.user_agent.major)
    system = ""
    if result.os and result.os.family != "Other":
        system = result.os.family + _version(result.os.major, result.os.minor)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system
