"""Which rules versions are in force, and how a command moves them: activate, roll back, run a
shadow beside the active version, promote it, stop it. Pure: each move takes the pointer as read
and returns the one to save (one revision on), or refuses with what to do instead."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

LOG_LENGTH = 50  # the pointer is one item: its log keeps the latest moves
ACTIVATIONS_KEPT = 100


class ReleaseRefused(Exception):
    """A move that does not fit the state (a rollback with nothing before, promote with no shadow)."""


@dataclass(frozen=True)
class RulesPointer:
    """`active` None: no version deployed yet, the bundled rules file is in force. `shadow` is
    scored beside the active version and never reaches a CRM. `activations` newest last: what a
    rollback goes back through. `revision` guards concurrent moves."""

    active: int | None = None
    shadow: int | None = None
    shadow_since: datetime | None = None
    activated_at: datetime | None = None
    activations: tuple[int, ...] = ()
    log: tuple[dict[str, Any], ...] = ()
    revision: int = 0


def activate(pointer: RulesPointer, number: int, at: datetime, by: str) -> RulesPointer:
    if pointer.active == number:
        raise ReleaseRefused(f"version {number} is already active")
    moved = replace(
        pointer, active=number, activated_at=at, activations=(*pointer.activations, number)[-ACTIVATIONS_KEPT:]
    )
    if pointer.shadow == number:  # the shadow made active by hand: it no longer shadows itself
        moved = replace(moved, shadow=None, shadow_since=None)
    return _logged(moved, "activate", number, at, by)


def rollback(pointer: RulesPointer, at: datetime, by: str) -> RulesPointer:
    """Back to the version active before the current one."""
    history = list(pointer.activations)
    while history and history[-1] == pointer.active:
        history.pop()
    if pointer.active is None or not history:
        raise ReleaseRefused("there is no earlier active version to roll back to")
    previous, kept = history[-1], tuple(history)
    moved = replace(pointer, active=previous, activated_at=at, activations=kept)
    return _logged(moved, "rollback", previous, at, by)


def start_shadow(pointer: RulesPointer, number: int, at: datetime, by: str) -> RulesPointer:
    """A new shadow replaces the running one; its comparison starts again from `at`."""
    if pointer.active == number:
        raise ReleaseRefused(f"version {number} is the active version; a shadow must differ from it")
    return _logged(replace(pointer, shadow=number, shadow_since=at), "shadow", number, at, by)


def promote(pointer: RulesPointer, at: datetime, by: str) -> RulesPointer:
    if pointer.shadow is None:
        raise ReleaseRefused("no shadow is running: deploy one with `rules deploy FILE --shadow`")
    number = pointer.shadow
    moved = replace(
        pointer,
        active=number,
        activated_at=at,
        shadow=None,
        shadow_since=None,
        activations=(*pointer.activations, number)[-ACTIVATIONS_KEPT:],
    )
    return _logged(moved, "promote", number, at, by)


def stop_shadow(pointer: RulesPointer, at: datetime, by: str) -> RulesPointer:
    if pointer.shadow is None:
        raise ReleaseRefused("no shadow is running")
    return _logged(replace(pointer, shadow=None, shadow_since=None), "shadow stopped", pointer.shadow, at, by)


def _logged(pointer: RulesPointer, action: str, number: int, at: datetime, by: str) -> RulesPointer:
    entry = {"action": action, "version": number, "at": at.isoformat(), "by": by}
    return replace(pointer, log=(*pointer.log, entry)[-LOG_LENGTH:], revision=pointer.revision + 1)
