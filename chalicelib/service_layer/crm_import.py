"""Day-one import and hourly reconciliation: page through a CRM's records, turn each into dated
events (its profile and the activity it records), score and store them, queue the write-back.

Both are the same loop over a `RecordReader`, resumable from a cursor stored in DynamoDB after
every page: a crash, a Lambda timeout or the CRM's daily limit stops it, and the next run goes on
from the page it stopped at. Every event id is derived from the record, so reading a record again
adds nothing and changes nothing: a rerun queues no write-back.

The reconciliation reads what changed since its previous run started (less an overlap), so a
webhook the CRM failed to deliver is still scored within the hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.crm.ports import Cursor, RecordReader
from chalicelib.errors import QuotaExhausted
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.ports import Storage

TIME_MARGIN_SECONDS = 30
RECONCILE_OVERLAP = timedelta(minutes=10)  # records modified while the previous run read
FIRST_RECONCILE_WINDOW = timedelta(days=1)


@dataclass
class ImportReport:
    source: str
    records: int = 0
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    changed: int = 0  # leads whose visible score changed: write-backs queued
    api_calls: int = 0
    resumed: bool = False
    done: bool = False
    stopped: str | None = None  # why it stopped before the end: the CRM's quota, the time left
    tiers: Counter[str] = field(default_factory=Counter)  # a dry run's would-be tiers

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "records": self.records,
            "pages": self.pages,
            "accepted": self.accepted,
            "changed": self.changed,
            "api_calls": self.api_calls,
            "done": self.done,
            "stopped": self.stopped,
        }


class CrmImport:
    def __init__(self, storage: Storage, ingest: Any, score_only: Callable[[list[Any], datetime], Counter[str]]):
        """`ingest(delivery, now, read_records=False)` is LeadService.ingest; `score_only(events,
        now)` counts the tiers the events would give, for a dry run."""
        self.storage = storage
        self.ingest = ingest
        self.score_only = score_only

    def run(
        self,
        reader: RecordReader,
        now: datetime,
        since: str | None = None,
        dry_run: bool = False,
        restart: bool = False,
        progress: Callable[[int], None] = lambda records: None,
        time_left: Callable[[], float] = lambda: float("inf"),
        job: str = "import",
    ) -> ImportReport:
        """Import every record (modified since `since`), resuming a stopped import of the same
        `since` unless `restart`. A dry run reads and scores, and stores nothing."""
        name = f"{job}:{reader.name}"
        state = {} if dry_run else self.storage.jobs.job_state(name)
        report = ImportReport(reader.name)
        calls_before = reader.calls_made
        cursor: Cursor | None
        if not restart and state.get("cursor") and state.get("since") == since:
            cursor, report.resumed = state["cursor"], True
            report.records = int(state.get("records", 0))
        else:
            cursor = reader.first_cursor(since)
            state = {"since": since, "started_at": now.isoformat(), "records": 0}
        try:
            while cursor is not None:
                if time_left() < TIME_MARGIN_SECONDS:
                    report.stopped = "out of time; the next run continues"
                    break
                page = reader.page(cursor)
                report.pages += 1
                report.records += page.records
                if dry_run:
                    report.tiers += self.score_only(page.events, now)
                else:
                    delivery = ParsedDelivery(events=page.events, merges=page.merges)
                    result = self.ingest(delivery, now, read_records=False)
                    report.accepted += result.accepted
                    report.duplicates += result.duplicates
                    report.changed += sum(1 for item in result.rescored if item.card_change.visible_changed)
                    state.update(cursor=page.next_cursor, records=report.records, done=page.next_cursor is None)
                    self.storage.jobs.save_job_state(name, state)
                cursor = page.next_cursor
                progress(page.records)
        except QuotaExhausted as exc:
            report.stopped = f"{exc}; the cursor is kept, run again after the reset"
        report.done = cursor is None
        report.api_calls = reader.calls_made - calls_before
        return report

    def reconcile(
        self, reader: RecordReader, now: datetime, time_left: Callable[[], float] = lambda: float("inf")
    ) -> ImportReport:
        """Records modified since the previous reconciliation started (the first: the last day)."""
        name = f"reconcile:{reader.name}"
        state = self.storage.jobs.job_state(name)
        if state.get("cursor"):
            since = state.get("since")  # a run that stopped early: go on with it
        else:
            since = state.get("next_since") or (now - FIRST_RECONCILE_WINDOW).isoformat()
        report = self.run(reader, now, since=since, time_left=time_left, job="reconcile")
        if report.done:
            state = self.storage.jobs.job_state(name)
            started = datetime.fromisoformat(state.get("started_at") or now.isoformat())
            state.update(next_since=(started - RECONCILE_OVERLAP).isoformat(), cursor=None)
            self.storage.jobs.save_job_state(name, state)
        return report
