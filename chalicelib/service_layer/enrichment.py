"""Enrichment, the handler of `ReadRecords` tasks: records a delivery named without their
properties are read from their CRM (one batch read per 100) and ingested as profile events, so
the leads are rescored. Off the webhook's clock: a webhook never waits for a CRM."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import Unavailable
from chalicelib.observability import logger

from .commands import ParsedDelivery
from .messages import ReadRecords, ReceivedTask, TaskQueue
from .task_report import TaskReport, backoff_seconds

if TYPE_CHECKING:
    from chalicelib.crm.ports import CompanyDirectory, ProfileDirectory

    from .ingest import Ingestion


class Enrichment:
    def __init__(
        self,
        directories: Mapping[str, ProfileDirectory],
        ingestion: Callable[[], Ingestion],
        queue: TaskQueue,
        rng: Callable[[float, float], float] = random.uniform,
        companies: Mapping[str, CompanyDirectory] | None = None,
    ) -> None:
        """`directories` by identity kind ("hubspot": the HubSpot contacts reader); `ingestion` is
        built on first use, so a consumer that only writes scores back never loads the engine;
        `companies`: the readers of CRM companies (their properties feed the accounts)."""
        self.directories = dict(directories)
        self.companies = dict(companies or {})
        self.ingestion = ingestion
        self.queue = queue
        self.rng = rng

    def read(self, directory: str, record_ids: Sequence[str], now: datetime) -> int:
        """Read the records and ingest them; how many events they came to. Raises CrmUnavailable
        (or StorageUnavailable)."""
        companies = self.companies.get(directory)
        if companies is not None:
            changes = companies.read_companies(sorted(set(record_ids)))
            self.ingestion().account_records.apply(changes, now)
            return len(changes)
        reader = self.directories.get(directory)
        if reader is None:
            return 0
        events = reader.read_profiles(sorted(set(record_ids)))
        return self.ingestion().ingest(ParsedDelivery(events=events), now, read_records=False).accepted

    def handle(
        self, directory: str, items: list[tuple[ReceivedTask, ReadRecords]], now: datetime, report: TaskReport
    ) -> None:
        """All of a batch's records of one CRM in one read, then one ingest; if the CRM or storage
        fails, every task of it is retried later with backoff."""
        record_ids = sorted({record_id for _, item in items for record_id in item.record_ids})
        try:
            self.read(directory, record_ids, now)
        except Unavailable as exc:
            delay = backoff_seconds(max(message.receive_count for message, _ in items), self.rng)
            for message, _ in items:
                self.queue.retry_later(message, delay)
                report.failed_message_ids.append(message.message_id)
            report.retried[f"read_records:{directory}"] = str(exc)
            logger.warning("profile read retry", extra={"directory": directory, "delay_seconds": round(delay, 1)})
            return
        report.records_read += len(record_ids)
