"""Every Salesforce Lead and Contact, and the engagement recorded on CampaignMember, Task and
Event, through the REST query API: `GET /services/data/vXX.X/query?q=SOQL`, then each
`nextRecordsUrl` (2,000 records a page by default). One object after the other; the cursor says
which object and page come next.

A CampaignMember's campaign Type is read in the same query (`Campaign.Type`, a relationship
field), so the import needs no lookup per campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from chalicelib.domain import LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import EPOCH, parse_instant

from .crm_calls import CrmCalls
from .record_pages import Cursor, RecordPage
from .salesforce import FIELD_MAP, record_profile_event
from .salesforce_activity import calendar_event, campaign_member_event, task_event

API = "/services/data/v60.0"
PROFILE_FIELDS = ", ".join(["Id", "LastModifiedDate", *FIELD_MAP])
OBJECTS: list[tuple[str, str, str]] = [
    ("Lead", f"SELECT {PROFILE_FIELDS}, IsConverted FROM Lead", "LastModifiedDate"),
    (
        "Contact",
        "SELECT Id, LastModifiedDate, Email, FirstName, LastName, Title, LeadSource FROM Contact",
        "LastModifiedDate",
    ),
    (
        "CampaignMember",
        "SELECT Id, CampaignId, Campaign.Type, LeadId, ContactId, Status, HasResponded, FirstRespondedDate,"
        " CreatedDate, LastModifiedDate FROM CampaignMember",
        "LastModifiedDate",
    ),
    (
        "Task",
        "SELECT Id, WhoId, TaskSubtype, Type, Status, IsClosed, CompletedDateTime, ActivityDate, LastModifiedDate"
        " FROM Task WHERE WhoId != null AND IsClosed = true",
        "LastModifiedDate",
    ),
    (
        "Event",
        "SELECT Id, WhoId, Type, EventSubtype, StartDateTime, CreatedDate, LastModifiedDate FROM Event"
        " WHERE WhoId != null",
        "LastModifiedDate",
    ),
]  # fmt: skip


class SalesforceRecordReader:
    name = "salesforce"

    def __init__(self, calls: CrmCalls, mapping: CrmActivity) -> None:
        self.calls = calls
        self.mapping = mapping

    @property
    def calls_made(self) -> int:
        return self.calls.made

    def first_cursor(self, since: str | None) -> Cursor:
        return {"since": since, "object": 0, "next": None}

    def total(self, since: str | None) -> int | None:
        total = 0
        for sobject in ("Lead", "Contact"):
            body = self.calls.request("GET", f"{API}/query?q={quote(_count(sobject, since))}")
            total += int(body.get("totalSize", 0)) if isinstance(body, dict) else 0
        return total

    def page(self, cursor: Cursor) -> RecordPage:
        index, since = int(cursor.get("object", 0)), cursor.get("since")
        sobject, soql, modified = OBJECTS[index]
        if cursor.get("next"):
            body = self.calls.request("GET", str(cursor["next"]))
        else:
            body = self.calls.request("GET", f"{API}/query?q={quote(_soql(soql, modified, since))}")
        records = (
            [item for item in (body.get("records") or []) if isinstance(item, dict)] if isinstance(body, dict) else []
        )
        translate = self._translator(sobject)
        events = [event for record in records for event in translate(record)]
        next_url = body.get("nextRecordsUrl") if isinstance(body, dict) and not body.get("done", True) else None
        next_cursor: Cursor | None
        if next_url:
            next_cursor = {"since": since, "object": index, "next": str(next_url)}
        elif index + 1 < len(OBJECTS):
            next_cursor = {"since": since, "object": index + 1, "next": None}
        else:
            next_cursor = None
        profiles = sum(1 for record in records) if sobject in ("Lead", "Contact") else 0
        return RecordPage(events=events, records=profiles, next_cursor=next_cursor)

    def _translator(self, sobject: str) -> Callable[[dict[str, Any]], list[LeadEvent]]:
        mapping = self.mapping

        def one(event: LeadEvent | None) -> list[LeadEvent]:
            return [event] if event is not None else []

        if sobject in ("Lead", "Contact"):
            return lambda record: [record_profile_event(_flat(record), sobject, _modified(record))]
        if sobject == "CampaignMember":
            return lambda record: one(
                campaign_member_event(_flat(record), _campaign_type(record), mapping, _modified(record))
            )
        if sobject == "Task":
            return lambda record: one(task_event(_flat(record), mapping, _modified(record)))
        return lambda record: one(calendar_event(_flat(record), mapping, _modified(record)))


def _soql(select: str, modified: str, since: str | None) -> str:
    if since is None:
        return f"{select} ORDER BY {modified}"
    joiner = " AND " if " WHERE " in select else " WHERE "
    return f"{select}{joiner}{modified} >= {_soql_datetime(since)} ORDER BY {modified}"


def _count(sobject: str, since: str | None) -> str:
    where = f" WHERE LastModifiedDate >= {_soql_datetime(since)}" if since else ""
    return f"SELECT COUNT() FROM {sobject}{where}"


def _soql_datetime(since: str) -> str:
    instant = parse_instant(since) or EPOCH
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """Query results carry `attributes` and nested relationships: keep the record's own fields."""
    return {name: value for name, value in record.items() if name != "attributes" and not isinstance(value, dict)}


def _campaign_type(record: dict[str, Any]) -> str | None:
    campaign = record.get("Campaign")
    value = campaign.get("Type") if isinstance(campaign, dict) else None
    return str(value) if value else None


def _modified(record: dict[str, Any]) -> datetime:
    try:
        return parse_instant(record.get("LastModifiedDate")) or EPOCH
    except (ValueError, TypeError):
        return EPOCH
