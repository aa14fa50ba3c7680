"""Upkeep, the hourly scheduled run: three jobs in turn, each resumable.

1. Decay costs O(due leads): the sparse `due` index holds only leads whose visible score changes
   at some `next_change_at`; its projection carries each lead's basis, so a due lead is rescored
   from that one index item. A lead moves out of the due window as soon as it is saved, so an
   interrupted run needs no cursor: the next run starts where this one stopped.
2. A new rules fingerprint starts a paged rescore of every lead from its events; the scan
   position is stored, so it resumes in the next run until it is done.
3. The outbox sweep: visible changes whose write-back task got lost (SQS down during a webhook)
   are queued again.
4. Once per table: events stored before the activity index get their time, a page of leads a
   run, so every lead's activity lists them.
5. Once a day: the score's health (domain/score_health.py), so tier inflation raises its alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.basis import ScoreBasis, StaleBasis
from chalicelib.domain.named_scoring import named_before, named_now
from chalicelib.domain.rules import Rules
from chalicelib.domain.scoring import card_from_basis
from chalicelib.storage.ports import DueLead, LeadSave, Storage, VersionConflict

from .publishing import ChangePublisher
from .rescoring import MAX_ATTEMPTS, Rescored, Rescorer, score_lead

TIME_MARGIN_SECONDS = 30
# `:2`: a run that finished before the lead items' keys (last activity, names) were added runs again.
ACTIVITY_BACKFILL = "activity_backfill:2"
SCORE_HEALTH = "score_health"


@dataclass
class UpkeepReport:
    due: int = 0
    rescored: list[Rescored] = field(default_factory=list)
    full_rescores: int = 0
    rules_sweep: dict[str, Any] = field(default_factory=dict)
    requeued: int = 0
    stopped_early: bool = False
    activity_backfill: dict[str, Any] = field(default_factory=dict)
    inflating: bool | None = None  # the daily health check's verdict (None: not checked this run)

    @property
    def changed(self) -> list[Rescored]:
        return [item for item in self.rescored if item.card_change.visible_changed]

    def summary(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "changed": len(self.changed),
            "full_rescores": self.full_rescores,
            "requeued": self.requeued,
            "stopped_early": self.stopped_early,
            "rules_sweep_done": self.rules_sweep.get("done"),
            "inflating": self.inflating,
        }


class Upkeep:
    def __init__(
        self,
        storage: Storage,
        rules: Callable[[], Rules],
        rescorer: Rescorer,
        publisher: ChangePublisher,
        sync_grace: timedelta = timedelta(minutes=15),
        shadow: Callable[[], Rules | None] = lambda: None,
        rules_settled: Callable[[datetime], bool] = lambda now: True,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """`rules_settled(now)`: whether every container has seen the rules version in force;
        `health()`: the score health report, checked once a day for tier inflation."""
        self.health = health
        self.storage = storage
        self.rules = rules
        self.shadow = shadow
        self.rules_settled = rules_settled
        self.rescorer = rescorer
        self.publisher = publisher
        self.sync_grace = sync_grace

    def run(
        self, now: datetime, time_left: Callable[[], float] = lambda: float("inf"), dry_run: bool = False
    ) -> UpkeepReport:
        """`time_left()` is seconds of Lambda time remaining; upkeep stops with a margin to spare."""
        report = UpkeepReport()

        def out_of_time() -> bool:
            report.stopped_early = report.stopped_early or time_left() < TIME_MARGIN_SECONDS
            return report.stopped_early

        for due in self.storage.jobs.due_leads(now):
            if out_of_time():
                break
            report.due += 1
            try:
                rescored = self._decay_one(due, now, dry_run)
            except _Gone:
                continue
            if rescored is None:
                report.full_rescores += 1
                rescored = self._full_rescore(due.lead_id, now, dry_run)
            if rescored is not None:
                report.rescored.append(rescored)

        report.rules_sweep = self._rules_sweep(now, dry_run, out_of_time, report)
        report.activity_backfill = self._activity_backfill(dry_run, out_of_time)
        if self.health is not None and not dry_run and not out_of_time():
            report.inflating = self._health_check(now)
        if not dry_run:
            self.publisher.publish(report.rescored)
            report.requeued = self.publisher.requeue(self.storage.outbox.pending_sync(older_than=now - self.sync_grace))
        return report

    def _rules_sweep(
        self, now: datetime, dry_run: bool, out_of_time: Callable[[], bool], report: UpkeepReport
    ) -> dict[str, Any]:
        """New rules (an active version, or a shadow beside it): bring every lead up to date, a
        page a run, resumably. It starts once every container can have seen the change, so no
        lead is scored again with the old rules behind it."""
        shadow = self.shadow()
        fingerprint = self.rules().fingerprint
        wanted = {"fingerprint": fingerprint, "shadow": shadow.fingerprint if shadow else None}
        progress = self.storage.jobs.rules_progress()
        if any(progress.get(key) != value for key, value in wanted.items()):
            if not self.rules_settled(now):
                return {**wanted, "done": False, "rescored": 0, "waiting": True}
            # A shadow stopped changes no lead's score: nothing to sweep.
            stopped = progress.get("fingerprint") == fingerprint and progress.get("done") and shadow is None
            progress = {**wanted, "start_key": None, "done": bool(stopped), "rescored": 0}
            if stopped:
                self.storage.jobs.save_rules_progress(progress)
        reason = "rules changed" if progress.get("shadow") is None or shadow is None else "shadow rules"
        while not progress["done"] and not dry_run and not out_of_time():
            lead_ids, next_key = self.storage.jobs.scan_leads(progress["start_key"])
            for lead_id in lead_ids:
                rescored = self.rescorer.bring_up_to_date(lead_id, now, reason)
                if rescored is not None:
                    report.rescored.append(rescored)
            progress.update(start_key=next_key, done=next_key is None, rescored=progress["rescored"] + len(lead_ids))
            self.storage.jobs.save_rules_progress(progress)
        return {key: progress.get(key) for key in ("fingerprint", "shadow", "done", "rescored")}

    def _health_check(self, now: datetime) -> bool | None:
        """Once a UTC day: whether the latest month shows tier inflation (None: checked today)."""
        today = now.date().isoformat()
        if self.storage.jobs.job_state(SCORE_HEALTH).get("day") == today:
            return None
        assert self.health is not None
        inflating = bool(self.health()["inflating"])
        self.storage.jobs.save_job_state(SCORE_HEALTH, {"day": today, "inflating": inflating})
        return inflating

    def _activity_backfill(self, dry_run: bool, out_of_time: Callable[[], bool]) -> dict[str, Any]:
        state: dict[str, Any] = {"start_key": None, "done": False, "items": 0}
        state.update(self.storage.jobs.job_state(ACTIVITY_BACKFILL))
        while not state["done"] and not dry_run and not out_of_time():
            lead_ids, next_key = self.storage.jobs.scan_leads(state["start_key"])
            state["items"] += sum(self.storage.events.add_feed_keys(lead_id) for lead_id in lead_ids)
            state.update(start_key=next_key, done=next_key is None)
            self.storage.jobs.save_job_state(ACTIVITY_BACKFILL, state)
        return {"done": state["done"], "items": state["items"]}

    def _decay_one(self, due: DueLead, now: datetime, dry_run: bool) -> Rescored | None:
        """Rescore from the projected basis; None when it cannot be used (other rules)."""
        rules = self.rules()
        for _ in range(MAX_ATTEMPTS):
            try:
                basis = ScoreBasis.from_json(due.basis, rules) if due.basis else None
            except StaleBasis:
                basis = None
            if basis is None:
                return None
            card = card_from_basis(basis, rules, now, previous_tier=due.visible.tier)
            stored, before = None, named_before(due.basis)
            if rules.scores:  # their scores move with the basis: the next decay compares with them
                try:
                    kept, cards = named_now((due.basis or {}).get("named"), rules, now)
                except StaleBasis:
                    return None
                card, stored = card.model_copy(update={"named": cards}), {**(due.basis or {}), "named": kept}
            if dry_run:
                return Rescored(due.lead_id, due.version, due.visible, card, named_before=before)
            change = LeadSave(due.lead_id, due.version, card, due.visible, now, basis=stored, reason="decay",
                              named_before=before)  # fmt: skip
            try:
                version = self.storage.leads.save(change)
            except VersionConflict:
                # The index lags the table: the lead changed (new events folded in, most likely).
                # Its item has the newer basis: decay that one, without reading the events.
                record = self.storage.leads.get_lead(due.lead_id)
                if record is None or record.card is None or record.merged_into:
                    raise _Gone(due.lead_id) from None  # deleted or merged meanwhile: nothing left to decay
                due = DueLead(due.lead_id, record.version, record.basis, record.card.visible)
                continue
            return Rescored(due.lead_id, version, due.visible, card, named_before=before)
        return None

    def _full_rescore(self, lead_id: str, now: datetime, dry_run: bool) -> Rescored | None:
        if not dry_run:
            return self.rescorer.rescore(lead_id, now, reason="decay")
        record = self.storage.leads.load(lead_id, now)
        if record is None:
            return None
        _, _, card = score_lead(record, self.rules(), now)
        return Rescored(lead_id, record.version, record.card.visible if record.card else None, card,
                        named_before=record.card.named_visible if record.card else {})  # fmt: skip


class _Gone(Exception):
    """The lead was deleted or merged away after the due index was read."""


def describe(report: UpkeepReport) -> list[str]:
    lines = [f"due leads: {report.due}, visible changes: {len(report.changed)}, full rescores: {report.full_rescores}"]
    sweep = report.rules_sweep
    if sweep:
        state = "done" if sweep.get("done") else "in progress (the next run goes on)"
        lines.append(f"rules {sweep.get('fingerprint', '?')[:12]}: rescore of every lead {state}, "
                     f"{sweep.get('rescored', 0)} rescored so far")  # fmt: skip
    for item in as_json(report)["changed"]:
        before = item["before"]
        was = "new" if before is None else f"{before['score']} {before['tier']} {before['grade']}"
        after = item["after"]
        lines.append(f"{item['lead_id']}: {was} -> {after['score']} {after['tier']} {after['grade']} "
                     f"(next change {item['next_change_at'] or 'never'})")  # fmt: skip
    if report.requeued:
        lines.append(f"write-backs queued again: {report.requeued}")
    backfill = report.activity_backfill
    if backfill and not backfill.get("done"):
        lines.append(f"indexes: {backfill.get('items', 0)} items stored before them added so far; "
                     "the next run goes on")  # fmt: skip
    if report.stopped_early:
        lines.append("stopped early for time; the next run continues")
    return lines


def as_json(report: UpkeepReport) -> dict[str, Any]:
    """The run for `decay --json`: the summary and each visible change, timestamps in UTC with Z."""
    from chalicelib.domain.events import iso_z

    def card(score: Any) -> dict[str, Any]:
        return {"score": score.score, "tier": score.tier, "grade": score.grade}

    changed = [
        {
            "lead_id": item.lead_id,
            "before": None if item.before is None else card(item.before),
            "after": card(item.after),
            "next_change_at": iso_z(item.after.next_change_at) if item.after.next_change_at else None,
        }
        for item in report.changed
    ]
    return {**report.summary(), "rules_sweep": dict(report.rules_sweep), "changed": changed}
