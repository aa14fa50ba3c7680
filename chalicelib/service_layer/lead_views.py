"""What the console and the leads API show: one lead (its card, reasons, CRM context, change since
yesterday, tier history and write-back state), its score a day at a time, its activity, and the
leads list a page at a time in the order asked, as a search finds them, or its new MQLs. Reads only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.accounts import account_of
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.crm_context import CrmPlaces, crm_links, owner_of, owner_refs, stage_of
from chalicelib.domain.events import iso_z
from chalicelib.domain.identity import parse_key
from chalicelib.domain.profile import Profile
from chalicelib.domain.rules import Rules
from chalicelib.domain.score_change import change
from chalicelib.domain.shadow import current as current_shadow
from chalicelib.errors import RequestRefused
from chalicelib.storage.listing_order import latest_first
from chalicelib.storage.ports import LeadRecord, LeadRow, Order, Storage

from .account_views import account_cells, lead_account_view
from .errors import BadPayload
from .leads_query import LeadsQuery
from .owners import OwnerNames


class ActivityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=2048, description="next_cursor of the previous page")
    limit: int = Field(default=25, ge=1, le=100)


def is_lead_id(text: str) -> bool:
    return text.startswith("ld_") and len(text) == 23 and all(c in "0123456789abcdef" for c in text[3:])


def write_statuses(attempt: dict[str, Any]) -> dict[str, str]:
    """Each CRM's write status (items written before the rename kept them as `outcomes`)."""
    return dict(attempt.get("statuses") or attempt.get("outcomes") or {})


class LeadViews:
    def __init__(
        self,
        storage: Storage,
        rules: Callable[[], Rules],
        survivor: Callable[[str], str],
        places: CrmPlaces | None = None,
        shadow: Callable[[], Rules | None] = lambda: None,
        registrable: Callable[[str], str | None] = lambda domain: None,
    ) -> None:
        """`survivor` follows merges to the lead that holds the events now; `places` what the
        deployment knows of its CRMs' addresses (for record links); `shadow` the shadow rules;
        `registrable` a host's registrable domain (the Public Suffix List), for accounts."""
        self.storage = storage
        self.rules = rules
        self.shadow = shadow
        self.registrable = registrable
        self.survivor = survivor
        self.places = places or CrmPlaces()
        self.owner_names = OwnerNames(storage)

    def crm_context(self, rows: list[tuple[str | None, list[str], dict[str, Any] | None]]) -> list[dict[str, Any]]:
        """For each (profile JSON, identity keys, outcome): its CRM links, owner, stage and outcome,
        the owners' names read once for all of them."""
        profiles = [Profile.model_validate_json(profile_json or "{}") for profile_json, _, _ in rows]
        crms = {crm for profile in profiles for crm, _ in owner_refs(profile)}
        names = self.owner_names.names(crms) if crms else {}
        return [
            {
                "crm_links": crm_links(keys, profile, self.places),
                "owner": owner_of(profile, names),
                "stage": stage_of(profile),
                "outcome": _outcome(outcome),
            }
            for profile, (_, keys, outcome) in zip(profiles, rows, strict=True)
        ]

    def find_lead_id(self, key: str) -> str | None:
        identity = parse_key(key)
        if identity is not None:
            return self.storage.leads.resolve([identity]).get(identity)
        return key if is_lead_id(key) else None

    def lead(self, key: str, now: datetime) -> dict[str, Any] | None:
        lead_id = self.find_lead_id(key)
        record = self.storage.leads.get_lead(self.survivor(lead_id)) if lead_id else None
        if record is None or record.card is None:
            return None
        card = record.card
        profile = Profile.model_validate_json(record.profile_json or "{}")
        [context] = self.crm_context([(record.profile_json, record.keys, record.outcome)])
        moved = change(card.score, record.day_starts, now.date())
        return {
            "lead_id": record.lead_id,
            "identities": record.keys,
            **context,
            "change_1d": moved.since_yesterday,
            "change_7d": moved.this_week,
            "tier_changes": [
                {**change, "at": iso_z(change["at"])} for change in self.storage.listing.tier_changes(record.lead_id)
            ],
            "write_back": _write_back(record),
            "profile": profile.model_dump(exclude_defaults=True),
            "account": self.account(profile),
            "score": card.score,
            "tier": card.tier,
            "grade": card.grade,
            "fit": card.fit,
            "engagement": card.engagement,
            "reasons": card.reasons(),
            "card": card.model_dump(mode="json"),
            # The shadow rules' card beside the real one: shown, never written to a CRM.
            "shadow": current_shadow(record.shadow, self.shadow(), now),
        }

    def account(self, profile: Profile) -> dict[str, Any] | None:
        """The company the lead belongs to (domain/accounts.py): its key, id, name, how it is
        known, and its score and tier once it has been rolled up."""
        found = account_of(profile, compile_rules(self.rules()).account_excluded, self.registrable)
        return lead_account_view(found, self.storage.accounts.get(found.key)) if found else None

    def timeline(self, key: str, now: datetime) -> dict[str, Any] | None:
        """The lead's score a day at a time: the last 90 days recomputed from its stored events with
        the rules in force, the next 90 projected from decay alone."""
        from chalicelib.domain.timeline import score_timeline

        lead_id = self.find_lead_id(key)
        record = self.storage.leads.load(self.survivor(lead_id), now) if lead_id else None
        if record is None or record.card is None:
            return None
        rules = self.rules()
        points = score_timeline(record.events, rules, now)
        past = [point.score for point in points if not point.projected]
        return {
            "lead_id": record.lead_id,
            # The score now against this time yesterday and a week ago (the past points are a day apart).
            "change_1d": past[-1] - past[-2] if len(past) > 1 else None,
            "change_7d": past[-1] - past[-8] if len(past) > 7 else None,
            "tiers": [{"name": band.name, "min": band.min} for band in rules.tiers.bands],
            "points": [
                {
                    "at": iso_z(point.at),
                    "score": point.score,
                    "fit": point.fit,
                    "engagement": point.engagement,
                    "tier": point.tier,
                    "projected": point.projected,
                }
                for point in points
            ],
        }

    def activity(self, key: str, query: ActivityQuery, now: datetime) -> dict[str, Any] | None:
        """What the lead did, newest first, a page at a time: each event named as a rep reads it,
        with what it is worth now or why it is worth nothing (domain/activity.py)."""
        from chalicelib.domain.activity import activity_line, is_activity
        from chalicelib.domain.cancellations import cancelled_from_json
        from chalicelib.domain.compiled_rules import compile_rules

        lead_id = self.find_lead_id(key)
        record = self.storage.leads.get_lead(self.survivor(lead_id)) if lead_id else None
        if record is None:
            return None
        try:
            page = self.storage.events.page(record.lead_id, query.limit, query.cursor, now)
        except (ValueError, RequestRefused) as exc:
            raise BadPayload("not a cursor this list handed out", field="cursor") from exc
        compiled = compile_rules(self.rules())
        card = record.card
        capped = frozenset(c.rule for c in card.contributions if c.capped) if card else frozenset()
        cancelled = cancelled_from_json((record.basis or {}).get("cancelled"))
        lines = (activity_line(event, compiled, now, capped, cancelled) for event in page.events if is_activity(event))
        return {"lead_id": record.lead_id, "activity": [line.to_json() for line in lines], "next_cursor": page.cursor}

    def leads(self, query: LeadsQuery, now: datetime) -> dict[str, Any]:
        """A page of the leads list in the order asked, what a search finds (an email, a CRM id, the
        start of a company or a name), or the new MQLs of the last days; each row with its change
        since yesterday and over the week (as of `now`)."""
        rules = self.rules()
        today = now.date()
        if query.view == "new_mqls":
            return self.new_mqls(query, rules, now)
        if not query.q:
            try:
                page = self.storage.listing.leads_page(
                    query.tiers(rules), query.grade, query.limit, query.cursor, query.keeps(rules), query.sort, today
                )
            except (ValueError, RequestRefused) as exc:
                raise BadPayload("not a cursor this list handed out", field="cursor") from exc
            return {"leads": self._rows(page.rows), "next_cursor": page.cursor}
        key = query.identity_key()
        if key is not None or is_lead_id(query.q.strip()):
            lead_id = self.find_lead_id(key or query.q.strip())
            rows = self.storage.listing.lead_rows([self.survivor(lead_id)], today) if lead_id else []
        else:
            try:
                rows = self.storage.listing.search(query.q, query.limit, today)
            except ValueError as exc:
                raise BadPayload(str(exc), field="q") from exc
            rows = sorted(rows, key=sorted_by(query.sort))
        tiers = set(query.tiers(rules))
        keep = query.keeps(rules) or (lambda row: True)
        found = [
            row for row in rows if row.tier in tiers and (query.grade is None or row.grade == query.grade) and keep(row)
        ]
        return {"leads": self._rows(found), "next_cursor": None}

    def new_mqls(self, query: LeadsQuery, rules: Rules, now: datetime) -> dict[str, Any]:
        """Leads that entered MQL (from below it, or new) in the last `days` days, newest entry
        first, each once: one Query per day of the tier changes, then the leads shown."""
        from chalicelib.domain.tiers import is_mql

        bands = [(band.min, band.name) for band in rules.tiers.bands]

        def mql(tier: str | None) -> bool:
            return tier is not None and is_mql(tier, bands, rules.tiers.mql_from)

        entered: dict[str, dict[str, Any]] = {}
        for offset in range(query.days):
            for moved in self.storage.listing.tier_changes_on((now - timedelta(days=offset)).date()):
                if mql(moved["to"]) and not mql(moved["from"]) and moved["lead_id"] not in entered:
                    entered[moved["lead_id"]] = moved
        keep = query.keeps(rules) or (lambda row: True)
        rows = [row for row in self.storage.listing.lead_rows(list(entered), now.date()) if keep(row)][: query.limit]
        shown = self._rows(rows)
        for row in shown:
            entry = entered[row["lead_id"]]
            row["entered_mql"] = {"at": iso_z(entry["at"]), "from": entry["from"], "to": entry["to"],
                                  "score": entry["score"]}  # fmt: skip
        shown.sort(key=lambda row: row["entered_mql"]["at"], reverse=True)
        return {"leads": shown, "next_cursor": None}

    def _rows(self, rows: list[LeadRow]) -> list[dict[str, Any]]:
        contexts = self.crm_context([(row.profile_json, row.keys, row.outcome) for row in rows])
        cells = account_cells(self.storage, [row.account for row in rows])
        hidden = {"profile_json", "keys", "account"}
        return [
            {
                **{name: value for name, value in asdict(row).items() if name not in hidden},
                **context,
                "account": cells.get(row.account) if row.account else None,
            }
            for row, context in zip(rows, contexts, strict=True)
        ]


def sorted_by(order: Order) -> Callable[[LeadRow], tuple[Any, ...]]:
    """A found few (a search's) in the order asked, as the list pages them (listing_order.py)."""
    if order == "change":
        return lambda row: (-(row.change_1d or 0), -row.score, row.lead_id)
    if order == "last_active":
        return lambda row: (row.last_active_at is None, latest_first(row.last_active_at or ""), -row.score)
    return lambda row: (-row.score, row.lead_id)


def _outcome(outcome: dict[str, Any] | None) -> dict[str, Any] | None:
    """How the lead ended in the CRM (won, lost ...), its time in UTC with Z."""
    if outcome and outcome.get("at"):
        return {**outcome, "at": iso_z(outcome["at"])}
    return outcome


def _write_back(record: LeadRecord) -> dict[str, Any]:
    """The lead's write-back state with labelled fields: what was last written (score, tier, grade),
    when, each CRM's write status, and since when a newer change waits."""
    pending = record.sync_pending_since
    last = record.crm
    written = None
    if last:
        visible = last.get("visible") or [None, None, None]
        written = {
            "score": visible[0], "tier": visible[1], "grade": visible[2], "version": last.get("version"),
            "at": iso_z(last["at"]) if last.get("at") else None,
            "statuses": write_statuses(last), "reasons": last.get("reasons", {}),
            "moves": last.get("moves", {}),  # what entering MQL moved in each CRM (crm_actions)
        }  # fmt: skip
    attempt = record.crm_attempt
    failed = None
    if attempt:
        failed = {
            "at": iso_z(attempt["at"]), "statuses": write_statuses(attempt),
            "reasons": attempt.get("reasons", {}), "retry_in_seconds": attempt.get("retry_in_seconds"),
        }  # fmt: skip
    return {
        "pending_since": iso_z(pending) if pending else None,
        "last": written,
        "last_failed_attempt": failed,
    }
