"""The accounts' own CRM records (HubSpot company webhooks): a property an account is scored on
is kept on the account (an older change never overwrites a newer one) and the account is rolled
up again; a company deleted or merged moves its contacts (`MoveContacts`, off the webhook's
clock): each gets a profile change naming its new company (the merge's survivor, or none: its
next account by group or email domain), so no contact loses its score or stays behind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.events import as_utc, to_us
from chalicelib.domain.profile import PROFILE_EVENT, Profile
from chalicelib.domain.recycle import SOURCE  # the events leadscore itself adds to a lead
from chalicelib.errors import Contended
from chalicelib.storage.account_ports import AccountState
from chalicelib.storage.ports import Storage, StoredEvent, VersionConflict

from .commands import CompanyChange
from .messages import MoveContacts
from .publishing import ChangePublisher
from .rescoring import MAX_ATTEMPTS, Rescored, Rescorer

COMPANY_DIRECTORY = "hubspot_company"  # the ReadRecords directory that reads HubSpot companies
PAGE = 100  # contacts moved per task: a task that moves more sends itself on for the rest


class AccountRecords:
    def __init__(self, storage: Storage, publisher: ChangePublisher, rescorer: Callable[[], Rescorer]) -> None:
        self.storage = storage
        self.publisher = publisher
        self.rescorer = rescorer

    def apply(self, changes: Sequence[CompanyChange], now: datetime) -> None:
        touched: list[str] = []
        created: list[str] = []
        for change in changes:
            if self._save(change):
                touched.append(change.key)
            if change.deleted or change.merged_into:
                self.publisher.move_contacts(change.key, change.merged_into, change.at)
            if change.created and change.key.startswith("hubspot:"):
                created.append(change.key.partition(":")[2])
        if touched:
            self.publisher.roll_up(touched)
        if created:  # a creation names the company only: its properties are read off the webhook's clock
            self.publisher.read_records(COMPANY_DIRECTORY, created)

    def _save(self, change: CompanyChange) -> bool:
        """The change on the account item; False when it changed nothing (an older value)."""
        for _ in range(MAX_ATTEMPTS):
            state = self.storage.accounts.get(change.key) or AccountState(change.key)
            updated = _changed(state, change)
            if updated is None:
                return False
            try:
                self.storage.accounts.save(updated)
            except VersionConflict:
                continue
            return True
        raise Contended(f"account {change.key} kept changing")

    def move_contacts(self, task: MoveContacts, now: datetime) -> None:
        """Move a page of the contacts in `task.source`, and ask for the next page. Each move is an
        event with a fixed id: a retried task stores nothing twice."""
        source, target, at = task.source, task.target, datetime.fromisoformat(task.at)
        contacts, cursor = self.storage.accounts.contacts(source, task.cursor, PAGE)
        company_id = target.partition(":")[2] if target else None
        rescored: list[Rescored] = []
        for contact in contacts:
            event = LeadEvent(
                event_id=f"account-move-{source}-{to_us(as_utc(at))}",
                source=SOURCE,
                type=PROFILE_EVENT,
                occurred_at=at,
                identities=Identities(),
                properties={"profile": {"hubspot_company_id": company_id}},
            )
            self.storage.events.store(contact.lead_id, [StoredEvent(event, None)], [])
            rescored.append(self.rescorer().rescore(contact.lead_id, now, reason="company merged or deleted"))
        self.publisher.publish(rescored)
        if cursor is not None:
            self.publisher.move_contacts(source, target, at, cursor)


def _changed(state: AccountState, change: CompanyChange) -> AccountState | None:
    at = as_utc(change.at).isoformat()
    profile, profile_at = dict(state.profile), dict(state.profile_at)
    for name, value in change.profile.items():
        if profile_at.get(name, "") > at:
            continue  # a newer value is kept already
        try:
            clean = getattr(Profile.model_validate({name: value}), name) if value not in (None, "") else None
        except ValueError:
            continue
        if clean in (None, ()):
            profile.pop(name, None)
        else:
            profile[name] = clean
        profile_at[name] = at
    gone = state.gone
    if change.deleted:
        gone = "deleted"
    elif change.merged_into:
        gone = f"merged into {change.merged_into}"
    updated = replace(state, profile=profile, profile_at=profile_at, gone=gone,
                      name=profile.get("company") or state.name)  # fmt: skip
    if state.version and updated == state:
        return None
    return updated if state.version or profile or gone or not change.profile else None
