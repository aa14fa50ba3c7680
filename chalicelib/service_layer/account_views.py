"""`GET /accounts` (the leaderboard: scored accounts, highest tier and score first, a page at a
time from an index, never a Scan) and `GET /accounts/{key}` (the card with its reasons, and the
contacts most engaged first, with their scores and last activity)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.account_card import ContactRank
from chalicelib.domain.accounts import VIA, AccountRef
from chalicelib.domain.rules import Rules
from chalicelib.storage.account_ports import AccountState
from chalicelib.storage.ports import Storage

from .errors import ClientError


class AccountsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = None
    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=100)


class ContactsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=25, ge=1, le=100)


class AccountViews:
    def __init__(self, storage: Storage, rules: Callable[[], Rules]) -> None:
        self.storage = storage
        self.rules = rules

    def accounts(self, params: Mapping[str, str]) -> dict[str, Any]:
        query = AccountsQuery.model_validate(dict(params))
        accounts = self.rules().accounts
        known = [tier.name for tier in reversed(accounts.tiers)] if accounts else []
        if query.tier is not None and query.tier not in known:
            raise ClientError(f"tier must be one of {', '.join(known) or '(no accounts: section)'}", field="tier")
        tiers = [query.tier] if query.tier else known
        try:
            page = self.storage.accounts.leaderboard(tiers, query.cursor, query.limit)
        except ValueError as exc:
            raise ClientError(str(exc), field="cursor") from exc
        return {"accounts": [_row(state) for state in page.accounts], "cursor": page.cursor, "tiers": known}

    def account(self, key: str, params: Mapping[str, str]) -> dict[str, Any] | None:
        query = ContactsQuery.model_validate(dict(params))
        found = account_key(key)
        state = self.storage.accounts.get(found)
        try:
            contacts, cursor = self.storage.accounts.contacts(found, query.cursor, query.limit)
        except ValueError as exc:
            raise ClientError(str(exc), field="cursor") from exc
        if state is None and not contacts:
            return None
        state = state or AccountState(found, name=found.partition(":")[2])
        card = state.card
        return {
            **_row(state),
            "profile": state.profile,
            "card": card.model_dump(mode="json") if card else None,
            "write_back": state.crm,
            "contacts": [_contact(contact) for contact in contacts],
            "cursor": cursor,
        }


def lead_account_view(found: AccountRef, state: AccountState | None) -> dict[str, Any]:
    """A lead's account as its page shows it: how it is known, and its score and tier once rolled up."""
    return {**found.as_json(), "name": (state.name if state else None) or found.name, **_standing(state)}


def account_cells(storage: Storage, keys: list[str | None]) -> dict[str, dict[str, Any]]:
    """The accounts of a page of leads, with their score and tier: one batch read."""
    wanted = sorted({key for key in keys if key})
    states = storage.accounts.get_many(wanted) if wanted else {}
    cells = {}
    for key in wanted:
        state = states.get(key)
        cells[key] = {"key": key, "name": (state.name if state else None) or key.partition(":")[2], **_standing(state)}
    return cells


def _standing(state: AccountState | None) -> dict[str, Any]:
    card = state.card if state else None
    return {"score": card.score if card else None, "tier": card.tier if card else None}


def account_key(key: str) -> str:
    """`hubspot:ID`, `salesforce:ID`, `group:ID`, `domain:NAME` or `company:NAME` (the key is the
    account's internal id); a domain's case does not matter."""
    kind, colon, value = key.strip().partition(":")
    if not colon or kind not in VIA or not value or len(key) > 300:
        raise ClientError(f"an account is {', '.join(f'{kind}:ID' for kind in VIA)}", field="key")
    return f"{kind}:{value.casefold() if kind == 'domain' else value}"


def _row(state: AccountState) -> dict[str, Any]:
    card = state.card
    kind, _, value = state.key.partition(":")
    return {
        "key": state.key,
        "id": value,
        "via": VIA.get(kind, kind),
        "name": state.name,
        "score": card.score if card else None,
        "tier": card.tier if card else None,
        "fit": card.fit if card else None,
        "engagement": card.engagement if card else None,
        "breadth": card.breadth if card else None,
        "engaged_contacts": card.engaged_contacts if card else None,
        "engaged_more": card.engaged_more if card else False,
        "reasons": card.reasons() if card else [],
        "scored_at": card.scored_at.isoformat() if card else None,
    }


def _contact(contact: ContactRank) -> dict[str, Any]:
    return {
        "lead_id": contact.lead_id,
        "name": contact.name,
        "email": contact.email,
        "score": contact.score,
        "tier": contact.tier,
        "engagement": contact.engagement,
        "reason": contact.reason,
        "last_active_at": contact.last_active_at,
    }
