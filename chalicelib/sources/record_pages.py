"""What a CRM reader returns to the import and the reconciliation: one page of records as
canonical events, and where the next page starts (a cursor that is plain JSON, stored between
runs, so an import resumes where it stopped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.events import LeadEvent

Cursor = dict[str, Any]


@dataclass
class RecordPage:
    events: list[LeadEvent] = field(default_factory=list)
    records: int = 0
    next_cursor: Cursor | None = None  # None: no more pages


class RecordReader(Protocol):
    """Pages through a CRM's records modified since `since` (None: every record)."""

    name: str

    @property
    def calls_made(self) -> int:
        """API requests this reader has sent."""
        ...

    def first_cursor(self, since: str | None) -> Cursor: ...

    def total(self, since: str | None) -> int | None:
        """How many records the import will read, when the CRM can say (for the ETA)."""
        ...

    def page(self, cursor: Cursor) -> RecordPage: ...
