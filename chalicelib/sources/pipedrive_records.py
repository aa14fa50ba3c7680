"""Pipedrive records as leadscore reads them, whether a webhook carried them (v1 `current`, v2
`data`) or the API returned them (v1 and v2 `GET /persons`): a person is a profile (and its
`pipedrive:ID` key), an organization an account, a done activity, a lead or a deal created is
engagement, a deal won or lost an outcome.

The shapes differ by version and the code takes both: v1 sends `email`/`phone` as lists of
`{value, primary}` and may send `org_id`/`owner_id`/`person_id` as objects (`{"value": 5, "name":
"Acme"}`), v2 sends `emails`/`phones` and plain integers; ids are numbers in records and strings in
`meta` (leads' ids are UUIDs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import instant_or_none
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.service_layer.commands import CompanyChange

SOURCE = "pipedrive"
WON, LOST = "closed won", "closed lost"  # the lead statuses the outcome reports read (outcomes.py)


def record_id(value: Any) -> str | None:
    """An id as sent: a number, a string, or v1's `{"value": 5, ...}` (`{"id": 5}` for users)."""
    if isinstance(value, Mapping):
        value = value.get("value", value.get("id"))
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _primary(values: Any) -> str | None:
    """The primary entry of `[{value, primary}]` (or a plain list of strings, or one string)."""
    if isinstance(values, str):
        return _text(values)
    if not isinstance(values, list):
        return None
    entries = [item for item in values if isinstance(item, (Mapping, str))]
    entries.sort(key=lambda item: not (isinstance(item, Mapping) and item.get("primary")))
    for item in entries:
        found = _text(item.get("value")) if isinstance(item, Mapping) else _text(item)
        if found:
            return found
    return None


def when(value: Any) -> datetime | None:
    """Pipedrive's times: `2025-02-17 21:26:58` (v1, UTC), ISO 8601 (v2), epoch seconds (meta)."""
    try:
        return instant_or_none(value if not isinstance(value, str) else value.strip() or None)
    except (ValueError, TypeError, OverflowError):
        return None


def person_identities(person: Mapping[str, Any]) -> Identities:
    email = _primary(person.get("emails")) or _primary(person.get("email"))
    return Identities(pipedrive_id=record_id(person.get("id")), email=email if email and "@" in email else None)


def person_profile(person: Mapping[str, Any]) -> dict[str, Any]:
    identities = person_identities(person)
    org = person.get("org_id")
    company = _text(person.get("org_name")) or (_text(org.get("name")) if isinstance(org, Mapping) else None)
    found = {
        "email": identities.email,
        "first_name": _text(person.get("first_name")),
        "last_name": _text(person.get("last_name")),
        "job_title": _text(person.get("job_title")),
        "phone": _primary(person.get("phones")) or _primary(person.get("phone")),
        "company": company,
        "pipedrive_org_id": record_id(org),
        "pipedrive_owner_id": record_id(person.get("owner_id")),
    }
    return {name: value for name, value in found.items() if value is not None}


def person_event(person: Mapping[str, Any], event_id: str, at: datetime) -> LeadEvent | None:
    identities = person_identities(person)
    if identities.pipedrive_id is None:
        return None
    changed = when(person.get("update_time")) or when(person.get("add_time")) or at
    return LeadEvent(event_id=event_id, source=SOURCE, type=PROFILE_EVENT, occurred_at=changed, identities=identities,
                     properties={"profile": person_profile(person)})  # fmt: skip


def organization_change(org: Mapping[str, Any], org_id: str, at: datetime, created: bool) -> CompanyChange:
    address = org.get("address")
    country = _text(address.get("country")) if isinstance(address, Mapping) else _text(org.get("address_country"))
    profile = {"company": _text(org.get("name")), "country": country}
    return CompanyChange(key=f"{SOURCE}:{org_id}", at=at, created=created,
                         profile={name: value for name, value in profile.items() if value})  # fmt: skip


def _person_of(record: Mapping[str, Any]) -> str | None:
    """The person an activity, lead or deal is for: `person_id`, else the primary participant."""
    found = record_id(record.get("person_id"))
    if found:
        return found
    participants = record.get("participants")
    for item in participants if isinstance(participants, list) else []:
        if isinstance(item, Mapping) and (item.get("primary") or item.get("primary_flag")):
            return record_id(item.get("person_id"))
    return None


def activity_event(activity: Mapping[str, Any], mapping: CrmActivity, at: datetime) -> LeadEvent | None:
    """A done activity of a mapped type (call, meeting, email ...) with a person: one event per
    activity, whenever and however often it is seen."""
    if activity.get("done") not in (True, 1, "1", "true") or activity.get("is_deleted") is True:
        return None
    kind = mapping.pipedrive.activities.get(str(activity.get("type") or "").strip().lower())
    person, activity_id = _person_of(activity), record_id(activity.get("id"))
    if kind is None or person is None or activity_id is None:
        return None
    done = when(activity.get("marked_as_done_time")) or when(activity.get("update_time")) or at
    subject = _text(activity.get("subject"))
    properties: dict[str, Any] = {"subject_kind": "activity", "activity_type": str(activity.get("type"))}
    if subject:
        properties["meeting_title" if kind == "meeting_booked" else "subject"] = subject
    return LeadEvent(event_id=f"activity-{activity_id}", source=SOURCE, type=kind, occurred_at=done,
                     identities=Identities(pipedrive_id=person), properties=properties)  # fmt: skip


def created_event(entity: str, record: Mapping[str, Any], mapping: CrmActivity, at: datetime) -> LeadEvent | None:
    """A lead or deal created for a person."""
    kind, person, found = mapping.pipedrive.records.get(entity), _person_of(record), record_id(record.get("id"))
    if kind is None or person is None or found is None:
        return None
    created = when(record.get("add_time")) or at
    properties = {"subject": _text(record.get("title")) or entity, "record": entity}
    return LeadEvent(event_id=f"{entity}-{found}-created", source=SOURCE, type=kind, occurred_at=created,
                     identities=Identities(pipedrive_id=person), properties=properties)  # fmt: skip


def deal_outcome(deal: Mapping[str, Any], before: Mapping[str, Any] | None, at: datetime) -> LeadEvent | None:
    """A deal's status moved (to won, to lost, or back to open): the person's outcome. `before`:
    what the delivery says the status was (v2's `previous` holds only changed fields)."""
    status = str(deal.get("status") or "").lower()
    was = str(before.get("status") or "").lower() if before and "status" in before else None
    person, deal_id = _person_of(deal), record_id(deal.get("id"))
    if person is None or deal_id is None or was is None or was == status:
        return None  # no status in `before`: the status did not change
    if status not in ("won", "lost", "open") or (status == "open" and was not in ("won", "lost")):
        return None
    lead_status = {"won": WON, "lost": LOST}.get(status, "open deal")
    moved = when(deal.get(f"{status}_time")) or when(deal.get("update_time")) or at
    properties = {"profile": {"lead_status": lead_status}, "deal": _text(deal.get("title"))}
    return LeadEvent(event_id=f"deal-{deal_id}-{status}-{int(moved.timestamp())}", source=SOURCE, type=PROFILE_EVENT,
                     occurred_at=moved, identities=Identities(pipedrive_id=person), properties=properties)  # fmt: skip
