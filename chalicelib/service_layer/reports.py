"""The reports: how each tier converted (GET /reports/tiers), the won leads that scored low and
the lost ones that scored MQL (GET /reports/exceptions), and what earned nothing, by source, name
and reason (GET /reports/unscored)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.domain.rules import Rules
from chalicelib.domain.unscored import day_buckets, merge_buckets
from chalicelib.service_layer.errors import Conflict
from chalicelib.storage.ports import Storage


class Reports:
    def __init__(
        self,
        storage: Storage,
        rules: Callable[[], Rules],
        shadow: Callable[[], Rules | None] = lambda: None,
        shadow_since: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        self.storage = storage
        self.rules = rules
        self.shadow = shadow
        self.shadow_since = shadow_since

    def tier_report(self) -> dict[str, Any]:
        from chalicelib.domain.outcome_report import tier_report

        return tier_report(self.storage.listing.report_rows(), self.rules())

    def exceptions_report(self, limit: int = 10) -> dict[str, Any]:
        from chalicelib.domain.exceptions_report import exceptions
        from chalicelib.domain.outcome_report import as_counted

        rows = [as_counted(row) for row in self.storage.listing.report_rows()]
        found = exceptions(rows, self.rules(), limit)
        for section in ("won_scored_low", "lost_scored_high"):
            found[section]["leads"] = [_exception_row(row) for row in found[section]["leads"]]
        return found

    def shadow_report(self, now: datetime) -> dict[str, Any]:
        """The active and shadow rules side by side (domain/shadow_report.py); 409 with no shadow."""
        from chalicelib.domain.shadow import current
        from chalicelib.domain.shadow_report import shadow_report

        shadow = self.shadow()
        if shadow is None:
            raise Conflict("no shadow rules are running: deploy one with `leadscore rules deploy FILE --shadow`")

        def rows() -> Iterator[dict[str, Any]]:
            for row in self.storage.listing.report_rows():
                card = current(row.get("shadow"), shadow, now)  # the rows carry no basis: the card stored
                if card is not None and _due(card, now):  # changed since: score it at `now` from its basis
                    record = self.storage.leads.get_lead(row["lead_id"])
                    card = current(record.shadow if record else None, shadow, now) or card
                yield {**row, "shadow": card}

        return shadow_report(rows(), self.rules(), shadow, self.shadow_since())

    def health_report(self) -> dict[str, Any]:
        """Per month and rules version: tier mix, conversion by tier, MQLs that converted, and
        tier inflation (domain/score_health.py)."""
        from chalicelib.domain.score_health import score_health

        rules = self.rules()
        versions: dict[str, int] = {}
        for version in self.storage.rules_versions.listed():
            versions.setdefault(version.fingerprint, version.number)
        if not versions:  # nothing deployed yet: the rules in force are the stack's version 1
            versions[rules.fingerprint] = 1
        return score_health(self.storage.listing.report_rows(), rules, versions)

    def unscored_report(self, now: datetime, days: int = 30) -> dict[str, Any]:
        """What earned nothing in the last `days` UTC days, per source, name and reason."""
        window = day_buckets(now, days)
        lines = merge_buckets(self.storage.counts.unscored_lines(window))
        return {"days": days, "since": window[-1], "until": window[0], "unscored": lines}


def _due(card: dict[str, Any], now: datetime) -> bool:
    due = card.get("next_change_at")
    return due is not None and datetime.fromisoformat(due) <= now


def _exception_row(row: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of a lead: find it with GET /leads/{lead_id}."""
    return {key: row[key] for key in ("lead_id", "state", "score", "tier", "grade", "reasons")}
