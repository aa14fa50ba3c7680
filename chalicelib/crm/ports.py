"""What the use cases ask of a CRM, and what they get back: a writer (scores out, in batches), a
record reader (pages of records for the import and the reconciliation) and a profile directory
(records a webhook named without their properties). Each CRM's folder implements them; the
writers and readers only translate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from chalicelib.domain.account_card import AccountCard
from chalicelib.domain.events import LeadEvent

if TYPE_CHECKING:
    from chalicelib.service_layer.commands import CompanyChange, RecordMerge
from chalicelib.domain.scorecard import ScoreCard

__all__ = [
    "WRITTEN",
    "AccountWriteRequest",
    "AccountWriter",
    "CompanyDirectory",
    "CrmWriter",
    "Cursor",
    "ProfileDirectory",
    "RecordPage",
    "RecordReader",
    "WriteRequest",
    "WriteResult",
    "WriteStatus",
    "retry_all",
    "retry_keys",
]

# ------------------------------------------------------------------------------------ write-back
WriteStatus = Literal["written", "retry", "permanent", "not_in_crm"]


@dataclass(frozen=True)
class WriteRequest:
    lead_id: str
    card: ScoreCard
    tier_changed_at: str | None = None
    hubspot_id: str | None = None
    salesforce_id: str | None = None
    pipedrive_id: str | None = None
    email: str | None = None
    moves: dict[str, dict[str, str]] = field(default_factory=dict)  # per CRM, fields to move (crm_actions)


@dataclass(frozen=True)
class WriteResult:
    status: WriteStatus
    reason: str = ""
    retry_after: float | None = None  # seconds; None: back off by attempt count
    discovered: dict[str, str] = field(default_factory=dict)  # identity keys learnt (Salesforce id by email)


WRITTEN = WriteResult("written")


class CrmWriter(Protocol):
    name: str

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]: ...


@dataclass(frozen=True)
class AccountWriteRequest:
    key: str  # the account's key (`hubspot:123`)
    record_id: str  # the CRM's company / Account id
    card: AccountCard


@runtime_checkable
class AccountWriter(Protocol):
    """Writes account scores to the CRM's company records (`name` is the key kind it writes)."""

    name: str

    def write_accounts(self, requests: list[AccountWriteRequest]) -> dict[str, WriteResult]: ...


def retry_all(requests: list[WriteRequest], reason: str, after: float | None = None) -> dict[str, WriteResult]:
    return retry_keys([request.lead_id for request in requests], reason, after)


def retry_keys(keys: Sequence[str], reason: str, after: float | None = None) -> dict[str, WriteResult]:
    """Every one of these (leads or accounts) to be tried again, for one reason."""
    return {key: WriteResult("retry", reason, after) for key in keys}


# --------------------------------------------------------------------------- import and reconcile
Cursor = dict[str, Any]  # plain JSON, stored between runs, so an import resumes where it stopped


@dataclass
class RecordPage:
    """One page of records as canonical events, and where the next page starts."""

    events: list[LeadEvent] = field(default_factory=list)
    records: int = 0
    next_cursor: Cursor | None = None  # None: no more pages
    merges: list[RecordMerge] = field(default_factory=list)  # records the CRM merged (or converted)


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


# ------------------------------------------------------------------------------------ enrichment
class ProfileDirectory(Protocol):
    """Reads records a delivery named without their properties (a HubSpot `contact.creation`) and
    returns them as canonical events; unknown ids are simply absent."""

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]: ...


class CompanyDirectory(Protocol):
    """Reads CRM companies a delivery named without their properties, as account changes."""

    def read_companies(self, record_ids: Sequence[str]) -> list[CompanyChange]: ...
