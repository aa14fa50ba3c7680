"""The DynamoDB implementation of the storage ports: one table (see ../schema.py), one class per
role over it, each implementing its port directly.

Attribute values are written as plain DynamoDB JSON ({"S": ...}); event bodies, profiles and
cards are stored as JSON strings so no float ever goes through DynamoDB's Decimal type.
"""

from __future__ import annotations

from typing import Any

from chalicelib.storage.ports import Storage
from chalicelib.storage.table import DynamoTable

from .accounts import DynamoAccounts
from .counts import DynamoEventCounts
from .events import DynamoEvents
from .jobs import DynamoJobs
from .leads import DynamoLeads
from .listing import DynamoListing
from .outbox import DynamoOutbox
from .rules_versions import DynamoRulesVersions

__all__ = ["DynamoStorage"]


class DynamoStorage(Storage):
    def __init__(self, table_name: str, client: Any = None) -> None:
        table = DynamoTable(table_name, client)
        super().__init__(
            leads=DynamoLeads(table),
            events=DynamoEvents(table),
            outbox=DynamoOutbox(table),
            listing=DynamoListing(table),
            jobs=DynamoJobs(table),
            counts=DynamoEventCounts(table),
            rules_versions=DynamoRulesVersions(table),
            accounts=DynamoAccounts(table),
        )
        self.table = table

    @property
    def table_name(self) -> str:
        return self.table.name
