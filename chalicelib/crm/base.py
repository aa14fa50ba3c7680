"""What every CRM writer takes and returns; the writers themselves only translate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from chalicelib.domain.scorecard import ScoreCard

Status = Literal["written", "retry", "permanent", "not_in_crm"]


@dataclass(frozen=True)
class WriteRequest:
    lead_id: str
    card: ScoreCard
    tier_changed_at: str | None = None
    hubspot_id: str | None = None
    salesforce_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class WriteResult:
    status: Status
    reason: str = ""
    retry_after: float | None = None  # seconds; None: back off by attempt count
    discovered: dict[str, str] = field(default_factory=dict)  # identity keys learnt (Salesforce id by email)


WRITTEN = WriteResult("written")


class CrmWriter(Protocol):
    name: str

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]: ...


def retry_all(requests: list[WriteRequest], reason: str, after: float | None = None) -> dict[str, WriteResult]:
    return {request.lead_id: WriteResult("retry", reason, after) for request in requests}
