"""Small text helpers shared by the apps."""
from __future__ import annotations


def one_line(value: str | None) -> str:
    """`value` on one line: every run of whitespace (CR, LF, tabs, Unicode line and paragraph
    separators...) becomes one space, and the ends are trimmed. For titles and e-mail subjects,
    where a line break is never meant and breaks mail headers (`BadHeaderError`)."""
    return " ".join(str(value if value is not None else "").split())
