"""What the use cases are asked to do: a parsed delivery of canonical events, deletions and the
CRM records to read. The parsers in `sources/` and the CRM readers build them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent

__all__ = ["CompanyChange", "Deletion", "ParsedDelivery", "ProfileRef", "RecordMerge", "Rejection"]


@dataclass
class Deletion:
    """The CRM deleted the contact (or asked for privacy deletion): remove the lead's data."""

    identities: Identities
    reason: str


# the profile directory that reads Salesforce CampaignMembers with their campaign's Type (which an
# outbound message cannot carry); named here so the API knows the kind without loading the vendor
MEMBER_DIRECTORY = "salesforce_member"


@dataclass(frozen=True)
class ProfileRef:
    """A CRM record whose properties must be read from the CRM: the delivery named it without them.
    `kind` is the identity kind (`hubspot`), which says which profile directory reads it."""

    kind: str
    record_id: str

    @classmethod
    def from_key(cls, key: str) -> ProfileRef | None:
        kind, _, record_id = key.partition(":")
        return cls(kind, record_id) if record_id else None


@dataclass(frozen=True)
class CompanyChange:
    """A CRM company changed: its properties (account attributes: `company`, `company_size` ...),
    or it was deleted, or merged into another (`merged_into`, an account key)."""

    key: str  # the account key (`hubspot:123`)
    at: datetime
    profile: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    merged_into: str | None = None
    created: bool = False  # named by its creation, without its properties: read from the CRM


@dataclass(frozen=True)
class RecordMerge:
    """A CRM merged records of one person: `losers` into `winner` (ids of the CRM `kind`)."""

    kind: str  # the identity kind: "hubspot"
    winner: str
    losers: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Rejection:
    """One message of a batch that could not be accepted; the rest of the batch is."""

    field: str
    message: str


@dataclass
class ParsedDelivery:
    events: list[LeadEvent] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    profiles_to_fetch: list[ProfileRef] = field(default_factory=list)
    ignored: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # Events that say less than the record would: used only when the record cannot be read (no
    # directory for its kind); otherwise the record is read and says it all (same event ids).
    unless_read: list[tuple[ProfileRef, LeadEvent]] = field(default_factory=list)
    # What names nobody (a form without an email field): acknowledged, so the sender does not
    # retry it forever, stored nowhere, and counted in the unscored report with `missing`.
    unattributed: list[LeadEvent] = field(default_factory=list)
    missing: str = "email"  # the identity those lacked, as the report names it
    companies: list[CompanyChange] = field(default_factory=list)  # the accounts' own records
    merges: list[RecordMerge] = field(default_factory=list)  # records the CRM merged
