"""Form helpers shared by the page views of every app."""
from __future__ import annotations

from .errors import ApplicationError


class ServiceErrorsMixin:
    """Put an `ApplicationError`'s field errors next to the fields they name, the rest on top."""

    def add_service_error(self, exc: ApplicationError) -> None:
        self.add_error(None, exc.message)
        for name, messages in (exc.errors or {}).items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)
