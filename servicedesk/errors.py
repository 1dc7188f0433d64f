"""The one error type business rules raise; `servicedesk.api.exception_handler` renders it."""
from __future__ import annotations


class ApplicationError(Exception):
    """A business rule said no. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status is not None:
            self.status = status


class NotVisible(ApplicationError):
    """The object does not exist for this caller (answers 404 so its existence is not revealed)."""

    status = 404

    def __init__(self, message: str = "Not found."):
        super().__init__(message)


class Forbidden(ApplicationError):
    """The caller may see the object but not do this to it."""

    status = 403

    def __init__(self, message: str = "You do not have permission to do this."):
        super().__init__(message)
