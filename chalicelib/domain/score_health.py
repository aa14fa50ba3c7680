"""`GET /reports/health`: is the score still telling sales the truth? Per month (the month a lead
was first seen) and per rules version (the one that scored it: at its outcome when sales acted,
else now): the tier mix, conversion and win rate by tier, how many leads were MQL and how many
of those converted.

Tier inflation is the commonest way a scoring model decays: points pile up (a new content source,
a busier nurture), more leads reach MQL, and fewer of those convert. A month is flagged when its
MQL share rose by a fifth or more over the month before while the MQL win rate (won among MQLs
whose outcome is known, so a young month's open leads do not count against it) fell by a fifth or
more, each month with enough MQLs and outcomes to say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from chalicelib.domain.metrics import rates_by
from chalicelib.domain.outcome_report import as_counted
from chalicelib.domain.rules import Rules
from chalicelib.domain.tiers import is_mql

MONTHS = 12
RISE, FALL = 1.2, 0.8  # a fifth more MQLs, a fifth lower MQL win rate
MIN_MQLS, MIN_RESOLVED = 10, 5


def score_health(
    rows: Iterable[Mapping[str, Any]], rules: Rules, version_of: Mapping[str, int], months: int = MONTHS
) -> dict[str, Any]:
    """`rows`: each lead's tier, grade, score, outcome, `first_seen_at` and `rules_fingerprint`;
    `version_of`: fingerprint -> rules version number (an unknown one is named by its fingerprint)."""
    bands = [(band.min, band.name) for band in rules.tiers.bands]
    tiers = [band.name for band in reversed(rules.tiers.bands)] + [rules.tiers.disqualified]
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    undated = 0
    for row in rows:
        seen = row.get("first_seen_at") or _seen_from_outcome(row.get("outcome"))
        if not seen:
            undated += 1  # scored before leads kept the date: dated at their next scoring
            continue
        counted = as_counted(row)
        fingerprint = (row.get("outcome") or {}).get("rules") or row.get("rules_fingerprint") or ""
        counted["version"] = version_of.get(fingerprint, fingerprint[:12] or "unknown")
        counted["mql"] = is_mql(counted["tier"], bands, rules.tiers.mql_from)
        by_month[str(seen)[:7]].append(counted)
    shown = sorted(by_month)[-months:]
    report = []
    for month in shown:
        leads = by_month[month]
        versions: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for lead in leads:
            versions[lead["version"]].append(lead)
        report.append({
            "month": month, **_figures(leads, tiers),
            "versions": [{"version": version, **_figures(members, tiers)} for version, members in sorted(
                versions.items(), key=lambda item: str(item[0]))],
        })  # fmt: skip
    flags = inflation(report)
    return {
        "months": report,
        "tiers": tiers,
        "mql_from": rules.tiers.mql_from,
        "inflation": flags,
        "inflating": bool(flags) and flags[-1]["month"] == (shown[-1] if shown else None),
        "undated": undated,
    }


def _figures(leads: list[dict[str, Any]], tiers: list[str]) -> dict[str, Any]:
    def won(lead: Mapping[str, Any]) -> bool:
        return bool(lead["state"] == "won")

    def resolved(lead: Mapping[str, Any]) -> bool:
        return bool(lead["state"] != "open")

    mqls = [lead for lead in leads if lead["mql"]]
    mql_resolved = [lead for lead in mqls if resolved(lead)]
    rates = rates_by(leads, lambda lead: lead["tier"], won, resolved, order=tiers)
    return {
        "leads": len(leads),
        "tier_mix": {rate.group: rate.leads for rate in rates},
        "by_tier": {rate.group: rate.as_dict() for rate in rates if rate.leads},
        "mqls": len(mqls),
        "mql_share": _share(len(mqls), len(leads)),
        "mqls_converted": sum(1 for lead in mqls if won(lead)),
        "mql_conversion": _share(sum(1 for lead in mqls if won(lead)), len(mqls)),
        "mqls_resolved": len(mql_resolved),
        "mql_win_rate": _share(sum(1 for lead in mql_resolved if won(lead)), len(mql_resolved)),
    }


def inflation(months: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The months whose MQL share rose while the MQL win rate fell, against the month before."""
    flags = []
    for before, after in pairwise(months):
        enough = all(m["mqls"] >= MIN_MQLS and m["mqls_resolved"] >= MIN_RESOLVED for m in (before, after))
        if not enough or not before["mql_share"] or before["mql_win_rate"] is None or after["mql_win_rate"] is None:
            continue
        if after["mql_share"] >= before["mql_share"] * RISE and after["mql_win_rate"] <= before["mql_win_rate"] * FALL:
            share = f"{_pct(before['mql_share'])} → {_pct(after['mql_share'])}"
            win = f"{_pct(before['mql_win_rate'])} → {_pct(after['mql_win_rate'])}"
            flags.append({
                "month": after["month"], "previous": before["month"],
                "mql_share": [before["mql_share"], after["mql_share"]],
                "mql_win_rate": [before["mql_win_rate"], after["mql_win_rate"]],
                "message": f"{after['month']}: MQL share {share} while the MQL win rate fell {win}",
            })  # fmt: skip
    return flags


def _seen_from_outcome(outcome: Mapping[str, Any] | None) -> str | None:
    """An outcome knows when sales acted and how many days after the lead was first seen."""
    if not outcome or outcome.get("days") is None or not outcome.get("at"):
        return None
    return (datetime.fromisoformat(outcome["at"]) - timedelta(days=float(outcome["days"]))).isoformat()


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"
