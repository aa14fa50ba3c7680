"""The score health report: per month and rules version, and the tier inflation flag."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.score_health import score_health
from tests.helpers import default_rules

RULES = default_rules()


def _leads(month: str, mqls: int, others: int, mql_won: int, mql_lost: int, fingerprint: str = "fp1") -> list[Any]:
    rows = []
    for index in range(mqls + others):
        mql = index < mqls
        state = "won" if index < mql_won else "lost" if index < mql_won + mql_lost else "open"
        outcome = None if state == "open" else {"state": state, "tier": "hot" if mql else "cold", "score": 70 if mql
                                                 else 10, "grade": "B", "at": f"{month}-28T00:00:00+00:00"}  # fmt: skip
        rows.append({"lead_id": f"{month}-{index}", "tier": "hot" if mql else "cold", "grade": "B",
                     "score": 70 if mql else 10, "outcome": outcome, "first_seen_at": f"{month}-03T10:00:00Z",
                     "rules_fingerprint": fingerprint})  # fmt: skip
    return rows


def test_more_mqls_converting_less_is_flagged_as_tier_inflation() -> None:
    rows = [*_leads("2026-09", mqls=20, others=80, mql_won=8, mql_lost=8),
            *_leads("2026-10", mqls=40, others=60, mql_won=4, mql_lost=12, fingerprint="fp2")]  # fmt: skip
    report = score_health(rows, RULES, {"fp1": 1, "fp2": 2})
    september, october = report["months"]
    assert (september["mql_share"], october["mql_share"]) == (0.2, 0.4)
    assert (september["mql_win_rate"], october["mql_win_rate"]) == (0.5, 0.25)
    assert september["tier_mix"]["hot"] == 20 and september["by_tier"]["hot"]["conversions"] == 8
    assert [version["version"] for version in october["versions"]] == [2]
    (flag,) = report["inflation"]
    assert flag["month"] == "2026-10" and report["inflating"]
    assert "MQL share 20% → 40%" in flag["message"]


def test_a_young_month_with_open_mqls_or_too_few_outcomes_is_not_flagged() -> None:
    steady = [*_leads("2026-09", mqls=20, others=80, mql_won=8, mql_lost=8),
              *_leads("2026-10", mqls=40, others=60, mql_won=3, mql_lost=3)]  # fmt: skip
    report = score_health(steady, RULES, {})
    assert report["inflation"] == [] and not report["inflating"]  # the win rate held among the resolved
    assert report["months"][1]["versions"][0]["version"] == "fp1"  # no version known: its fingerprint
    few = [*_leads("2026-09", mqls=20, others=80, mql_won=8, mql_lost=8),
           *_leads("2026-10", mqls=40, others=60, mql_won=0, mql_lost=2)]  # fmt: skip
    assert score_health(few, RULES, {})["inflation"] == []  # two outcomes say nothing yet
