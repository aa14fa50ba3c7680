"""The accounts port: the account item (a company's profile, its card and what the CRM was last
sent) and its contacts ranked by engagement, most engaged first, read a bounded page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.account_card import AccountCard, ContactRank


@dataclass
class AccountState:
    key: str  # `<kind>:<id>` (domain/accounts.py)
    version: int = 0  # 0: not stored yet
    name: str | None = None
    profile: dict[str, Any] = field(default_factory=dict)  # the company's own properties (its CRM record)
    profile_at: dict[str, str] = field(default_factory=dict)  # when each was set: an older change never wins
    card: AccountCard | None = None
    crm: dict[str, Any] | None = None  # what the last write-back wrote: visible, when, each CRM's status
    gone: str | None = None  # "deleted", or "merged into <key>": its contacts move, it is scored no more

    @property
    def crm_visible(self) -> list[Any] | None:
        return self.crm.get("visible") if self.crm else None


@dataclass(frozen=True)
class RankedAccount:
    account: AccountState | None  # None: no account item yet
    contacts: list[ContactRank]  # most engaged first
    more: bool  # it has contacts beyond these


@dataclass(frozen=True)
class AccountPage:
    accounts: list[AccountState]
    cursor: str | None


class Accounts(Protocol):
    def ranked(self, key: str, limit: int) -> RankedAccount:
        """The account item and its `limit` most engaged contacts, in one read."""
        ...

    def get(self, key: str) -> AccountState | None: ...

    def get_many(self, keys: list[str]) -> dict[str, AccountState]:
        """The stored accounts of these keys (one batch read; the missing ones absent)."""
        ...

    def save(self, state: AccountState) -> int:
        """Store `state` if the stored version is still `state.version` (VersionConflict if not);
        returns the new version."""
        ...

    def contacts(self, key: str, cursor: str | None, limit: int) -> tuple[list[ContactRank], str | None]:
        """A page of the account's contacts, most engaged first."""
        ...

    def leaderboard(self, tiers: list[str], cursor: str | None, limit: int) -> AccountPage:
        """Scored accounts, the highest `tiers` first and by score within each (no Scan)."""
        ...
