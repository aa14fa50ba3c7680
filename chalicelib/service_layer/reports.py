"""The reports: how each tier converted (GET /reports/tiers), the won leads that scored low and
the lost ones that scored MQL (GET /reports/exceptions), and what earned nothing, by source, name
and reason (GET /reports/unscored)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.rules import Rules
from chalicelib.domain.unscored import day_buckets, merge_buckets
from chalicelib.storage.ports import Storage


class Reports:
    def __init__(self, storage: Storage, rules: Callable[[], Rules]) -> None:
        self.storage = storage
        self.rules = rules

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

    def unscored_report(self, now: datetime, days: int = 30) -> dict[str, Any]:
        """What earned nothing in the last `days` UTC days, per source, name and reason."""
        window = day_buckets(now, days)
        lines = merge_buckets(self.storage.counts.unscored_lines(window))
        return {"days": days, "since": window[-1], "until": window[0], "unscored": lines}


def _exception_row(row: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of a lead: find it with GET /leads/{lead_id}."""
    return {key: row[key] for key in ("lead_id", "state", "score", "tier", "grade", "reasons")}
