"""`GET /reports/tiers`: how this deployment's tiers and grades convert (a model is only as good
as its measured conversion by tier).

A resolved lead counts in the tier and grade it had when sales acted (stored with the outcome);
an open lead in its current one. AUC is over resolved leads, by their score at that moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.metrics import auc, cumulative_gains, is_rising, rates_by
from chalicelib.domain.rules import Rules


def tier_report(rows: Iterable[Mapping[str, Any]], rules: Rules) -> dict[str, Any]:
    leads = [as_counted(row) for row in rows]
    tier_order = [band.name for band in rules.tiers.bands] + [rules.tiers.disqualified]
    grade_order = [grade.grade for grade in rules.grades]

    def won(lead: Mapping[str, Any]) -> bool:
        return bool(lead["state"] == "won")

    def resolved(lead: Mapping[str, Any]) -> bool:
        return bool(lead["state"] != "open")

    def days(lead: Mapping[str, Any]) -> float | None:
        value: float | None = lead["days"]
        return value

    tiers = rates_by(leads, lambda lead: lead["tier"], won, resolved, days, order=tier_order)
    grades = rates_by(leads, lambda lead: lead["grade"], won, resolved, days, order=grade_order)
    closed = [lead for lead in leads if resolved(lead)]
    score_auc = auc([lead["score"] for lead in closed], [won(lead) for lead in closed])
    return {
        "leads": len(leads),
        "resolved": len(closed),
        "conversions": sum(1 for lead in leads if won(lead)),
        "auc": None if score_auc is None else round(score_auc, 4),
        "gains": cumulative_gains([lead["score"] for lead in closed], [won(lead) for lead in closed]),
        "conversion_rises_with_tier": is_rising([row.conversion_rate for row in tiers[:-1] if row.leads]),
        "tiers": {row.group: row.as_dict() for row in tiers},
        "grades": {row.group: row.as_dict() for row in grades},
    }


def as_counted(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored lead as the reports count it: a resolved one with its tier, grade, score and
    reasons when sales acted, an open one with its current ones."""
    outcome = row.get("outcome") or {}
    state = outcome.get("state", "open")
    now = {"lead_id": row["lead_id"], "reasons": list(row.get("reasons", []))}
    if state == "open":
        return {**now, "state": "open", "tier": row["tier"], "grade": row["grade"], "score": row["score"],
                "days": None}  # fmt: skip
    return {
        **now,
        "state": state,
        "tier": outcome.get("tier", row["tier"]),
        "grade": outcome.get("grade", row["grade"]),
        "score": outcome.get("score", row["score"]),
        "days": outcome.get("days"),
        "reasons": outcome.get("reasons", now["reasons"]),  # older outcomes kept none: today's reasons
    }
