"""Form helpers shared by the page views of every app."""
from __future__ import annotations

from .errors import ApplicationError


class ServiceErrorsMixin:
    """Put an `ApplicationError`'s field errors next to the fields they name, the rest on top."""

    service_status: int | None = None

    def add_service_error(self, exc: ApplicationError) -> None:
        self.service_status = exc.status
        self.add_error(None, exc.message)
        for name, messages in (exc.errors or {}).items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)

    @property
    def error_status(self) -> int:
        """The status a page answers with when this form is shown again with its errors:
        429 when a rate limit refused it, 400 otherwise."""
        return 429 if self.service_status == 429 else 400
