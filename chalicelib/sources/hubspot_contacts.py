"""HubSpot contacts read through the CRM API, as canonical profile events: a webhook names a
contact (`contact.creation`) without its properties, so they are read in one batch."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.events import LeadEvent
from chalicelib.http_client import CrmUnavailable, JsonClient

from .hubspot import CONTACT_PROPERTIES, contact_profile_event

BATCH_LIMIT = 100


class HubSpotContacts:
    """A profile directory (see service.ProfileDirectory) for identity kind `hubspot`."""

    def __init__(self, client: JsonClient) -> None:
        self.client = client

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        """POST /crm/v3/objects/contacts/batch/read, 100 ids a call; unknown ids are simply absent."""
        events: list[LeadEvent] = []
        for start in range(0, len(record_ids), BATCH_LIMIT):
            chunk = record_ids[start : start + BATCH_LIMIT]
            response = self.client.request(
                "POST",
                "/crm/v3/objects/contacts/batch/read",
                {"properties": CONTACT_PROPERTIES, "inputs": [{"id": contact_id} for contact_id in chunk]},
            )
            if response.status not in (200, 207) or not isinstance(response.body, dict):
                raise CrmUnavailable(f"HubSpot batch read answered {response.status}")
            results = response.body.get("results", [])
            events += [contact_profile_event(item) for item in results if isinstance(item, dict) and "id" in item]
        return events
