"""HubSpot contacts read through the CRM API, as canonical events (their profile and the activity
their properties record): a webhook names a contact (`contact.creation`, a counter that grew)
without the properties, so they are read in one batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import LeadEvent
from chalicelib.http_client import CrmUnavailable, JsonClient

from .hubspot import PROPERTY_MAP, contact_events

BATCH_LIMIT = 100


def contact_properties(mapping: CrmActivity) -> list[str]:
    """What to ask the CRM API for: the profile's properties and every activity property."""
    return sorted({*PROPERTY_MAP, "lastmodifieddate", *mapping.hubspot_properties()})


class HubSpotContacts:
    """A profile directory (see service.ProfileDirectory) for identity kind `hubspot`."""

    def __init__(self, client: JsonClient, mapping: Callable[[], CrmActivity] = CrmActivity) -> None:
        self.client = client
        self.mapping = mapping

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        """POST /crm/v3/objects/contacts/batch/read, 100 ids a call; unknown ids are simply absent."""
        mapping = self.mapping()
        events: list[LeadEvent] = []
        for start in range(0, len(record_ids), BATCH_LIMIT):
            chunk = record_ids[start : start + BATCH_LIMIT]
            response = self.client.request(
                "POST",
                "/crm/v3/objects/contacts/batch/read",
                {"properties": contact_properties(mapping), "inputs": [{"id": contact_id} for contact_id in chunk]},
            )
            if response.status not in (200, 207) or not isinstance(response.body, dict):
                raise CrmUnavailable(f"HubSpot batch read answered {response.status}")
            for item in response.body.get("results", []):
                if isinstance(item, dict) and "id" in item:
                    events += contact_events(item, mapping)
        return events
