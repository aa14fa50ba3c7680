"""Account roll-ups: the handler of `RollUp` tasks. Each reads the account and its most engaged
contacts in one Query (as they are then, so tasks for one account agree however many arrive),
scores it with the pure domain, saves it with optimistic locking, and writes a visible change to
the CRMs that hold the company, a batch call per CRM (100 HubSpot companies, 200 Salesforce
Accounts). A retry or a dead letter is per account; the rest of the batch goes on."""

from __future__ import annotations

import contextlib
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
        due: dict[str, AccountState] = {}
        for key, messages in by_account.items():
            try:
                state = self.roll_up(key, now)
            except Contended as exc:
                self._retry(key, messages, str(exc), backoff_seconds(1, self.rng), report)
                continue
            if state is not None and state.card is not None and list(state.card.visible) != state.crm_visible:
                due[key] = state
        if due:
            self._write(due, by_account, now, report)

    def roll_up(self, key: str, now: datetime) -> AccountState | None:
        """The account scored from its contacts as they are now, and saved if that changed it;
        None for an account with neither contacts nor a company record (nothing to keep)."""
        rules = self.rules()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            ranked = self.storage.accounts.ranked(key, COUNT_LIMIT)
            state = ranked.account or AccountState(key)
            if not ranked.contacts and not state.version:
                return None
            profile = account_profile(state.profile, ranked.contacts)
            card = None
            if rules.accounts is not None and not state.gone:
                previous = state.card.tier if state.card else None
                card = score_account(rules.accounts, compile_rules(rules).account_fit_rules, profile,
                                     ranked.contacts, ranked.more, now, previous)  # fmt: skip
            name = state.profile.get("company") or account_name(key, profile)
            if state.version and name == state.name and _same(card, state.card):
                return state
            scored = replace(state, name=name, card=card)
            try:
                return replace(scored, version=self.storage.accounts.save(scored))
            except VersionConflict:
                continue  # another roll-up saved first (or the index was a moment behind): read again
        raise Contended(f"account {key} kept changing while it was being rolled up")

    def _write(
        self, due: dict[str, AccountState], messages: dict[str, list[ReceivedTask]], now: datetime, report: TaskReport
    ) -> None:
        results: dict[str, dict[str, WriteResult]] = {key: {} for key in due}
        for writer in self.writers:
            requests = [AccountWriteRequest(key, key.partition(":")[2], state.card)  # type: ignore[arg-type]
                        for key, state in due.items() if key.partition(":")[0] == writer.name]  # fmt: skip
            if requests:
                for key, result in writer.write_accounts(requests).items():
                    results[key][writer.name] = result
        for key, state in due.items():
            self._settle(state, results[key], messages.get(key, []), now, report)

    def _settle(
        self,
        state: AccountState,
        results: dict[str, WriteResult],
        messages: list[ReceivedTask],
        now: datetime,
        report: TaskReport,
    ) -> None:
        report.statuses.update((name, result.status) for name, result in results.items())
        retries = [result for result in results.values() if result.status == "retry"]
        if retries:
            receive_count = max((message.receive_count for message in messages), default=1)
            delay = max(result.retry_after or backoff_seconds(receive_count, self.rng) for result in retries)
            self._retry(state.key, messages, "; ".join(result.reason for result in retries), delay, report)
            return
        permanent = [result for result in results.values() if result.status == "permanent"]
        if permanent:
            reason = "; ".join(result.reason for result in permanent)
            self.queue.dead_letter(RollUp(state.key).to_json(), reason)
            report.dead_lettered[f"account:{state.key}"] = reason
            logger.error("account write-back dead-lettered", extra={"account": state.key, "reason": reason})
        assert state.card is not None
        crm: dict[str, Any] = {
            "visible": list(state.card.visible),
            "at": now.isoformat(),
            "statuses": {name: result.status for name, result in results.items()},
            "reasons": {name: result.reason for name, result in results.items() if result.status != "written"},
        }
        # Rolled up again meanwhile (VersionConflict): that roll-up writes its own card.
        with contextlib.suppress(VersionConflict):
            self.storage.accounts.save(replace(state, crm=crm))
        report.written.append(f"account:{state.key}")

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
