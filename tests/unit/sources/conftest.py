"""The parsers' unit layer: a vendor's payload, signed as the vendor signs it, handed to its
receiver (verify, then parse) as the HTTP entry point would hand it, with no HTTP, storage or
clock of the machine. What the delivery was understood as is read from the parsed events with
the pure domain: the profile and card the lead would have."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.events import LeadEvent
from chalicelib.domain.folding import full_basis
from chalicelib.domain.scoring import card_from_basis
from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import ClientError
from chalicelib.settings import Settings
from chalicelib.sources import load_all
from chalicelib.sources.base import IncomingRequest
from tests.conftest import SECRETS
from tests.signing import BASE

FIXTURES = Path(__file__).parents[2] / "fixtures"
RULES = load_rules_file(DEFAULT_RULES_PATH)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def settings(**overrides: str) -> Settings:
    return Settings.from_env({**SECRETS, **{name.upper(): value for name, value in overrides.items()}})


def receive(
    source: str,
    path: str,
    body: str | bytes,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    at: datetime | None = None,
    config: Settings | None = None,
) -> ParsedDelivery:
    """`source` as the routes name it (`hubspot`, `typeform`, `segment.batch`)."""
    raw = body.encode() if isinstance(body, str) else body
    request = IncomingRequest(
        method="POST",
        url=f"{BASE}{path}",
        headers={name.lower(): value for name, value in (headers or {}).items()},
        body=raw,
        query=dict(query or {}),
        received_at=at or datetime.now(UTC),
    )
    return load_all()[source].receive(request, config or settings(), RULES)


def refused(source: str, path: str, body: str | bytes, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        receive(source, path, body, **kwargs)
    return raised.value


def understood(events: list[LeadEvent], now: datetime | None = None) -> dict[str, Any]:
    """The lead these events make: its identity keys, profile and tier, as GET /leads/{key} shows them."""
    now = now or datetime.now(UTC)
    profile, basis = full_basis(events, RULES, now)
    card = card_from_basis(basis, RULES, now)
    keys = sorted({key for event in events for key in event.identities.as_keys()})
    return {
        "identities": keys, "profile": profile.model_dump(exclude_defaults=True),
        "tier": card.tier, "fit": card.fit, "grade": card.grade, "engagement": card.engagement,
        "points": {item.rule: item.points_now for item in card.contributions
                   if item.kind == "engagement" and item.points_now},
    }  # fmt: skip


def of_lead(events: list[LeadEvent], key: str) -> list[LeadEvent]:
    return [event for event in events if key in event.identities.as_keys()]
