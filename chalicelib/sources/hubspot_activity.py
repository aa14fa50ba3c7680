"""HubSpot activity properties -> engagement events, as the rules' `crm_activity.hubspot` maps them.

A contact's activity lives in date properties that HubSpot overwrites with the latest occurrence
(`hs_email_last_open_date`, `recent_conversion_date` ...). Each date seen becomes one event whose
id is the contact, the event type and the date, so a webhook, the import and the reconciliation that all see
the same date store it once; `first_conversion_date` and `recent_conversion_date` on a contact
with one conversion are the same event too. Sibling properties give the context: the form's
name, the email's name (the message key, so "then +N" counts per email), the page's URL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.crm_activity import FORM, CrmActivity, HubSpotActivity
from chalicelib.domain.events import from_us, instant_or_none, to_us

from .form_fields import submission_kind

SOURCE = "hubspot"


def activity_events(
    contact_id: str,
    values: Mapping[str, Any],
    mapping: CrmActivity,
    changed_at: datetime,
    changed: Collection[str] | None = None,
    email: str | None = None,
) -> list[LeadEvent]:
    """The events `values` (a contact's properties, or a delivery's changes to them) record.
    `changed`: only these properties changed (a webhook); None: a snapshot, read every one.
    `changed_at` is when a flag property (`when`) changed, since its value holds no time."""
    events: list[LeadEvent] = []
    identities = Identities(hubspot_id=contact_id, email=email or None)
    for item in mapping.hubspot:
        if changed is not None and item.property not in changed:
            continue
        found = _event(item, values, changed_at)
        if found is None:
            continue
        event_id, occurred_at, event_type, properties = found
        events.append(
            LeadEvent(
                event_id=f"{contact_id}:{event_id}",  # ids are unique per delivery, not only per lead
                source=SOURCE,
                type=event_type,
                occurred_at=occurred_at,
                identities=identities,
                properties=properties,
            )
        )
    return events


def missing_context(item_names: Collection[str], values: Mapping[str, Any], mapping: CrmActivity) -> bool:
    """Whether a change to one of `item_names` came without the sibling property that gives it
    its meaning (the form's name, the email's name, the URL): reading the contact would tell more."""
    for item in mapping.hubspot:
        if item.property in item_names:
            for sibling in (item.form_name, item.message, item.url):
                if sibling and values.get(sibling) in (None, ""):
                    return True
    return False


def is_activity(name: str, mapping: CrmActivity) -> bool:
    return any(item.property == name for item in mapping.hubspot)


def _event(
    item: HubSpotActivity, values: Mapping[str, Any], changed_at: datetime
) -> tuple[str, datetime, str, dict[str, Any]] | None:
    raw = property_value(values.get(item.property))
    if raw in (None, ""):
        return None
    if item.when is not None:
        if item.when != "*" and str(raw).strip().casefold() != item.when.casefold():
            return None
        # A flag holds no time: the event is once per lead (an unsubscribe is not repeated).
        event_id, occurred_at = f"{item.event}:{item.property}", changed_at
    else:
        instant = instant_or_none(raw)
        if instant is None:
            return None  # not a date: a property we cannot read is not an activity
        # To the millisecond, as HubSpot stamps them: two properties with the same instant (a reply's
        # marketing and sales dates) are one activity, with one time.
        milliseconds = to_us(instant) // 1000
        event_id, occurred_at = f"{item.event}:{milliseconds}", from_us(milliseconds * 1000)
    properties: dict[str, Any] = {"crm_property": item.property}
    event_type = item.event
    if item.event == FORM:
        form_name = str(property_value(values.get(item.form_name)) or "") if item.form_name else ""
        event_type, extra = submission_kind(form_name)
        properties.update(form_name=form_name, **extra)
    if item.message and property_value(values.get(item.message)) not in (None, ""):
        properties["message_id"] = str(property_value(values[item.message]))
    if item.url and property_value(values.get(item.url)) not in (None, ""):
        properties["url"] = str(property_value(values[item.url]))
    if item.event == "email_bounce":
        properties["bounce_type"] = "hard"
    return event_id, occurred_at, event_type, properties


def property_value(value: Any) -> Any:
    # Legacy v1 contact JSON wraps each property as {"value": ...}.
    return value.get("value") if isinstance(value, dict) else value
