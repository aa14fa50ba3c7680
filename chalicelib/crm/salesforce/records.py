"""Every Salesforce Lead and Contact, and the engagement recorded on CampaignMember, Task and
Event, through the REST query API: `GET /services/data/vXX.X/query?q=SOQL`, then each
`nextRecordsUrl` (2,000 records a page by default). One object after the other; the cursor says
which object and page come next.

A CampaignMember's campaign Type is read in the same query (`Campaign.Type`, a relationship
field), so the import needs no lookup per campaign.

Merges: Salesforce deletes the losers of a merge and sets their `MasterRecordId` to the winner
(Apex merge semantics), and a converted Lead names its Contact (`ConvertedContactId`). The
reconciliation reads both: deleted records through `queryAll` (which alone returns them), and
converted Leads; each is a merge of the records' leads under the winner (record_merges.py). The
import skips the deleted ones: it reads only live records, so no lead of a loser exists to unite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from chalicelib.domain import LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import EPOCH, instant_or_none, parse_instant
from chalicelib.service_layer.commands import RecordMerge
from chalicelib.sources.salesforce import CONTACT_ONLY, FIELD_MAP, record_profile_event
from chalicelib.sources.salesforce_activity import calendar_event, campaign_member_event, task_event

from ..pacing import CrmCalls, PacedReader
from ..ports import Cursor, RecordPage

API = "/services/data/v60.0"
PROFILE_FIELDS = ", ".join(["Id", "LastModifiedDate", *(name for name in FIELD_MAP if name not in CONTACT_ONLY)])
OBJECTS: list[tuple[str, str, str]] = [
    ("Lead", f"SELECT {PROFILE_FIELDS}, IsConverted FROM Lead", "LastModifiedDate"),
    (
        "Contact",
        "SELECT Id, LastModifiedDate, Email, FirstName, LastName, Title, LeadSource, OwnerId, AccountId FROM Contact",
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
    ("LeadConversion", "SELECT Id, ConvertedContactId, ConvertedDate, LastModifiedDate FROM Lead"
                       " WHERE IsConverted = true AND ConvertedContactId != null", "LastModifiedDate"),
    ("LeadMerge", "SELECT Id, MasterRecordId, LastModifiedDate FROM Lead WHERE IsDeleted = true"
                  " AND MasterRecordId != null", "LastModifiedDate"),
    ("ContactMerge", "SELECT Id, MasterRecordId, LastModifiedDate FROM Contact WHERE IsDeleted = true"
                     " AND MasterRecordId != null", "LastModifiedDate"),
]  # fmt: skip
DELETED = {"LeadMerge", "ContactMerge"}  # read with queryAll, by the reconciliation only


class SalesforceRecordReader(PacedReader):
    name = "salesforce"

    def __init__(self, calls: CrmCalls, mapping: Callable[[], CrmActivity]) -> None:
        """`mapping`: the rules in force's (read per page, so a new rules version applies)."""
        self.calls = calls
        self.mapping = mapping

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
        if sobject in DELETED and since is None:
            body: Any = {"records": [], "done": True}
        elif cursor.get("next"):
            body = self.calls.request("GET", str(cursor["next"]))
        else:
            endpoint = "queryAll" if sobject in DELETED else "query"
            body = self.calls.request("GET", f"{API}/{endpoint}?q={quote(_soql(soql, modified, since))}")
        records = (
            [item for item in (body.get("records") or []) if isinstance(item, dict)] if isinstance(body, dict) else []
        )
        mapping = self.mapping()
        events = [event for record in records for event in record_events(sobject, record, mapping)]
        next_url = body.get("nextRecordsUrl") if isinstance(body, dict) and not body.get("done", True) else None
        next_cursor: Cursor | None
        if next_url:
            next_cursor = {"since": since, "object": index, "next": str(next_url)}
        elif index + 1 < len(OBJECTS):
            next_cursor = {"since": since, "object": index + 1, "next": None}
        else:
            next_cursor = None
        profiles = sum(1 for record in records) if sobject in ("Lead", "Contact") else 0
        merges = [found for record in records if (found := record_merge(sobject, record)) is not None]
        return RecordPage(events=events, records=profiles, next_cursor=next_cursor, merges=merges)


def record_merge(sobject: str, record: dict[str, Any]) -> RecordMerge | None:
    """A merged-away record (its winner) or a converted Lead (its Contact) as a merge."""
    winner_field = {"LeadConversion": "ConvertedContactId", "LeadMerge": "MasterRecordId",
                    "ContactMerge": "MasterRecordId"}.get(sobject)  # fmt: skip
    winner, loser = record.get(winner_field or ""), record.get("Id")
    if not winner_field or not isinstance(winner, str) or not isinstance(loser, str) or winner == loser:
        return None
    at = instant_or_none(record.get("ConvertedDate")) or instant_or_none(record.get("LastModifiedDate")) or EPOCH
    return RecordMerge("salesforce", winner, (loser,), at)


def record_events(sobject: str, record: dict[str, Any], mapping: CrmActivity) -> list[LeadEvent]:
    """One query result (its own fields; `Campaign.Type` for a member) as canonical events."""
    if sobject in ("LeadConversion", *DELETED):
        return []  # merges, not events
    fields, modified = _own_fields(record), instant_or_none(record.get("LastModifiedDate")) or EPOCH
    if sobject in ("Lead", "Contact"):
        return [record_profile_event(fields, sobject, modified)]
    if sobject == "CampaignMember":
        found = campaign_member_event(fields, _campaign_type(record), mapping, modified)
    elif sobject == "Task":
        found = task_event(fields, mapping, modified)
    else:
        found = calendar_event(fields, mapping, modified)
    return [found] if found is not None else []


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


def _own_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Query results carry `attributes` and nested relationships: keep the record's own fields."""
    return {name: value for name, value in record.items() if name != "attributes" and not isinstance(value, dict)}


def _campaign_type(record: dict[str, Any]) -> str | None:
    campaign = record.get("Campaign")
    value = campaign.get("Type") if isinstance(campaign, dict) else None
    return str(value) if value else None
