"""The person fields leadscore writes in Pipedrive, by name: custom fields are addressed by a
40-character key Pipedrive makes when the field is created, so the keys are read by name
(`GET /v1/personFields`) and `crm setup pipedrive` creates what is missing
(`POST /v1/personFields`). A field that exists (same name) is fine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..pacing import CrmCalls

PAGE = 500


@dataclass(frozen=True)
class PersonField:
    value: str  # what the write-back writes into it: score, tier, grade, reasons
    name: str
    field_type: str  # Pipedrive's: double, varchar (255), text (long)


FIELDS = (
    PersonField("score", "Lead score", "double"),
    PersonField("tier", "Lead tier", "varchar"),
    PersonField("grade", "Lead grade", "varchar"),
    PersonField("reasons", "Lead score reasons", "text"),
)


def _pages(calls: CrmCalls, wait_out: bool) -> Iterator[dict[str, Any]]:
    start = 0
    while True:
        body = calls.request("GET", f"/v1/personFields?start={start}&limit={PAGE}", wait_out=wait_out)
        items = body.get("data") if isinstance(body, dict) else None
        yield from (item for item in items or [] if isinstance(item, dict))
        pagination = ((body or {}).get("additional_data") or {}).get("pagination") or {}
        if not pagination.get("more_items_in_collection"):
            return
        start = int(pagination.get("next_start") or start + PAGE)


def field_keys(calls: CrmCalls, wait_out: bool = True) -> dict[str, str]:
    """Our value (score, tier ...) -> the key of the person field of that name, for those that exist."""
    by_name = {str(item.get("name", "")).strip().casefold(): str(item["key"]) for item in _pages(calls, wait_out)
               if item.get("key")}  # fmt: skip
    return {field.value: by_name[field.name.casefold()] for field in FIELDS if field.name.casefold() in by_name}


def create_fields(calls: CrmCalls) -> list[str]:
    """Create the missing fields; one line per field saying what was done."""
    existing = field_keys(calls)
    lines = []
    for field in FIELDS:
        if field.value in existing:
            lines.append(f"exists   person field {field.name!r} ({existing[field.value]})")
            continue
        body = calls.request("POST", "/v1/personFields", {"name": field.name, "field_type": field.field_type})
        key = ((body or {}).get("data") or {}).get("key", "?") if isinstance(body, dict) else "?"
        lines.append(f"created  person field {field.name!r} ({field.field_type}, key {key})")
    return lines
