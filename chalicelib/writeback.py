"""Write-back use case: the SQS consumer. Messages only say "lead X changed"; the consumer reads
each lead's current card, so the latest card wins however messages are ordered or retried.

Per lead: written (outbox entry closed), retried later (message hidden for Retry-After or an
exponential, jittered backoff, and reported as a batch item failure), or dead-lettered with the
reason when no retry can succeed. The rest of the batch is never held back by one lead.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.crm.base import CrmWriter, WriteRequest, WriteResult
from chalicelib.crm.notify import Notifier
from chalicelib.errors import CrmUnavailable, Unavailable
from chalicelib.observability import logger
from chalicelib.queue import EnrichMessage, NotifyMessage, QueueMessage, SyncMessage, WritebackQueue
from chalicelib.storage.port import LeadRecord, LeadStorage

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0


def backoff_seconds(receive_count: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Exponential in the number of deliveries, with jitter so a recovering CRM is not stampeded."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1))
    return rng(ceiling / 2, ceiling)


@dataclass
class WritebackReport:
    written: list[str] = field(default_factory=list)
    retried: dict[str, str] = field(default_factory=dict)
    dead_lettered: dict[str, str] = field(default_factory=dict)
    failed_message_ids: list[str] = field(default_factory=list)
    enriched: int = 0  # records read from a CRM and ingested
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (CRM, status): leads


# (directory, record ids, now): read the records from the CRM and ingest them (LeadService.enrich)
Enricher = Callable[[str, Sequence[str], datetime], object]


class WritebackService:
    def __init__(
        self,
        storage: LeadStorage,
        queue: WritebackQueue,
        writers: Sequence[CrmWriter],
        notifier: Notifier | None = None,
        rng: Callable[[float, float], float] = random.uniform,
        enricher: Enricher | None = None,
    ) -> None:
        self.storage = storage
        self.queue = queue
        self.writers = list(writers)
        self.notifier = notifier
        self.rng = rng
        self.enricher = enricher

    def handle(self, messages: Sequence[QueueMessage], now: datetime) -> WritebackReport:
        report = WritebackReport()
        by_lead: dict[str, list[QueueMessage]] = {}
        to_enrich: dict[str, list[tuple[QueueMessage, EnrichMessage]]] = {}
        for message in messages:
            decoded = message.message
            if isinstance(decoded, SyncMessage):
                by_lead.setdefault(decoded.lead_id, []).append(message)
            elif isinstance(decoded, NotifyMessage):
                self._notify(message, decoded, report)
            elif isinstance(decoded, EnrichMessage):
                to_enrich.setdefault(decoded.directory, []).append((message, decoded))
            else:
                self.queue.dead_letter(message.body, "not a write-back message")
        for directory, items in to_enrich.items():
            self._enrich(directory, items, now, report)
        if by_lead:
            self._sync(by_lead, now, report)
        return report

    def _enrich(
        self, directory: str, items: list[tuple[QueueMessage, EnrichMessage]], now: datetime, report: WritebackReport
    ) -> None:
        """All of this batch's records of one CRM in one read (100 ids a call), then one ingest; if
        the CRM or storage fails, every message of it is retried later with backoff."""
        if self.enricher is None:
            return
        record_ids = sorted({record_id for _, item in items for record_id in item.record_ids})
        try:
            self.enricher(directory, record_ids, now)
        except Unavailable as exc:
            receive_count = max(message.receive_count for message, _ in items)
            delay = backoff_seconds(receive_count, self.rng)
            for message, _ in items:
                self.queue.retry_later(message, delay)
                report.failed_message_ids.append(message.message_id)
            report.retried[f"enrich:{directory}"] = str(exc)
            logger.warning("profile read retry", extra={"directory": directory, "delay_seconds": round(delay, 1)})
            return
        report.enriched += len(record_ids)

    def _sync(self, by_lead: dict[str, list[QueueMessage]], now: datetime, report: WritebackReport) -> None:
        records = self.storage.get_leads(list(by_lead))
        pending: dict[str, LeadRecord] = {}
        for lead_id in by_lead:
            record = records.get(lead_id)
            if record is None or record.card is None:
                continue  # deleted since: nothing to write
            if record.sync_pending_since is None and record.crm_visible == list(record.card.visible):
                continue  # an earlier message already wrote this card
            pending[lead_id] = record
        if not pending:
            return
        requests = [_request(record) for record in pending.values()]
        answers = [(writer.name, writer.write(requests)) for writer in self.writers]
        for lead_id, record in pending.items():
            results = {name: answer.get(lead_id, WriteResult("retry", "no answer")) for name, answer in answers}
            self._settle(lead_id, record, results, by_lead[lead_id], now, report)

    def _settle(
        self,
        lead_id: str,
        record: LeadRecord,
        results: dict[str, WriteResult],
        messages: list[QueueMessage],
        now: datetime,
        report: WritebackReport,
    ) -> None:
        report.outcomes.update((name, result.status) for name, result in results.items())
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
            self.storage.note_write_attempt(lead_id, {
                "at": now.isoformat(), "retry_in_seconds": round(delay), **_outcomes(results),
            })  # fmt: skip
            return
        if permanent:
            reason = "; ".join(result.reason for result in permanent)
            self.queue.dead_letter(SyncMessage(lead_id, record.version).to_json(), reason)
            report.dead_lettered[lead_id] = reason
            logger.error("write-back dead-lettered", extra={"lead_id": lead_id, "reason": reason})
        for result in results.values():
            for kind, value in result.discovered.items():
                self.storage.remember_identity(lead_id, f"{kind}:{value}")
        assert record.card is not None
        crm: dict[str, Any] = {
            "visible": list(record.card.visible),
            "version": record.version,
            "at": now.isoformat(),
            **_outcomes(results),
        }
        self.storage.mark_written(lead_id, record.version, crm)
        report.written.append(lead_id)

    def _notify(self, message: QueueMessage, change: NotifyMessage, report: WritebackReport) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier.send(change)
        except CrmUnavailable as exc:
            self.queue.retry_later(message, backoff_seconds(message.receive_count, self.rng))
            report.failed_message_ids.append(message.message_id)
            report.retried[change.lead_id] = str(exc)


def _request(record: LeadRecord) -> WriteRequest:
    assert record.card is not None
    ids = {kind: value for kind, _, value in (key.partition(":") for key in record.keys)}
    return WriteRequest(
        lead_id=record.lead_id,
        card=record.card,
        tier_changed_at=record.tier_changed_at,
        hubspot_id=ids.get("hubspot"),
        salesforce_id=ids.get("salesforce"),
        email=ids.get("email"),
    )


def _outcomes(results: dict[str, WriteResult]) -> dict[str, Any]:
    """Each CRM's outcome, and why for those that did not write (what the console shows)."""
    return {
        "outcomes": {name: result.status for name, result in results.items()},
        "reasons": {name: result.reason for name, result in results.items() if result.status != "written"},
    }
