"""The canonical event types the adapters emit themselves, whatever the rules file maps: a form's
kind, a page or screen view, the CRM's email events. `rules validate` counts these as reachable
next to the tracking names under `engagement.event_types`."""

from __future__ import annotations

from chalicelib.crm.hubspot.email_events import TYPES as HUBSPOT_EMAIL_TYPES
from chalicelib.sources.form_fields import KNOWN_KINDS

EMITTED_TYPES: frozenset[str] = frozenset(
    {
        "page_view",  # Segment / RudderStack page calls
        "screen_view",  # ... and screen calls
        "form_submitted",  # a form whose name says nothing more
        "unsubscribe",  # HubSpot email subscription changes
        *KNOWN_KINDS,
        *HUBSPOT_EMAIL_TYPES.values(),
    }
)
