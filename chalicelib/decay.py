"""The scheduled job: decay, rules changes, and the outbox sweep.

1. Decay costs O(due leads): the sparse `due` index holds only leads whose visible score changes
   at some `next_change_at`; its projection carries each lead's basis, so a due lead is rescored
   from that one index item. A lead moves out of the due window as soon as it is saved, so an
   interrupted run needs no cursor: the next run starts where this one stopped.
2. A new rules fingerprint starts a paged rescore of every lead from its events; the scan
   position is stored, so it resumes in the next run until it is done.
3. Visible changes whose write-back message got lost (SQS down during a webhook) are queued again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import ScoreBasis, StaleBasis, card_from_basis
from chalicelib.service import LeadService, Rescored
from chalicelib.storage.items import VersionConflict
from chalicelib.writeback import sync_message


@dataclass
class DecayReport:
    due: int = 0
    rescored: list[Rescored] = field(default_factory=list)
    full_rescores: int = 0
    rules_sweep: dict[str, Any] = field(default_factory=dict)
    requeued: int = 0
    stopped_early: bool = False

    @property
    def changed(self) -> list[Rescored]:
        return [item for item in self.rescored if item.visible_change]


def run_decay(
    service: LeadService,
    now: datetime,
    time_left: Callable[[], float] = lambda: float("inf"),
    dry_run: bool = False,
    sync_grace: timedelta = timedelta(minutes=15),
) -> DecayReport:
    """`time_left()` is seconds of Lambda time remaining; the job stops with a margin to spare."""
    report = DecayReport()

    def out_of_time() -> bool:
        report.stopped_early = report.stopped_early or time_left() < 30
        return report.stopped_early

    rules = service.rules()
    repository = service.repository
    for item in repository.due_leads(now):
        if out_of_time():
            break
        report.due += 1
        rescored = _decay_one(service, item, now, dry_run)
        if rescored is None:
            report.full_rescores += 1
            rescored = _full_rescore(service, item["lead_id"], now, dry_run)
        if rescored is not None:
            report.rescored.append(rescored)

    progress = repository.rules_progress()
    if progress.get("fingerprint") != rules.fingerprint:
        progress = {"fingerprint": rules.fingerprint, "start_key": None, "done": False, "rescored": 0}
    while not progress["done"] and not dry_run and not out_of_time():
        lead_ids, next_key = repository.scan_leads(progress["start_key"])
        for lead_id in lead_ids:
            report.rescored.append(service.rescore(lead_id, now, reason="rules changed"))
        progress.update(start_key=next_key, done=next_key is None, rescored=progress["rescored"] + len(lead_ids))
        repository.save_rules_progress(progress)
    report.rules_sweep = {key: progress[key] for key in ("fingerprint", "done", "rescored")}

    if not dry_run:
        service.publish(report.rescored)
        stale = repository.pending_sync(older_than=now - sync_grace)
        if stale and service.queue is not None:
            service.queue.send([sync_message(lead_id, 0) for lead_id in stale])
            report.requeued = len(stale)
    return report


def _decay_one(service: LeadService, item: dict[str, Any], now: datetime, dry_run: bool) -> Rescored | None:
    """Rescore from the projected basis; None when it cannot be used (other rules, a race)."""
    rules = service.rules()
    try:
        basis = ScoreBasis.from_json(item["basis"], rules) if item.get("basis") else None
    except StaleBasis:
        basis = None
    if basis is None:
        return None
    before = item["visible"]
    card = card_from_basis(basis, rules, now, previous_tier=before[1])
    if dry_run:
        return Rescored(item["lead_id"], item["version"], before, card)
    try:
        version = service.repository.save(item["lead_id"], item["version"], card, before, now, reason="decay")
    except VersionConflict:
        return None  # the index lags the table: the lead changed, rescore it from its events
    return Rescored(item["lead_id"], version, before, card)


def _full_rescore(service: LeadService, lead_id: str, now: datetime, dry_run: bool) -> Rescored | None:
    if not dry_run:
        return service.rescore(lead_id, now, reason="decay")
    record = service.repository.load(lead_id, now)
    if record is None:
        return None
    _, _, card = service.score_record(record, now)
    return Rescored(lead_id, record.version, record.card.visible if record.card else None, card)


def describe(report: DecayReport) -> list[str]:
    lines = [
        f"due leads: {report.due}, visible changes: {len(report.changed)}, full rescores: {report.full_rescores}",
        f"rules sweep: {report.rules_sweep}",
    ]
    for item in report.changed:
        before = "new" if item.before is None else f"{item.before[0]} {item.before[1]} {item.before[2]}"
        after = item.after
        when = after.next_change_at.isoformat() if after.next_change_at else "never"
        lines.append(f"{item.lead_id}: {before} -> {after.score} {after.tier} {after.grade} (next change {when})")
    if report.requeued:
        lines.append(f"write-backs queued again: {report.requeued}")
    if report.stopped_early:
        lines.append("stopped early for time; the next run continues")
    return lines
