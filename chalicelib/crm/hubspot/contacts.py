"""HubSpot contacts read through the CRM API, as canonical events (their profile and the activity
their properties record). One reader, on one paced client, serves all three uses:

- enrichment: a webhook names a contact (`contact.creation`, a counter that grew) without its
  properties, so they are read from the queue, 100 a batch read;
- the import: every contact, a page of 100 at a time;
- the reconciliation: what changed since the last run.

Without `since`: the CRM list endpoint, `GET /crm/v3/objects/contacts?limit=100&after=...`,
which has no size limit. With `since`: the search endpoint (`lastmodifieddate` GTE since, oldest
first), which returns at most 10,000 results per query: past that, the query starts again from
the last modification date seen (records read twice are the same events, stored once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import LeadEvent, parse_instant, to_us
from chalicelib.sources.hubspot import PROPERTY_MAP, contact_events

from ..pacing import CrmCalls, PacedReader, RateLimit
from ..ports import Cursor, RecordPage

PAGE_SIZE = 100
BATCH_LIMIT = 100
SEARCH_RESULT_LIMIT = 10_000


def contact_properties(mapping: CrmActivity) -> list[str]:
    """What to ask the CRM API for: the profile's properties and every activity property."""
    return sorted({*PROPERTY_MAP, "lastmodifieddate", *mapping.hubspot_properties()})


class HubSpotContacts(PacedReader):
    """A record reader (import, reconciliation) and a profile directory (enrichment) for identity
    kind `hubspot`. `mapping` is read on each use, so a rules change applies without a restart."""

    name = "hubspot"

    def __init__(
        self, calls: CrmCalls, mapping: Callable[[], CrmActivity], search_limit: RateLimit | None = None
    ) -> None:
        self.calls = calls
        self._mapping = mapping
        # Search has its own, lower limit (5 requests a second per account): paced apart.
        self.search_limit = search_limit or RateLimit(4, 1.0, calls.limit.clock, calls.limit.sleep)

    @property
    def mapping(self) -> CrmActivity:
        return self._mapping()

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        """POST /crm/v3/objects/contacts/batch/read, 100 ids a call; unknown ids are simply absent."""
        mapping = self.mapping
        events: list[LeadEvent] = []
        for start in range(0, len(record_ids), BATCH_LIMIT):
            chunk = record_ids[start : start + BATCH_LIMIT]
            body = self.calls.request(
                "POST",
                "/crm/v3/objects/contacts/batch/read",
                {"properties": contact_properties(mapping), "inputs": [{"id": contact_id} for contact_id in chunk]},
                wait_out=False,  # on the task queue: a refusal is retried with the queue's backoff
            )
            for item in batch_results(body):
                if "id" in item:
                    events += contact_events(item, mapping)
        return events

    def first_cursor(self, since: str | None) -> Cursor:
        return {"since": since, "after": None}

    def total(self, since: str | None) -> int | None:
        body = self._search(since, None, limit=1)
        total = body.get("total") if isinstance(body, dict) else None
        return int(total) if isinstance(total, int) else None

    def page(self, cursor: Cursor) -> RecordPage:
        since, after = cursor.get("since"), cursor.get("after")
        mapping = self.mapping
        if since is None:
            query = {"limit": PAGE_SIZE, "properties": ",".join(contact_properties(mapping))}
            if after:
                query["after"] = after
            body = self.calls.request("GET", f"/crm/v3/objects/contacts?{urlencode(query)}")
        else:
            body = self._search(since, after, PAGE_SIZE)
        results = [item for item in batch_results(body) if "id" in item]
        events = [event for item in results for event in contact_events(item, mapping)]
        next_after = ((body.get("paging") or {}).get("next") or {}).get("after") if isinstance(body, dict) else None
        next_cursor: Cursor | None = None
        if next_after:
            next_cursor = {"since": since, "after": str(next_after)}
            if since is not None and int(str(next_after)) + PAGE_SIZE > SEARCH_RESULT_LIMIT and results:
                # the search stops at 10,000 results: query again from the last change seen
                next_cursor = {"since": _modified(results[-1]) or since, "after": None}
        return RecordPage(events=events, records=len(results), next_cursor=next_cursor)

    def _search(self, since: str | None, after: str | None, limit: int) -> Any:
        body: dict[str, Any] = {
            "limit": limit,
            "properties": contact_properties(self.mapping),
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        }
        if since is not None:
            instant = parse_instant(since)
            millis = str(to_us(instant) // 1000) if instant else "0"
            body["filterGroups"] = [
                {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": millis}]}
            ]
        if after:
            body["after"] = after
        return self.calls.request("POST", "/crm/v3/objects/contacts/search", body, limit=self.search_limit)


def batch_results(body: Any) -> list[dict[str, Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    return [item for item in results if isinstance(item, dict)] if isinstance(results, list) else []


def _modified(contact: dict[str, Any]) -> str | None:
    properties = contact.get("properties") or {}
    value = properties.get("lastmodifieddate") if isinstance(properties, dict) else None
    return str(value or contact.get("updatedAt") or "") or None
