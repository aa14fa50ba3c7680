"""HubSpot CRM API: read contacts in batches (webhooks name a contact without its properties)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.sources.hubspot import CONTACT_PROPERTIES

from .http import CrmUnavailable, JsonClient

BATCH_LIMIT = 100


class HubSpotContacts:
    def __init__(self, client: JsonClient) -> None:
        self.client = client

    def read_contacts(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        """POST /crm/v3/objects/contacts/batch/read, 100 ids a call; unknown ids are simply absent."""
        contacts: list[dict[str, Any]] = []
        for start in range(0, len(contact_ids), BATCH_LIMIT):
            chunk = contact_ids[start : start + BATCH_LIMIT]
            response = self.client.request(
                "POST",
                "/crm/v3/objects/contacts/batch/read",
                {"properties": CONTACT_PROPERTIES, "inputs": [{"id": contact_id} for contact_id in chunk]},
            )
            if response.status not in (200, 207) or not isinstance(response.body, dict):
                raise CrmUnavailable(f"HubSpot batch read answered {response.status}")
            contacts += [item for item in response.body.get("results", []) if isinstance(item, dict) and "id" in item]
        return contacts
