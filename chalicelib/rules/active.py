"""The rules in force in this container: the active version deployed to the stack (and the shadow
beside it), else the bundled rules file. Each version is parsed once per container; which version
is active is checked at most once per RULES_RECHECK_SECONDS (one small GetItem), so the hot path
pays no request for it.

A version that cannot be read or parsed (a later code release no longer accepts it) leaves the
last good version in force and says so in `/health` and the log; with none to fall back on (a new
container) nothing can be scored: RulesUnavailable, a 503 the senders retry. A broken shadow is
dropped, never the active version with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.releases import RulesPointer
from chalicelib.domain.rules import Rules
from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.errors import RulesUnavailable, Unavailable
from chalicelib.observability import logger
from chalicelib.storage.ports import RulesVersions


class ActiveRules:
    def __init__(
        self,
        versions: Callable[[], RulesVersions],
        bundled: Callable[[], Rules],
        recheck_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.versions = versions
        self.bundled = bundled
        self.recheck_seconds = recheck_seconds
        self.clock = clock
        self.pointer = RulesPointer()
        self._checked_at: float | None = None
        self._parsed: dict[int, Rules] = {}
        self._active: Rules | None = None  # the last good active rules (None: the bundled file's)
        self._active_number: int | None = None
        self._shadow: Rules | None = None
        self._had_good = False  # a pointer was read and its active version (or the bundled file) loaded
        self.problems: list[str] = []

    def __call__(self) -> Rules:
        """The active rules."""
        self._refresh()
        return self._active if self._active is not None else self.bundled()

    def shadow(self) -> Rules | None:
        """The shadow rules, if one runs (and can be read)."""
        self._refresh()
        return self._shadow

    def active_version(self) -> int | None:
        """The version in force (None: the bundled file, as no version has been deployed)."""
        self._refresh()
        return self._active_number

    def settled(self, now: datetime) -> bool:
        """Whether every container has seen the latest move of the versions by `now` (each checks
        at least once per `recheck_seconds`)."""
        self._refresh()
        moves = [at for at in (self.pointer.activated_at, self.pointer.shadow_since) if at is not None]
        return not moves or (now - max(moves)).total_seconds() >= self.recheck_seconds

    def refresh(self) -> None:
        """Check the pointer now (a command that just moved it, a test)."""
        self._checked_at = None
        self._refresh()

    def status(self) -> dict[str, Any]:
        """For /health: the versions in force, their fingerprints, and any problem reading them."""
        rules = self()
        shadow = self._shadow
        return {
            "version": self._active_number,
            "name": rules.name,
            "fingerprint": rules.fingerprint,
            "shadow": None if shadow is None else {
                "version": self.pointer.shadow, "name": shadow.name, "fingerprint": shadow.fingerprint,
            },
            "problems": list(self.problems),
        }  # fmt: skip

    def _refresh(self) -> None:
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.recheck_seconds:
            return
        try:
            pointer = self.versions().pointer()
        except Unavailable:
            if not self._had_good:
                raise
            logger.warning("could not check the active rules version; keeping the one in force")
            self._checked_at = now
            return
        problems = []
        if pointer.active is None:
            active, number = None, None
        else:
            try:
                active, number = self._load(pointer.active), pointer.active
            except RulesUnavailable as exc:
                problems.append(f"{exc}; version {self._active_number or 'bundled'} stays in force")
                if not self._had_good:
                    self.problems = problems
                    logger.error("the active rules version cannot be read", extra={"problem": str(exc)})
                    raise
                active, number = self._active, self._active_number
        shadow = None
        if pointer.shadow is not None:
            try:
                shadow = self._load(pointer.shadow)
            except RulesUnavailable as exc:
                problems.append(f"{exc}; no shadow is scored")
        for problem in problems:
            if problem not in self.problems:
                logger.error("rules version problem", extra={"problem": problem})
        self.pointer, self._active, self._active_number, self._shadow = pointer, active, number, shadow
        self.problems = problems
        self._checked_at, self._had_good = now, True

    def _load(self, number: int) -> Rules:
        if number not in self._parsed:
            version = self.versions().get(number)
            if version is None:
                raise RulesUnavailable(f"rules version {number} is missing from the stack")
            try:
                self._parsed[number] = parse_rules(version.text, source=f"rules version {number}")
            except (RulesError, ValueError) as exc:
                from chalicelib.rules import rules_problem

                raise RulesUnavailable(rules_problem(f"rules version {number}", exc)) from exc
            for old in sorted(self._parsed)[:-4]:  # keep the few versions a container moves between
                if old not in (self.pointer.active, self.pointer.shadow, number):
                    del self._parsed[old]
        return self._parsed[number]
