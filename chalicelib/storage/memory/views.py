"""The change outbox, the listing and reports, the jobs' state and the unscored counts, in memory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.events import as_utc, from_us, iso_z
from chalicelib.domain.score_change import change
from chalicelib.domain.unscored import UnscoredCount, seen_at
from chalicelib.storage.listing import company_key, display_name, name_keys, search_key
from chalicelib.storage.listing_order import in_months, latest_first, month_partitions, partitions
from chalicelib.storage.ports import READ_BOUND, DueLead, LeadPage, LeadRow, Order

from .state import LeadEntry, MemoryState


class MemoryOutbox:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        with self.state.lock:
            cutoff = older_than.isoformat()
            return [lead_id for lead_id, lead in self.state.leads.items() if lead.sync_at and lead.sync_at < cutoff][
                :limit
            ]

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is None or lead.record.version != version:
                return False
            lead.record.crm = json.loads(json.dumps(crm))
            lead.record.crm_attempt = None
            lead.sync_at = lead.record.sync_pending_since = None
            return True

    def claim_alert(self, lead_id: str, kind: str, at: datetime, quiet: timedelta, token: str) -> bool:
        with self.state.lock:
            sent = self.state.alerts.get((lead_id, kind))
            if sent is not None and sent[0] > as_utc(at - quiet) and sent[1] != token:
                return False
            self.state.alerts[(lead_id, kind)] = (as_utc(at), token)
            return True

    def release_alert(self, lead_id: str, kind: str, token: str) -> None:
        with self.state.lock:
            sent = self.state.alerts.get((lead_id, kind))
            if sent is not None and sent[1] == token:
                del self.state.alerts[(lead_id, kind)]

    def hold_alert(self, destination: str, day: date, name: str, alert: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.held.setdefault(destination, {})[f"{day.isoformat()}#{name}"] = json.loads(json.dumps(alert))

    def held_alerts(self, destination: str, before: date) -> list[tuple[str, dict[str, Any]]]:
        with self.state.lock:
            held = self.state.held.get(destination, {})
            return [(key, held[key]) for key in sorted(held) if key < before.isoformat()]

    def drop_held(self, destination: str, ids: Sequence[str]) -> None:
        with self.state.lock:
            for key in ids:
                self.state.held.get(destination, {}).pop(key, None)

    def reopen(self, lead_id: str, now: datetime) -> None:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is not None and lead.record.version:
                lead.sync_at = lead.record.sync_pending_since = now.isoformat()

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is not None and lead.record.version:
                lead.record.crm_attempt = json.loads(json.dumps(attempt))


class MemoryListing:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def tier_changes_on(self, day: date, limit: int = 1000) -> list[dict[str, Any]]:
        with self.state.lock:
            found = [
                {"lead_id": lead_id, **{k: v for k, v in change.items() if k in ("from", "to", "at", "score")}}
                for lead_id, lead in self.state.leads.items()
                for change in lead.tier_changes
                if as_utc(datetime.fromisoformat(change["at"])).date() == day
            ]
        return sorted(found, key=lambda change: change["at"], reverse=True)[:limit]

    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            changes = sorted(lead.tier_changes if lead else [], key=lambda c: (c["at"], c["_version"]), reverse=True)
            return [{k: v for k, v in change.items() if k != "_version"} for change in changes[:limit]]

    def leads_page(
        self,
        tiers: Sequence[str],
        grade: str | None,
        limit: int,
        cursor: str | None,
        keep: Callable[[LeadRow], bool] | None = None,
        order: Order = "score",
        today: date | None = None,
    ) -> LeadPage:
        cursor_order, _, number = (cursor or f"{order}:0").partition(":")
        if cursor_order != order or not number.isdigit():
            raise ValueError("not a cursor this list handed out")
        start = int(number)
        partitions(order, tiers, grade, today)  # what the table would refuse, refused alike
        with self.state.lock:
            position_of = {tier: position for position, tier in enumerate(tiers)}
            listed = [lead for lead in self.state.leads.values() if self._listed(lead, position_of, grade)]
            rows = sorted((self._row(lead, today) for lead in listed), key=_sort_key(order, position_of, today))
        page: list[LeadRow] = []
        position = start
        while position < len(rows) and len(page) < limit and position - start < READ_BOUND * limit:
            if keep is None or keep(rows[position]):
                page.append(rows[position])
            position += 1
        return LeadPage(page, f"{order}:{position}" if position < len(rows) else None)

    def search(self, text: str, limit: int, today: date | None = None) -> list[LeadRow]:
        key = search_key(text)

        def found(profile: dict[str, Any]) -> bool:
            keys = [company_key(profile.get("company") or ""), *name_keys(display_name(profile))]
            return any(known.startswith(key) for known in keys)

        with self.state.lock:
            leads = [lead for lead in self.state.leads.values() if lead.indexed and found(self._profile(lead))]
            rows = [self._row(lead, today) for lead in leads]
        return sorted(rows, key=lambda row: (-row.score, row.lead_id))[:limit]

    def lead_rows(self, lead_ids: Sequence[str], today: date | None = None) -> list[LeadRow]:
        with self.state.lock:
            return [
                self._row(self.state.leads[i], today)
                for i in dict.fromkeys(lead_ids)
                if i in self.state.leads and self.state.leads[i].indexed
            ]

    def count_leads(self, tiers: Sequence[str]) -> int:
        order = {tier: position for position, tier in enumerate(tiers)}
        with self.state.lock:
            return sum(1 for lead in self.state.leads.values() if self._listed(lead, order, None))

    @staticmethod
    def _listed(lead: LeadEntry, order: dict[str, int], grade: str | None) -> bool:
        card = lead.record.card
        return lead.indexed and card is not None and card.tier in order and (grade is None or card.grade == grade)

    @staticmethod
    def _profile(lead: LeadEntry) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(lead.record.profile_json or "{}")
        return found

    def _row(self, lead: LeadEntry, today: date | None = None) -> LeadRow:
        card = lead.record.card
        assert card is not None
        profile, basis = self._profile(lead), lead.record.basis or {}
        name = display_name(profile)
        last = basis.get("last_active_us")
        return LeadRow(
            lead_id=lead.record.lead_id, score=card.score, fit=card.fit, engagement=card.engagement,
            tier=card.tier, grade=card.grade, reasons=card.reasons(), updated_at=iso_z(card.scored_at),
            name=name or None, email=profile.get("email") or None, company=profile.get("company") or None,
            last_active_at=iso_z(from_us(int(last))) if last is not None else None,
            next_change_at=iso_z(card.next_change_at) if card.next_change_at else None,
            profile_json=lead.record.profile_json, keys=list(lead.record.keys), outcome=lead.record.outcome,
            account=lead.record.account, **_changes(card.score, lead.record.day_starts, today),
        )  # fmt: skip

    def report_rows(self) -> Iterator[dict[str, Any]]:
        with self.state.lock:
            leads = [lead for lead in self.state.leads.values() if lead.indexed and lead.record.card is not None]
        for lead in leads:
            card = lead.record.card
            assert card is not None
            yield {
                "lead_id": lead.record.lead_id,
                "tier": card.tier,
                "grade": card.grade,
                "score": card.score,
                "outcome": lead.record.outcome,
                "reasons": card.reasons(),
                "name": display_name(self._profile(lead)),
                "email": self._profile(lead).get("email"),
                "first_seen_at": _first_seen(lead.record.basis),
                "rules_fingerprint": card.rules_fingerprint,
                "shadow": _shown_shadow(lead.record.shadow),
            }


def _first_seen(basis: dict[str, Any] | None) -> str | None:
    first = (basis or {}).get("first_seen_us")
    return iso_z(from_us(int(first))) if first is not None else None


def _shown_shadow(shadow: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the report reads of the shadow, as the DynamoDB item holds it (the basis apart)."""
    return {"fingerprint": shadow["fingerprint"], "card": shadow["card"]} if shadow else None


def _changes(score: int, starts: dict[date, int], today: date | None) -> dict[str, int]:
    if today is None:
        return {}
    moved = change(score, starts, today)
    return {"change_1d": moved.since_yesterday, "change_7d": moved.this_week}


def _sort_key(order: Order, tiers: dict[str, int], today: date | None) -> Callable[[LeadRow], tuple[Any, ...]]:
    """The order storage/listing_order.py reads the indexes in."""

    def by_score(row: LeadRow) -> tuple[Any, ...]:
        return (tiers[row.tier], -row.score, row.lead_id)

    if order == "change":
        return lambda row: ((row.change_1d or 0) <= 0, (row.change_1d or 0) < 0, -(row.change_1d or 0), *by_score(row))
    if order == "last_active":
        assert today is not None
        months = month_partitions(today)

        def by_activity(row: LeadRow) -> tuple[Any, ...]:
            recent = in_months(row.last_active_at, months)
            return (0, latest_first(row.last_active_at or ""), row.lead_id) if recent else (1, *by_score(row))

        return by_activity
    return by_score


class MemoryJobs:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def due_leads(self, now: datetime) -> Iterator[DueLead]:
        with self.state.lock:
            due = [
                lead for lead in self.state.leads.values() if lead.due_at is not None and lead.due_at <= now.isoformat()
            ]
        for lead in due:
            card = lead.record.card
            assert card is not None
            yield DueLead(lead.record.lead_id, lead.record.version, lead.record.basis, card.visible)

    def rules_progress(self) -> dict[str, Any]:
        return dict(json.loads(json.dumps(self.state.meta.get("rules", {}))))

    def save_rules_progress(self, progress: dict[str, Any]) -> None:
        self.state.meta["rules"] = json.loads(json.dumps(progress))

    def job_state(self, name: str) -> dict[str, Any]:
        return dict(json.loads(json.dumps(self.state.meta.get(f"job:{name}", {}))))

    def save_job_state(self, name: str, state: dict[str, Any]) -> None:
        self.state.meta[f"job:{name}"] = json.loads(json.dumps(state))

    def scan_leads(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]:
        with self.state.lock:
            lead_ids = sorted(self.state.leads)
        start = int(start_key or 0)
        page = lead_ids[start : start + page_size]
        return page, (start + page_size if start + page_size < len(lead_ids) else None)


class MemoryEventCounts:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def count_unscored(self, lines: Sequence[UnscoredCount], now: datetime) -> None:
        day, at = seen_at(now)
        with self.state.lock:
            for line in lines:
                key = (day, line.key.source, line.key.reason, line.key.name)
                found = self.state.unscored_counts.setdefault(
                    key, {**asdict(line.key), "count": 0, "first_seen": at, "last_seen": at, "example_lead": ""}
                )
                found.update(count=found["count"] + line.count, last_seen=at, example_lead=line.example_lead)

    def unscored_lines(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        wanted = set(days)
        with self.state.lock:
            found = [dict(line) for key, line in sorted(self.state.unscored_counts.items()) if key[0] in wanted]
        return iter(found)
