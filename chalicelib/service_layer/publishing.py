"""After a rescore: a write-back task for every visible change, a notification for every lead
that entered or left MQL. Sending never fails the caller: the lead item's outbox mark (sync_at)
stays set, and the outbox sweep (upkeep.py) queues it again if this send is lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.events import iso_z
from chalicelib.domain.rules import Rules
from chalicelib.domain.tiers import is_mql
from chalicelib.observability import count_tier_changes, logger

from .messages import MoveContacts, Notify, ReadRecords, RollUp, Task, TaskSink, WriteBack
from .rescoring import Rescored


class ChangePublisher:
    def __init__(self, sink: TaskSink | None, rules: Callable[[], Rules]) -> None:
        self.sink = sink
        self.rules = rules

    def publish(self, rescored: Sequence[Rescored]) -> None:
        rules = self.rules()
        bands = compile_rules(rules).tier_bands
        messages: list[Task] = []
        count_tier_changes(Counter(item.after.tier for item in rescored if item.card_change.tier_changed))
        moved_between: set[str] = set()
        for item in rescored:
            if item.card_change.visible_changed:
                messages.append(WriteBack(item.lead_id, item.version))
            if item.moved is not None:  # the write-back rolls up its account; the one it left needs it too
                moved_between.update(key for key in item.moved if key)
            was_mql = item.before is not None and is_mql(item.before.tier, bands, rules.tiers.mql_from)
            if item.card_change.tier_changed and was_mql != item.after.mql:
                messages.append(
                    Notify(
                        lead_id=item.lead_id,
                        from_tier=item.before.tier if item.before else None,
                        to=item.after.tier,
                        at=iso_z(item.after.scored_at),
                        score=item.after.score,
                        mql=item.after.mql,
                        reason="; ".join(item.after.reasons()),
                    )
                )
        messages += [RollUp(key) for key in sorted(moved_between)]
        self._send(messages)

    def roll_up(self, keys: Sequence[str]) -> bool:
        """Ask for these accounts to be scored again (their contacts, or their company, changed)."""
        return self._send([RollUp(key) for key in sorted(set(keys))])

    def move_contacts(self, source: str, target: str | None, at: datetime, cursor: str | None = None) -> bool:
        return self._send([MoveContacts(source, target, at.isoformat(), cursor)])

    def read_records(self, directory: str, record_ids: Sequence[str]) -> bool:
        """Ask for these records to be read from the CRM (100 a task: one batch read each)."""
        ids = sorted(set(record_ids))
        chunks = [ReadRecords(directory, tuple(ids[start : start + 100])) for start in range(0, len(ids), 100)]
        return self._send(list(chunks))

    def requeue(self, lead_ids: Sequence[str]) -> int:
        """Outbox entries whose message was lost: queue them again (version 0: read the lead)."""
        return len(lead_ids) if self._send([WriteBack(lead_id) for lead_id in lead_ids]) else 0

    def _send(self, messages: list[Task]) -> bool:
        if self.sink is None or not messages:
            return False
        try:
            self.sink.send(messages)
        except Exception as exc:
            logger.warning("task queue unavailable", extra={"error": type(exc).__name__, "count": len(messages)})
            return False
        return True
