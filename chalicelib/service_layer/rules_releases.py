"""Rules versions in the stack: deploy a file as a new version (active, or as a shadow beside the
active one), list them, show one, compare two, activate one, roll back, promote the shadow, stop
it. Shared by the CLI (`leadscore rules ...`) and the console's API. The bundled rules file is
version 1 of a new stack, stored the first time any of these runs.

A deploy is refused before anything is stored when the file is invalid; two deploys at once both
read the same next number, one stores it and the other is told (409), as is a move of the active
version made while another command moved it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain import releases as moves
from chalicelib.domain.releases import ReleaseRefused, RulesPointer
from chalicelib.domain.rules import Rules
from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_diff import rules_diff
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.service_layer.errors import ClientError, Conflict
from chalicelib.service_layer.rules_preview import InvalidRules
from chalicelib.storage.ports import PointerMoved, RulesVersion, RulesVersions, VersionTaken

SEEDED_BY = "the bundled rules file"


class UnknownVersion(ClientError):
    status = 404
    code = "unknown_rules_version"


def bundled_text(scoring_rules: str = "") -> str:
    from chalicelib.rules import DEFAULT_RULES_PATH

    return Path(scoring_rules or os.environ.get("SCORING_RULES") or DEFAULT_RULES_PATH).read_text(encoding="utf-8")


class RulesReleases:
    def __init__(self, versions: RulesVersions, bundled: Callable[[], str]) -> None:
        self.versions = versions
        self.bundled = bundled

    def seed(self, now: datetime) -> RulesPointer:
        """The pointer, with the bundled file stored as version 1 (and active) if nothing was yet."""
        pointer = self.versions.pointer(consistent=True)
        if pointer.active is not None:
            return pointer
        text = self.bundled()
        rules = _parsed(text)
        with suppress(VersionTaken):  # another command seeded it
            self.versions.add(_version(1, text, rules, SEEDED_BY, now, "the rules the stack was deployed with"))
        return self._move(lambda read: moves.activate(read, 1, now, SEEDED_BY) if read.active is None else read)

    def deploy(
        self, text: str, by: str, message: str, now: datetime, shadow: bool = False, activate: bool = True
    ) -> dict[str, Any]:
        """Store `text` as the next version; make it active (or the shadow). Invalid: InvalidRules,
        nothing stored."""
        rules = _parsed(text)
        pointer = self.seed(now)
        fingerprints = {version.number: version.fingerprint for version in self.versions.listed()}
        replaced = pointer.shadow if shadow else pointer.active
        if replaced is not None and fingerprints.get(replaced) == rules.fingerprint:
            role = "shadow" if shadow else "active version"
            raise Conflict(f"version {replaced}, the {role}, has the same rules (fingerprint {rules.fingerprint})")
        if shadow and pointer.active is not None and fingerprints.get(pointer.active) == rules.fingerprint:
            raise Conflict(f"the active version {pointer.active} has the same rules; a shadow must differ")
        number = max(fingerprints, default=0) + 1
        try:
            self.versions.add(_version(number, text, rules, by, now, message))
        except VersionTaken as exc:
            raise Conflict(f"{exc}; list the versions and deploy again") from exc
        if shadow:
            self._move(lambda read: moves.start_shadow(read, number, now, by))
        elif activate:
            self._move(lambda read: moves.activate(read, number, now, by))
        from chalicelib.domain.rules_warnings import rules_warnings
        from chalicelib.rules.vocabulary import EMITTED_TYPES

        return {"version": number, "fingerprint": rules.fingerprint, "name": rules.name,
                "role": "shadow" if shadow else ("active" if activate else "stored"),
                "warnings": rules_warnings(rules, EMITTED_TYPES)}  # fmt: skip

    def listed(self, now: datetime) -> dict[str, Any]:
        pointer = self.seed(now)
        return {
            "active": pointer.active,
            "shadow": pointer.shadow,
            "shadow_since": pointer.shadow_since.isoformat() if pointer.shadow_since else None,
            "activated_at": pointer.activated_at.isoformat() if pointer.activated_at else None,
            "versions": [_described(version, pointer) for version in self.versions.listed()],
            "log": list(reversed(pointer.log)),
        }

    def show(self, number: int) -> RulesVersion:
        version = self.versions.get(number)
        if version is None:
            raise UnknownVersion(f"there is no rules version {number}", field="version")
        return version

    def diff(self, before: int, after: int) -> list[dict[str, Any]]:
        return rules_diff(_parsed(self.show(before).text), _parsed(self.show(after).text))

    def rules_of(self, number: int) -> Rules:
        return _parsed(self.show(number).text)

    def activate(self, number: int, by: str, now: datetime) -> RulesPointer:
        """A version this release cannot read is refused (InvalidRules), never made active."""
        self.seed(now)
        _parsed(self.show(number).text)
        return self._move(lambda read: moves.activate(read, number, now, by))

    def rollback(self, by: str, now: datetime) -> RulesPointer:
        self.seed(now)
        return self._move(lambda read: moves.rollback(read, now, by))

    def promote(self, by: str, now: datetime) -> RulesPointer:
        self.seed(now)
        return self._move(lambda read: moves.promote(read, now, by))

    def stop_shadow(self, by: str, now: datetime) -> RulesPointer:
        self.seed(now)
        return self._move(lambda read: moves.stop_shadow(read, now, by))

    def _move(self, move: Callable[[RulesPointer], RulesPointer]) -> RulesPointer:
        read = self.versions.pointer(consistent=True)
        try:
            moved = move(read)
        except ReleaseRefused as exc:
            raise Conflict(str(exc)) from exc
        if moved is read:
            return read
        try:
            self.versions.move_pointer(moved)
        except PointerMoved as exc:
            raise Conflict(f"{exc}; look again with `rules list`") from exc
        return moved


def _parsed(text: str) -> Rules:
    try:
        return parse_rules(text, source="rules")
    except RulesError as exc:
        raise InvalidRules(exc) from exc


def _version(number: int, text: str, rules: Rules, by: str, now: datetime, message: str) -> RulesVersion:
    return RulesVersion(number, text, rules.fingerprint, rules.name, by, now, message)


def _described(version: RulesVersion, pointer: RulesPointer) -> dict[str, Any]:
    role = "active" if version.number == pointer.active else "shadow" if version.number == pointer.shadow else ""
    return {
        "version": version.number, "name": version.name, "fingerprint": version.fingerprint,
        "deployed_by": version.deployed_by, "deployed_at": version.deployed_at.isoformat(),
        "message": version.message, "role": role,
    }  # fmt: skip
