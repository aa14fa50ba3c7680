"""The errors a client sees: each is a 4xx naming what to change (a failure a retry can fix is
`chalicelib.errors.Unavailable`, a 503). Raised by the parsers and the use cases alike."""

from __future__ import annotations

from typing import Any

__all__ = ["BadPayload", "ClientError", "PayloadTooLarge", "Unauthorized"]


class ClientError(Exception):
    """A request the client must change: answered with `status` and `code`, naming the field."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: dict[str, Any] = {}  # more the error body carries (a rules file's `issues`)


class Unauthorized(ClientError):
    status = 401
    code = "unauthorized"


class BadPayload(ClientError):
    status = 400
    code = "bad_payload"


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class Conflict(ClientError):
    """The request does not fit the state it meets (an undo with nothing to undo)."""

    status = 409
    code = "conflict"
