"""Canonical lead events: what every inbound adapter translates a vendor payload into."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .bounds import MAX_IDENTITY, MAX_TEXT, bounded_event_id, bounded_properties, clean_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_TEXT = re.compile(r"-?\d{9,16}(\.\d+)?")
ONE_US = timedelta(microseconds=1)


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch, exactly: the engine's clock arithmetic is integer, so never off by one."""
    return (instant - EPOCH) // ONE_US


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def iso_z(at: datetime | str) -> str:
    """ISO 8601 UTC with `Z`, the API's one timestamp format (from a datetime or stored ISO text)."""
    instant = datetime.fromisoformat(at) if isinstance(at, str) else at
    return as_utc(instant).isoformat().replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC: vendors that omit the offset (Salesforce, some SDKs) mean UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(value: Any) -> datetime | None:
    """Accept ISO-8601 strings, datetimes, and epoch seconds or milliseconds as numbers or as
    strings of digits (HubSpot's v1 contact JSON sends `"1597052179122"`), as vendors send them all."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        # Epoch milliseconds (HubSpot) are > 1e11; seconds stay below that until year 5138.
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH_TEXT.fullmatch(text):
            return parse_instant(float(text))
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return as_utc(datetime.fromisoformat(text))
    raise ValueError("not a timestamp")


class Identities(BaseModel):
    """Every key a source may know a lead by; identity resolution joins them into one lead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hubspot_id: str | None = None
    salesforce_id: str | None = None
    pipedrive_id: str | None = None
    email: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _identity(value).lower()
        return value or None

    @field_validator("hubspot_id", "salesforce_id", "pipedrive_id", "user_id", "anonymous_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        if value is None or isinstance(value, bool):
            return None
        return _identity(str(value)) or None

    def as_keys(self) -> list[str]:
        """Identity keys, `kind:value`, as `GET /leads/{key}` accepts them."""
        pairs = (
            ("hubspot", self.hubspot_id),
            ("salesforce", self.salesforce_id),
            ("pipedrive", self.pipedrive_id),
            ("email", self.email),
            ("user", self.user_id),
            ("anon", self.anonymous_id),
        )
        return [f"{kind}:{value}" for kind, value in pairs if value]


class LeadEvent(BaseModel):
    """One thing a lead did, in the source's own vocabulary of types (mapped by the rules file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    occurred_at: datetime
    identities: Identities = Field(default_factory=Identities)
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_id", mode="after")
    @classmethod
    def _bounded_id(cls, value: str) -> str:
        return bounded_event_id(value)

    @field_validator("type", mode="after")
    @classmethod
    def _shown_type(cls, value: str) -> str:
        """An event name is shown (the unscored report, a card's reasons): no invisible characters."""
        return clean_text(value)[:MAX_TEXT] or value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> datetime:
        instant = parse_instant(value)
        if instant is None:
            raise ValueError("occurred_at is required")
        return instant

    @field_validator("properties")
    @classmethod
    def _typed_properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Type the properties the engine computes with, so rules compare numbers and instants, not
        strings. A value that cannot be read as its type is dropped, not fatal: one odd property
        from a tracker must not lose the event (or its whole batch)."""
        props = bounded_properties(value)
        if "sent_at" in props:
            props["sent_at"] = instant_or_none(props["sent_at"])
        if props.get("duration_seconds") is not None:
            props["duration_seconds"] = _or_none(float, props["duration_seconds"])
        if props.get("message_id") is not None and not isinstance(props["message_id"], (dict, list)):
            props["message_id"] = str(props["message_id"])
        return props


def _identity(text: str) -> str:
    """An identity is a DynamoDB key: refuse one too long to be anybody's (the sender's 400)."""
    text = clean_text(text.strip())
    if len(text) > MAX_IDENTITY:
        raise ValueError(f"an identity is at most {MAX_IDENTITY} characters")
    return text


def instant_or_none(value: Any) -> datetime | None:
    """A vendor's timestamp, or None when it is absent or cannot be read: a field that is not a
    date is no information, never a failure."""
    result: datetime | None = _or_none(parse_instant, value)
    return result


def _or_none(parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
