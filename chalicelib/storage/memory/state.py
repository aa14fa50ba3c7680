"""What the in-memory roles share: identities, event partitions, lead items and job state."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.storage.account_ports import AccountState
from chalicelib.storage.ports import LeadRecord, StoredEvent


@dataclass
class LeadEntry:
    record: LeadRecord
    due_at: str | None = None
    sync_at: str | None = None
    indexed: bool = False  # has tier and score: in by_tier and in reports (a merged lead is not)
    tier_changes: list[dict[str, Any]] = field(default_factory=list)


class MemoryState:
    def __init__(self) -> None:
        self.identities: dict[str, str] = {}
        self.events: dict[str, dict[str, StoredEvent]] = {}
        self.leads: dict[str, LeadEntry] = {}
        self.meta: dict[str, Any] = {}
        self.unscored_counts: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # (day, source, reason, name)
        self.remnants: dict[str, str] = {}  # rescore marks of leads that have no item yet
        self.alerts: dict[tuple[str, str], tuple[datetime, str]] = {}  # (lead, kind) -> (sent for, token)
        self.accounts: dict[str, AccountState] = {}
        self.held: dict[str, dict[str, dict[str, Any]]] = {}  # destination -> day#lead#kind -> alert (digests)
        self.lock = threading.RLock()

    def mark_for_rescore(self, lead_id: str) -> None:
        lead = self.leads.get(lead_id)
        if lead is None:
            self.remnants[lead_id] = uuid.uuid4().hex[:16]
        else:
            lead.record.rescore_mark = uuid.uuid4().hex[:16]


def sort_key(item: StoredEvent) -> str:
    return f"{item.event.source}#{item.event.event_id}"


def copy_record(record: LeadRecord) -> LeadRecord:
    return replace(record, keys=list(record.keys), events=list(record.events), day_starts=dict(record.day_starts),
                   retired=set(record.retired))  # fmt: skip
