"""Owner names for the leads' `owner`: each CRM's owners read by the CRM sync at most once an
hour (never inside a webhook), kept as one stored directory per CRM, from which the lead page and
the leads list take names (one read per CRM per request)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from chalicelib.domain.events import iso_z, parse_instant
from chalicelib.storage.ports import Storage

MAX_AGE = timedelta(hours=1)
MAX_OWNERS = 5_000  # a stored directory stays far below DynamoDB's 400 KB item


class Owner(NamedTuple):
    name: str
    email: str = ""  # where an owner's alerts may be routed (NOTIFY_ROUTES)


class OwnerDirectory(Protocol):
    crm: str

    def owners(self) -> dict[str, Owner]:
        """Every owner's id, name and email."""
        ...


def _state_name(crm: str) -> str:
    return f"owners:{crm}"


class OwnerNames:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def refresh(self, directories: Iterable[OwnerDirectory], now: datetime) -> dict[str, int]:
        """Each directory read again when its copy is an hour old: CRM -> owners read (0: still fresh)."""
        read: dict[str, int] = {}
        for directory in directories:
            state = self.storage.jobs.job_state(_state_name(directory.crm))
            when = parse_instant(state.get("read_at"))
            if when is not None and now - when < MAX_AGE:
                read[directory.crm] = 0
                continue
            owners = dict(sorted(directory.owners().items())[:MAX_OWNERS])
            names = {owner: found.name for owner, found in owners.items()}
            emails = {owner: found.email.strip().lower() for owner, found in owners.items() if found.email.strip()}
            state = {"read_at": iso_z(now), "names": names, "emails": emails}
            self.storage.jobs.save_job_state(_state_name(directory.crm), state)
            read[directory.crm] = len(names)
        return read

    def names(self, crms: Iterable[str]) -> dict[tuple[str, str], str]:
        return self._read(crms, "names")

    def emails(self, crms: Iterable[str]) -> dict[tuple[str, str], str]:
        return self._read(crms, "emails")

    def _read(self, crms: Iterable[str], part: str) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for crm in sorted(set(crms)):
            values = self.storage.jobs.job_state(_state_name(crm)).get(part) or {}
            found.update({(crm, str(owner)): str(value) for owner, value in values.items()})
        return found
