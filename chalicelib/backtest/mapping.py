"""A CRM export's columns -> leadscore profiles and events (the backtest's column mapping).

A mapping file says which column is the lead's outcome, which columns fill profile fields (with
value translations), which become events, and which are left out on purpose (leakage: fields
sales fill in after contact). Events happen at the backtest's `as_of` instant, as an export has
no activity dates: the backtest measures ranking, not decay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.events import LeadEvent
from chalicelib.domain.profile import Profile

PROFILE_FIELDS = frozenset(Profile.model_fields) - {"tech_stack"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomeColumn(_Strict):
    column: str
    won: list[str] = Field(min_length=1, description="cell values meaning the lead converted")


class ProfileColumn(_Strict):
    column: str
    values: dict[str, str | None] = Field(default_factory=dict, description="translations; null drops")


class EventColumn(_Strict):
    """One column -> events: `type` (one event when the cell is not blank, or only for the `when`
    values), `types` (the cell value chooses the event type), or `repeat` (the cell is a count)."""

    column: str
    type: str | None = None
    types: dict[str, str] | None = None
    when: list[str] | None = None
    repeat: bool = False
    max_repeat: int = Field(default=30, gt=0)
    per: float = Field(default=1, gt=0, description="with repeat: one event per this much of the value")
    property: str | None = Field(default=None, description="the cell value is stored under this property")
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> EventColumn:
        if (self.type is None) == (self.types is None):
            raise ValueError("give either type or types")
        if self.repeat and self.types is not None:
            raise ValueError("repeat needs a single type")
        return self


class ExportMapping(_Strict):
    name: str
    id_column: str
    outcome: OutcomeColumn
    blank: list[str] = Field(default_factory=lambda: [""], description="cell values meaning no answer")
    left_out: dict[str, str] = Field(default_factory=dict, description="column -> why it is not used")
    profile: dict[str, ProfileColumn] = Field(default_factory=dict)
    events: list[EventColumn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ExportMapping:
        unknown = set(self.profile) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"unknown profile fields {sorted(unknown)}; known: {sorted(PROFILE_FIELDS)}")
        used = {self.outcome.column} | {c.column for c in self.profile.values()} | {e.column for e in self.events}
        leaking = used & set(self.left_out)
        if leaking:
            raise ValueError(f"columns both used and left out: {sorted(leaking)}")
        return self

    def columns(self) -> set[str]:
        return (
            {self.id_column, self.outcome.column}
            | {c.column for c in self.profile.values()}
            | {e.column for e in self.events}
        )


def load_mapping(path: str | Path) -> ExportMapping:
    return ExportMapping.model_validate(yaml.safe_load(Path(path).read_text()))


@dataclass(frozen=True)
class ExportedLead:
    lead_id: str
    profile: Profile
    events: list[LeadEvent]
    won: bool


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def to_leads(rows: Iterable[Mapping[str, str]], mapping: ExportMapping, as_of: datetime) -> Iterable[ExportedLead]:
    blank = set(mapping.blank)
    for position, row in enumerate(rows):
        lead_id = row.get(mapping.id_column) or f"row-{position}"
        fields: dict[str, Any] = {}
        for field, spec in mapping.profile.items():
            value: str | None = row.get(spec.column, "")
            if value in blank:
                continue
            value = spec.values.get(value, value) if value is not None else None
            if value is not None:
                fields[field] = value
        events: list[LeadEvent] = []
        for number, event_spec in enumerate(mapping.events):
            events += _events(row.get(event_spec.column, ""), event_spec, blank, f"{lead_id}-{number}", as_of)
        won = row.get(mapping.outcome.column, "") in mapping.outcome.won
        yield ExportedLead(lead_id, Profile(**fields), events, won)


def _events(cell: str, spec: EventColumn, blank: set[str], prefix: str, as_of: datetime) -> list[LeadEvent]:
    if cell in blank or (spec.when is not None and cell not in spec.when):
        return []
    event_type = spec.type if spec.types is None else spec.types.get(cell)
    if event_type is None:
        return []
    properties = dict(spec.properties)
    if spec.property:
        number = _number(cell)
        properties[spec.property] = cell if number is None else number
    count = 1
    if spec.repeat:
        number = _number(cell)
        count = min(int(number // spec.per), spec.max_repeat) if number and number > 0 else 0
    return [
        LeadEvent(
            event_id=f"{prefix}-{index}", source="backtest", type=event_type, occurred_at=as_of, properties=properties
        )
        for index in range(count)
    ]
