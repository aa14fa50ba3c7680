"""CampaignMembers read through the REST query API with their campaign's Type, which an outbound
message cannot carry (it holds the member's own fields only). A profile directory for identity
kind `salesforce_member`: one query per 100 members, off the webhook, on the queue, through the
same paced calls as the import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import LeadEvent

from ..pacing import CrmCalls
from .records import API, OBJECTS, record_events

BATCH_LIMIT = 100
MEMBER_QUERY = next(soql for name, soql, _ in OBJECTS if name == "CampaignMember")


class SalesforceCampaignMembers:
    def __init__(self, calls: CrmCalls, mapping: Callable[[], CrmActivity] = CrmActivity) -> None:
        self.calls = calls
        self.mapping = mapping

    @property
    def client(self) -> Any:
        """The HTTP session underneath (its connection pool)."""
        return self.calls.client

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        mapping, events = self.mapping(), []
        ids = [member for member in record_ids if member.isalnum()]  # Salesforce ids: never quote-breaking
        for start in range(0, len(ids), BATCH_LIMIT):
            listed = ", ".join(f"'{member}'" for member in ids[start : start + BATCH_LIMIT])
            soql = f"{MEMBER_QUERY} WHERE Id IN ({listed})"
            # on the task queue: a refusal is retried with the queue's backoff
            body = self.calls.request("GET", f"{API}/query?q={quote(soql)}", wait_out=False)
            records = body.get("records") if isinstance(body, dict) else None
            for record in records or []:
                if isinstance(record, dict):
                    events += record_events("CampaignMember", record, mapping)
        return events
