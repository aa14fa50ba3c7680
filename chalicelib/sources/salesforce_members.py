"""CampaignMembers read through the REST query API with their campaign's Type, which an outbound
message cannot carry (it holds the member's own fields only). A directory (see
service.ProfileDirectory) for kind `salesforce_member`: one query per 100 members, off the
webhook, on the queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import LeadEvent

from .crm_calls import Requester
from .salesforce_import import API, OBJECTS, record_events

BATCH_LIMIT = 100
MEMBER_QUERY = next(soql for name, soql, _ in OBJECTS if name == "CampaignMember")


class SalesforceCampaignMembers:
    def __init__(self, session: Requester, mapping: Callable[[], CrmActivity] = CrmActivity) -> None:
        self.session = session
        self.mapping = mapping

    @property
    def client(self) -> Any:
        """The HTTP client underneath (its connection pool)."""
        return getattr(self.session, "client", None)

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        from chalicelib.errors import CrmUnavailable

        mapping, events = self.mapping(), []
        ids = [member for member in record_ids if member.isalnum()]  # Salesforce ids: never quote-breaking
        for start in range(0, len(ids), BATCH_LIMIT):
            listed = ", ".join(f"'{member}'" for member in ids[start : start + BATCH_LIMIT])
            soql = f"{MEMBER_QUERY} WHERE Id IN ({listed})"
            response = self.session.request("GET", f"{API}/query?q={quote(soql)}")
            if response.status != 200 or not isinstance(response.body, dict):
                raise CrmUnavailable(f"Salesforce query answered {response.status}")
            for record in response.body.get("records") or []:
                if isinstance(record, dict):
                    events += record_events("CampaignMember", record, mapping)
        return events
