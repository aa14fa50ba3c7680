"""Pipedrive persons read through the API for the import (every person) and the reconciliation
(persons changed since the last run): `GET /v2/persons`, 500 a page, oldest change first, with
Pipedrive's cursor. Each person is its profile event, named by the person and the time it last
changed, so a person seen again unchanged (by webhook, import or reconciliation) adds nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.events import LeadEvent, parse_instant
from chalicelib.sources.pipedrive_records import person_event, record_id, when

from ..pacing import CrmCalls, PacedReader
from ..ports import Cursor, RecordPage

PAGE_SIZE = 500


class PipedrivePersons(PacedReader):
    name = "pipedrive"

    def __init__(self, calls: CrmCalls) -> None:
        self.calls = calls

    def first_cursor(self, since: str | None) -> Cursor:
        return {"since": since, "cursor": None}

    def total(self, since: str | None) -> int | None:
        return None  # Pipedrive's v2 lists do not count

    def page(self, cursor: Cursor) -> RecordPage:
        query: dict[str, Any] = {"limit": PAGE_SIZE, "sort_by": "update_time", "sort_direction": "asc"}
        since = parse_instant(cursor.get("since"))
        if since is not None:
            query["updated_since"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")  # RFC 3339, as v2 takes it
        if cursor.get("cursor"):
            query["cursor"] = cursor["cursor"]
        body = self.calls.request("GET", f"/v2/persons?{urlencode(query)}")
        people = body.get("data") if isinstance(body, dict) else None
        events = [event for person in people or [] if isinstance(person, dict) and (event := _event(person))]
        following = ((body or {}).get("additional_data") or {}).get("next_cursor") if isinstance(body, dict) else None
        next_cursor = {"since": cursor.get("since"), "cursor": following} if following else None
        return RecordPage(events=events, records=len(people or []), next_cursor=next_cursor)


def _event(person: dict[str, Any]) -> LeadEvent | None:
    person_id = record_id(person.get("id"))
    changed = when(person.get("update_time")) or when(person.get("add_time"))
    if person_id is None or changed is None or person.get("is_deleted") is True:
        return None
    return person_event(person, f"person-{person_id}-{int(changed.timestamp())}", changed)
