"""An in-memory implementation of the storage ports, for fast tests of the use cases.

It keeps the promises DynamoStorage keeps (conditional event writes, identity claims, optimistic
versions, merge forwarding, TTL on read, the sparse due and sync indexes); the same contract
tests run against both (tests/integration/test_storage_contract.py). Not for production: one
process, no durability. The roles share one `MemoryState`.
"""

from __future__ import annotations

from chalicelib.storage.ports import Storage

from .accounts import MemoryAccounts
from .leads import MemoryEvents, MemoryLeads
from .rules_versions import MemoryRulesVersions
from .state import MemoryState
from .views import MemoryEventCounts, MemoryJobs, MemoryListing, MemoryOutbox

__all__ = ["InMemoryStorage", "MemoryState"]


class InMemoryStorage(Storage):
    def __init__(self) -> None:
        state = MemoryState()
        leads = MemoryLeads(state)
        super().__init__(
            leads=leads,
            events=MemoryEvents(state, leads),
            outbox=MemoryOutbox(state),
            listing=MemoryListing(state),
            jobs=MemoryJobs(state),
            counts=MemoryEventCounts(state),
            rules_versions=MemoryRulesVersions(),
            accounts=MemoryAccounts(state),
        )
        self.state = state
