"""Account roll-ups: the handler of `RollUp` tasks. Each reads the account and its most engaged
contacts in one Query (as they are then, so tasks for one account agree however many arrive),
scores it with the pure domain, saves it with optimistic locking, and writes a visible change to
the CRMs that hold the company, a batch call per CRM (100 HubSpot companies, 200 Salesforce
Accounts). A retry or a dead letter is per account; the rest of the batch goes on."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.crm.ports import AccountWriter, AccountWriteRequest, WriteResult
from chalicelib.domain.account_rules import COUNT_LIMIT
from chalicelib.domain.account_score import account_name, account_profile, score_account
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.rules import Rules
from chalicelib.errors import Contended
from chalicelib.observability import logger
from chalicelib.storage.account_ports import AccountState
from chalicelib.storage.ports import Storage, VersionConflict

from .messages import ReceivedTask, RollUp, TaskQueue
from .rescoring import MAX_ATTEMPTS, jittered_backoff
from .task_report import TaskReport, backoff_seconds


class AccountRollUps:
    def __init__(
        self,
        storage: Storage,
        queue: TaskQueue,
        rules: Callable[[], Rules],
        writers: Sequence[AccountWriter] = (),
        backoff: Callable[[int], None] = jittered_backoff,
        rng: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.storage = storage
        self.queue = queue
        self.rules = rules
        self.writers = list(writers)
        self.backoff = backoff
        self.rng = rng

    def handle(self, by_account: dict[str, list[ReceivedTask]], now: datetime, report: TaskReport) -> None:
        """Score every account these tasks name, write the visible changes (a batch call per CRM),
        then save each account once with its card and what its CRMs were sent: a roll-up costs
        one Query and one Put, whatever the account's size (none when nothing changed)."""
        scored: dict[str, tuple[AccountState, AccountState]] = {}
        for key in by_account:
            found = self.scored(key, now)
            if found is not None:
                scored[key] = found
        due = {key: state for key, (_, state) in scored.items()
               if state.card is not None and list(state.card.visible) != state.crm_visible}  # fmt: skip
        results = self._write(due)
        for key, (read, state) in scored.items():
            messages = by_account.get(key, [])
            crm = self._settle(state, results.get(key), messages, now, report) if key in due else state.crm
            try:
                self._save(read, replace(state, crm=crm), now)
            except Contended as exc:
                self._retry(key, messages, str(exc), backoff_seconds(1, self.rng), report)

    def roll_up(self, key: str, now: datetime) -> AccountState | None:
        """The account scored and saved (no CRM write): what a caller outside the queue uses."""
        found = self.scored(key, now)
        return self._save(*found, now) if found is not None else None

    def scored(self, key: str, now: datetime) -> tuple[AccountState, AccountState] | None:
        """The account as read and as scored from its contacts now (one Query); None for an
        account with neither contacts nor a company record (nothing to keep)."""
        rules = self.rules()
        ranked = self.storage.accounts.ranked(key, COUNT_LIMIT)
        read = ranked.account or AccountState(key)
        if not ranked.contacts and not read.version:
            return None
        profile = account_profile(read.profile, ranked.contacts)
        card = None
        if rules.accounts is not None and not read.gone:
            previous = read.card.tier if read.card else None
            card = score_account(rules.accounts, compile_rules(rules).account_fit_rules, profile,
                                 ranked.contacts, ranked.more, now, previous)  # fmt: skip
        name = read.profile.get("company") or account_name(key, profile)
        if read.version and name == read.name and _same(card, read.card):
            return read, read
        return read, replace(read, name=name, card=card)

    def _save(self, read: AccountState, state: AccountState, now: datetime) -> AccountState:
        """Saved if it changed and the account is still as read; else (another roll-up saved
        first, or the index was a moment behind) scored again from a fresh read, keeping what the
        CRMs were sent when that is the card scored again."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
                found = self.scored(state.key, now)
                if found is None:
                    return state
                sent = state.crm
                read, fresh = found
                kept = sent is not None and fresh.card is not None and sent.get("visible") == list(fresh.card.visible)
                state = replace(fresh, crm=sent if kept else fresh.crm)
            if state == read:
                return read
            try:
                return replace(state, version=self.storage.accounts.save(state))
            except VersionConflict:
                continue
        raise Contended(f"account {state.key} kept changing while it was being rolled up")

    def _write(self, due: dict[str, AccountState]) -> dict[str, dict[str, WriteResult]]:
        results: dict[str, dict[str, WriteResult]] = {key: {} for key in due}
        for writer in self.writers:
            requests = [AccountWriteRequest(key, key.partition(":")[2], state.card)  # type: ignore[arg-type]
                        for key, state in due.items() if key.partition(":")[0] == writer.name]  # fmt: skip
            if requests:
                for key, result in writer.write_accounts(requests).items():
                    results[key][writer.name] = result
        return results

    def _settle(
        self,
        state: AccountState,
        results: dict[str, WriteResult] | None,
        messages: list[ReceivedTask],
        now: datetime,
        report: TaskReport,
    ) -> dict[str, Any] | None:
        """What the account keeps of this write-back: the new note, or the old one when a CRM asks
        for a retry (the task comes back and writes the card then)."""
        results = results or {}
        report.statuses.update((name, result.status) for name, result in results.items())
        retries = [result for result in results.values() if result.status == "retry"]
        if retries:
            receive_count = max((message.receive_count for message in messages), default=1)
            delay = max(result.retry_after or backoff_seconds(receive_count, self.rng) for result in retries)
            self._retry(state.key, messages, "; ".join(result.reason for result in retries), delay, report)
            return state.crm
        permanent = [result for result in results.values() if result.status == "permanent"]
        if permanent:
            reason = "; ".join(result.reason for result in permanent)
            self.queue.dead_letter(RollUp(state.key).to_json(), reason)
            report.dead_lettered[f"account:{state.key}"] = reason
            logger.error("account write-back dead-lettered", extra={"account": state.key, "reason": reason})
        assert state.card is not None
        report.written.append(f"account:{state.key}")
        return {
            "visible": list(state.card.visible),
            "at": now.isoformat(),
            "statuses": {name: result.status for name, result in results.items()},
            "reasons": {name: result.reason for name, result in results.items() if result.status != "written"},
        }

    def _retry(self, key: str, messages: list[ReceivedTask], reason: str, delay: float, report: TaskReport) -> None:
        for message in messages:
            self.queue.retry_later(message, delay)
            report.failed_message_ids.append(message.message_id)
        report.retried[f"account:{key}"] = reason
        logger.warning("account roll-up retry", extra={"account": key, "delay_seconds": round(delay, 1)})


def _same(card: Any, stored: Any) -> bool:
    """The same card but for when it was computed (a roll-up that changes nothing saves nothing)."""
    if card is None or stored is None:
        return card is stored
    return bool(card.model_dump(exclude={"scored_at"}) == stored.model_dump(exclude={"scored_at"}))
