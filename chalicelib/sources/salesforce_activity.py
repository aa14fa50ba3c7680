"""Salesforce records that are engagement, as the rules' `crm_activity.salesforce` maps them:
CampaignMember (by the campaign's Type and the member's Status), completed Task (by
TaskSubtype) and Event on a Lead or Contact. Shared by the outbound-message webhook and the
record reader; event ids come from the record, so both store the same activity once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import instant_or_none

SOURCE = "salesforce"
WHO_PREFIXES = ("00Q", "003")  # Lead and Contact ids; a Task's WhoId may be neither


def campaign_member_event(
    fields: Mapping[str, Any], campaign_type: str | None, mapping: CrmActivity, received_at: datetime
) -> LeadEvent | None:
    """A member's status on a campaign (Registered, Attended, Responded ...). The id holds the
    status, so each step a member takes is one event, however often it is sent."""
    who = _text(fields.get("LeadId")) or _text(fields.get("ContactId"))
    member_id, status = _text(fields.get("Id")), _text(fields.get("Status")) or ""
    if not who or not member_id:
        return None
    responded = (_text(fields.get("HasResponded")) or "").lower() == "true"
    kind = (campaign_type or "").casefold()
    for entry in mapping.salesforce.campaign_members:
        if entry.campaign_type and kind not in {name.casefold() for name in entry.campaign_type}:
            continue
        if entry.status and status.casefold() not in {name.casefold() for name in entry.status}:
            continue
        if entry.responded is not None and entry.responded != responded:
            continue
        when = _instant(fields.get("FirstRespondedDate") if responded else None) or _instant(
            fields.get("LastModifiedDate") or fields.get("CreatedDate")
        )
        return LeadEvent(
            event_id=f"{member_id}:{status or 'member'}",
            source=SOURCE,
            type=entry.event,
            occurred_at=when or received_at,
            identities=Identities(salesforce_id=who),
            properties={
                "campaign_id": _text(fields.get("CampaignId")) or "",
                "campaign_type": campaign_type or "",
                "status": status,
                "message_id": _text(fields.get("CampaignId")) or "",
            },
        )
    return None


def task_event(fields: Mapping[str, Any], mapping: CrmActivity, received_at: datetime) -> LeadEvent | None:
    """A completed Task (a logged email, a call) on a Lead or Contact."""
    if (_text(fields.get("Status")) or "").casefold() != "completed" and (
        _text(fields.get("IsClosed")) or ""
    ).lower() != "true":
        return None
    kind = _lookup(mapping.salesforce.tasks, fields.get("TaskSubtype"), fields.get("Type"))
    when = _instant(fields.get("CompletedDateTime")) or _instant(fields.get("ActivityDate"))
    return _activity(fields, kind, when or _instant(fields.get("LastModifiedDate")) or received_at, "task")


def calendar_event(fields: Mapping[str, Any], mapping: CrmActivity, received_at: datetime) -> LeadEvent | None:
    """An Event (a meeting) with a Lead or Contact."""
    kind = _lookup(mapping.salesforce.events, fields.get("Type"), fields.get("EventSubtype"))
    when = _instant(fields.get("StartDateTime")) or _instant(fields.get("ActivityDateTime"))
    return _activity(fields, kind, when or _instant(fields.get("CreatedDate")) or received_at, "event")


def _activity(fields: Mapping[str, Any], kind: str | None, when: datetime, what: str) -> LeadEvent | None:
    who, record_id = _text(fields.get("WhoId")), _text(fields.get("Id"))
    if kind is None or not who or not record_id or not who.startswith(WHO_PREFIXES):
        return None
    return LeadEvent(
        event_id=f"{what}-{record_id}",
        source=SOURCE,
        type=kind,
        occurred_at=when,
        identities=Identities(salesforce_id=who),
        properties={"subject_kind": what, "message_id": f"{what}-{record_id}"},
    )


def _lookup(table: Mapping[str, str], *candidates: Any) -> str | None:
    folded = {name.casefold(): event for name, event in table.items()}
    for candidate in candidates:
        text = _text(candidate)
        if text and text.casefold() in folded:
            return folded[text.casefold()]
    return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _instant(value: Any) -> datetime | None:
    return instant_or_none(_text(value))
