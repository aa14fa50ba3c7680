"""Outcome states from CRM fields, and the tier report over them (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import Profile, score
from chalicelib.domain.outcome_report import tier_report
from chalicelib.domain.outcomes import outcome_change, outcome_state
from tests.helpers import NOW, default_rules


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"lifecycle_stage": "customer"}, "won"),
        (
            {"lifecycle_stage": "CUSTOMER", "lead_status": "UNQUALIFIED"},
            "won",
        ),  # a customer is won, whatever the status
        ({"lifecycle_stage": "converted"}, "won"),  # Salesforce IsConverted
        ({"lead_status": "Closed - Converted"}, "won"),
        ({"lead_status": "UNQUALIFIED"}, "lost"),
        ({"lead_status": "BAD_TIMING"}, "lost"),
        ({"lead_status": "Closed - Not Converted"}, "lost"),
        ({"lead_status": "IN_PROGRESS"}, "open"),
        ({"lifecycle_stage": "marketingqualifiedlead"}, "open"),
        ({}, "open"),
    ],
)
def test_outcome_state(fields: dict, state: str) -> None:
    assert outcome_state(Profile(**fields)) == state


def test_a_change_records_the_card_sales_saw_and_the_days_it_took() -> None:
    then = score(Profile(job_title="CTO"), [], default_rules(), NOW)
    change = outcome_change(Profile(job_title="CTO"), Profile(job_title="CTO", lifecycle_stage="customer"), then,
                            NOW - timedelta(days=12, hours=12), NOW)  # fmt: skip
    assert change is not None
    assert (change["state"], change["score"], change["tier"], change["grade"], change["days"]) == (
        "won",
        then.score,
        then.tier,
        then.grade,
        12.5,
    )


def test_no_record_without_a_change_and_a_reopen_is_recorded() -> None:
    card = score(Profile(), [], default_rules(), NOW)
    assert outcome_change(Profile(lead_status="New"), Profile(lead_status="Open"), card, None, NOW) is None
    assert outcome_change(None, Profile(), card, None, NOW) is None  # a new, open lead is no outcome
    reopened = outcome_change(Profile(lead_status="UNQUALIFIED"), Profile(lead_status="Working"), card, None, NOW)
    assert reopened is not None and reopened["state"] == "open"


def row(tier: str, grade: str, score_: int, state: str | None = None, then: tuple | None = None, days=None) -> dict:
    outcome = None
    if state:
        tier_then, grade_then, score_then = then or (tier, grade, score_)
        outcome = {"state": state, "tier": tier_then, "grade": grade_then, "score": score_then, "days": days}
    return {"lead_id": f"{tier}-{score_}", "tier": tier, "grade": grade, "score": score_, "outcome": outcome}


def test_the_report_counts_each_lead_in_the_tier_it_had_when_sales_acted() -> None:
    rows = [
        row("hot", "A", 80, "won", days=10),
        row("disqualified", "D", 0, "lost", then=("warm", "C", 40)),
        row("hot", "B", 70, "won", days=30),
        row("cold", "D", 5, "lost"),
        row("warm", "B", 45),
    ]
    report = tier_report(rows, default_rules())

    assert (report["leads"], report["resolved"], report["conversions"], report["auc"]) == (5, 4, 2, 1.0)
    hot = report["tiers"]["hot"]
    assert (hot["leads"], hot["conversions"], hot["resolved"]) == (2, 2, 2)
    assert (hot["conversion_rate"], hot["win_rate"], hot["median_days_to_convert"]) == (1.0, 1.0, 20.0)
    assert report["tiers"]["warm"]["leads"] == 2 and report["tiers"]["warm"]["conversions"] == 0
    assert report["tiers"]["disqualified"]["leads"] == 0
    assert report["tiers"]["super_hot"]["conversion_rate"] is None
    assert report["grades"]["C"]["leads"] == 1
    assert report["conversion_rises_with_tier"] is False  # cold and warm both convert 0%: no rise


def test_the_gains_curve_finds_conversions_faster_than_chance_when_scores_rank_them() -> None:
    from chalicelib.domain.metrics import cumulative_gains

    scores = list(range(100, 0, -1))
    won = [index < 20 for index in range(100)]  # the top fifth converted
    curve = cumulative_gains(scores, won)
    assert curve[0] == {"leads_pct": 0.0, "conversions_pct": 0.0} and curve[-1]["conversions_pct"] == 100.0
    assert [point["leads_pct"] for point in curve] == [float(step * 10) for step in range(11)]
    assert curve[2]["conversions_pct"] == 100.0  # all found in the first 20% of leads
    backwards = cumulative_gains(scores, list(reversed(won)))
    assert backwards[8]["conversions_pct"] == 0.0
    assert cumulative_gains(scores, [False] * 100) == []
