"""Write-back: the handler of `WriteBack` tasks. A task only says "lead X changed"; the handler
reads each lead's current card, so the latest card wins however tasks are ordered or retried.

Per lead: written (outbox entry closed), retried later (message hidden for Retry-After or an
exponential, jittered backoff, and reported as a batch item failure), or dead-lettered with the
reason when no retry can succeed. The rest of the batch is never held back by one lead.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.crm.ports import CrmWriter, WriteRequest, WriteResult
from chalicelib.observability import logger
from chalicelib.storage.ports import LeadRecord, Storage

from .messages import ReceivedTask, RollUp, TaskQueue, WriteBack
from .task_report import TaskReport, backoff_seconds


class WriteBacks:
    def __init__(
        self,
        storage: Storage,
        queue: TaskQueue,
        writers: Sequence[CrmWriter],
        rng: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.storage = storage
        self.queue = queue
        self.writers = list(writers)
        self.rng = rng

    def handle(self, by_lead: dict[str, list[ReceivedTask]], now: datetime, report: TaskReport) -> None:
        """Every lead these tasks name, in one batch call per CRM."""
        records = self.storage.leads.get_leads(list(by_lead))
        pending: dict[str, LeadRecord] = {}
        for lead_id in by_lead:
            record = records.get(lead_id)
            if record is None or record.card is None:
                continue  # deleted since: nothing to write
            if record.merged_into:
                # Merged into another lead: its CRM record is the survivor's now (or gone).
                logger.info("write-back dropped: lead merged", extra={"lead_id": lead_id})
                continue
            if record.sync_pending_since is None and record.crm_visible == list(record.card.visible):
                continue  # an earlier message already wrote this card
            pending[lead_id] = record
        if not pending:
            return
        self._roll_up(pending.values())
        requests = [_request(record) for record in pending.values()]
        answers = [(writer.name, writer.write(requests)) for writer in self.writers]
        for lead_id, record in pending.items():
            results = {name: answer.get(lead_id, WriteResult("retry", "no answer")) for name, answer in answers}
            self._settle(lead_id, record, results, by_lead[lead_id], now, report)

    def _roll_up(self, records: Iterable[LeadRecord]) -> None:
        """Each changed lead's account is scored again (a task of its own: a lost one is made good
        by the account's next change)."""
        accounts = sorted({record.account for record in records if record.account})
        if accounts:
            try:
                self.queue.send([RollUp(key) for key in accounts])
            except Exception as exc:  # the leads' write-back goes on
                logger.warning("task queue unavailable", extra={"error": type(exc).__name__, "count": len(accounts)})

    def _settle(
        self,
        lead_id: str,
        record: LeadRecord,
        results: dict[str, WriteResult],
        messages: list[ReceivedTask],
        now: datetime,
        report: TaskReport,
    ) -> None:
        report.statuses.update((name, result.status) for name, result in results.items())
        retries = [result for result in results.values() if result.status == "retry"]
        permanent = [result for result in results.values() if result.status == "permanent"]
        if retries:
            receive_count = max(message.receive_count for message in messages)
            delay = max(result.retry_after or backoff_seconds(receive_count, self.rng) for result in retries)
            for message in messages:
                self.queue.retry_later(message, delay)
                report.failed_message_ids.append(message.message_id)
            report.retried[lead_id] = "; ".join(result.reason for result in retries)
            logger.warning("write-back retry", extra={"lead_id": lead_id, "delay_seconds": round(delay, 1)})
            self.storage.outbox.note_write_attempt(lead_id, {
                "at": now.isoformat(), "retry_in_seconds": round(delay), **_statuses(results),
            })  # fmt: skip
            return
        if permanent:
            reason = "; ".join(result.reason for result in permanent)
            self.queue.dead_letter(WriteBack(lead_id, record.version).to_json(), reason)
            report.dead_lettered[lead_id] = reason
            logger.error("write-back dead-lettered", extra={"lead_id": lead_id, "reason": reason})
        for result in results.values():
            for kind, value in result.discovered.items():
                self.storage.leads.remember_identity(lead_id, f"{kind}:{value}")
        assert record.card is not None
        crm: dict[str, Any] = {
            "visible": list(record.card.visible),
            "version": record.version,
            "at": now.isoformat(),
            **_statuses(results),
        }
        moved = {name: fields for name, fields in record.crm_moves.items()
                 if name in results and results[name].status == "written"}  # fmt: skip
        if moved:
            crm["moves"] = moved  # the lead's history: what the scorer moved in the CRM, and when
        self.storage.outbox.mark_written(lead_id, record.version, crm)
        report.written.append(lead_id)


def _request(record: LeadRecord) -> WriteRequest:
    assert record.card is not None
    live = [key for key in record.keys if key not in record.retired]  # never a record merged away
    ids = {kind: value for kind, _, value in (key.partition(":") for key in live)}
    return WriteRequest(
        lead_id=record.lead_id,
        card=record.card,
        tier_changed_at=record.tier_changed_at,
        hubspot_id=ids.get("hubspot"),
        salesforce_id=ids.get("salesforce"),
        pipedrive_id=ids.get("pipedrive"),
        email=ids.get("email"),
        moves=record.crm_moves,
    )


def _statuses(results: dict[str, WriteResult]) -> dict[str, Any]:
    """Each CRM's write status, and why for those that did not write (what the console shows)."""
    return {
        "statuses": {name: result.status for name, result in results.items()},
        "reasons": {name: result.reason for name, result in results.items() if result.status != "written"},
    }
