"""Accounts in memory: the account states, and their contacts ranked from the lead entries (what
GSI by_account holds on DynamoDB)."""

from __future__ import annotations

import json
from dataclasses import replace

from chalicelib.domain.account_card import ContactRank
from chalicelib.domain.account_rules import ACCOUNT_ATTRIBUTES
from chalicelib.storage.account_ports import AccountPage, AccountState, RankedAccount
from chalicelib.storage.listing import display_name
from chalicelib.storage.ports import VersionConflict

from .state import LeadEntry, MemoryState


class MemoryAccounts:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def ranked(self, key: str, limit: int) -> RankedAccount:
        contacts = self._contacts(key)
        return RankedAccount(self.get(key), contacts[:limit], len(contacts) > limit)

    def get(self, key: str) -> AccountState | None:
        with self.state.lock:
            found = self.state.accounts.get(key)
            return replace(found, profile=dict(found.profile), profile_at=dict(found.profile_at)) if found else None

    def get_many(self, keys: list[str]) -> dict[str, AccountState]:
        found = {key: self.get(key) for key in set(keys)}
        return {key: state for key, state in found.items() if state is not None}

    def save(self, state: AccountState) -> int:
        with self.state.lock:
            current = self.state.accounts.get(state.key)
            if (current.version if current else 0) != state.version:
                raise VersionConflict(state.key)
            self.state.accounts[state.key] = replace(state, version=state.version + 1, profile=dict(state.profile))
            return state.version + 1

    def contacts(self, key: str, cursor: str | None, limit: int) -> tuple[list[ContactRank], str | None]:
        start = _offset(cursor)
        contacts = self._contacts(key)
        following = start + limit
        return contacts[start:following], (str(following) if following < len(contacts) else None)

    def leaderboard(self, tiers: list[str], cursor: str | None, limit: int) -> AccountPage:
        start = _offset(cursor)
        with self.state.lock:
            scored = [state for state in self.state.accounts.values() if state.card and state.card.tier in tiers]
        scored.sort(key=lambda state: (tiers.index(state.card.tier), -state.card.score))  # type: ignore[union-attr]
        following = start + limit
        return AccountPage(scored[start:following], str(following) if following < len(scored) else None)

    def _contacts(self, key: str) -> list[ContactRank]:
        with self.state.lock:
            found = [_rank(entry) for entry in self.state.leads.values()
                     if entry.record.account == key and entry.record.card and not entry.record.merged_into]  # fmt: skip
        return sorted(found, key=lambda contact: -contact.engagement)


def _rank(entry: LeadEntry) -> ContactRank:
    record = entry.record
    assert record.card is not None
    profile = json.loads(record.profile_json or "{}")
    reasons = record.card.reasons()
    return ContactRank(
        lead_id=record.lead_id,
        engagement=round(record.card.engagement, 2),
        name=display_name(profile) or None,
        email=profile.get("email"),
        score=record.card.score,
        tier=record.card.tier,
        reason=reasons[0] if reasons else None,
        last_active_at=None,
        firm={name: profile[name] for name in sorted(ACCOUNT_ATTRIBUTES) if profile.get(name) not in (None, "", [])},
    )


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise ValueError("not a cursor this list handed out")
    return int(cursor)
