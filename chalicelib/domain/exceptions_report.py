"""The exceptions sales should review (the monthly model review: which high-scoring leads turned out
poor fits, which low-scoring leads surprised everyone): won leads that scored in the lowest tier
and lost leads that scored MQL, the most surprising first, each with the reasons it scored so.
One function for the live report (GET /reports/exceptions) and the backtest.

A row: lead_id, score, tier (when sales acted, for a resolved live lead), state (won / lost /
open), reasons (the top contributions then, or now when none were kept), and any other keys a
caller wants carried through (an identity to find the lead by)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.rules import Rules
from chalicelib.domain.tiers import is_mql


def exceptions(rows: Iterable[Mapping[str, Any]], rules: Rules, limit: int = 10) -> dict[str, Any]:
    bands = compile_rules(rules).tier_bands
    lowest = rules.tiers.bands[0].name
    surprising_wins: list[Mapping[str, Any]] = []
    disappointing: list[Mapping[str, Any]] = []
    for row in rows:
        if row["state"] == "won" and row["tier"] in (lowest, rules.tiers.disqualified):
            surprising_wins.append(row)
        elif row["state"] == "lost" and is_mql(row["tier"], bands, rules.tiers.mql_from):
            disappointing.append(row)
    surprising_wins.sort(key=lambda row: (row["score"], row["lead_id"]))
    disappointing.sort(key=lambda row: (-row["score"], row["lead_id"]))
    return {
        "won_scored_low": {"tier": lowest, "count": len(surprising_wins), "leads": surprising_wins[:limit]},
        "lost_scored_high": {
            "tiers_from": rules.tiers.mql_from,
            "count": len(disappointing),
            "leads": disappointing[:limit],
        },
    }


def describe(report: Mapping[str, Any]) -> list[str]:
    """The report as lines, for the backtest."""
    lines = []
    for key, title in (("won_scored_low", "won, though scored {tier}"), ("lost_scored_high", "lost, though scored "
                       "{tiers_from} or above")):  # fmt: skip
        section = report[key]
        lines.append(f"{title.format(**section)}: {section['count']}")
        for row in section["leads"]:
            why = "; ".join(row["reasons"]) or "no rule gave it points"
            lines.append(f"  {row['lead_id']}  {row['score']:>4}  {row['tier']:<10} {why}")
    return lines
