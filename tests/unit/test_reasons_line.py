"""The one-line reasons a CRM record gets next to the score (`lead_score_reasons`)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import LeadEvent, Profile, score
from chalicelib.domain.scorecard import REASONS_LIMIT, SEPARATOR, Contribution, ScoreCard
from tests.helpers import NOW, default_rules

RULES = default_rules()


def _event(event_id: str, kind: str, days: int, **props: object) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=NOW - timedelta(days=days),
                     properties=props)  # fmt: skip


def test_the_top_contributions_largest_first_with_counts_and_signs() -> None:
    events = [
        _event("d", "demo_request", 1),
        _event("p1", "page_view", 2, url="https://acme.example/pricing"),
        _event("p2", "page_view", 3, url="https://acme.example/pricing"),
        _event("u", "unsubscribe", 1),
    ]
    card = score(Profile(job_title="VP Marketing"), events, RULES, NOW)
    assert card.reasons_line() == (
        "Requested a demo +50 · Viewed pricing ×2 +40 · Unsubscribed \u221220 · C-level, VP, Director or Head of +15"
    )
    assert card.score == 50 + 40 - 20 + 15


def test_bot_like_and_disqualified_leads_say_so_first() -> None:
    card = score(Profile(email="x@competitor.example"), [], RULES, NOW).model_copy(
        update={"bot_like": True, "disqualified_by": "competitor"}
    )
    assert card.reasons_line().startswith("Mostly bot-like traffic · Disqualified: competitor")


def test_a_lead_with_nothing_to_show_gets_an_empty_line() -> None:
    assert score(Profile(), [], RULES, NOW).reasons_line() == ""


contributions = st.lists(
    st.builds(
        Contribution,
        kind=st.sampled_from(["fit", "engagement"]),
        rule=st.text("abcdefgh_", min_size=1, max_size=12),
        label=st.text("abcdefghij ,()-ABC", min_size=1, max_size=120),
        count=st.integers(1, 5000),
        points_now=st.floats(-500, 500, allow_nan=False).map(lambda value: round(value, 2)),
        points_full=st.just(0.0),
    ),
    max_size=12,
)


@given(contributions, st.booleans())
def test_the_line_fits_a_salesforce_text_255_field_and_keeps_the_largest(items, bot_like) -> None:
    card = ScoreCard(
        score=0, fit=0, engagement=0, total=0, tier="cold", grade="D", mql=False, contributions=items,
        next_change_at=None, scored_at=NOW, rules_fingerprint="x", bot_like=bot_like,
    )  # fmt: skip
    line = card.reasons_line()
    assert len(line) <= REASONS_LIMIT
    shown = [item for item in sorted(items, key=lambda c: (-abs(c.points_now), c.rule)) if round(item.points_now)][:5]
    parts = line.split(SEPARATOR) if line else []
    if bot_like and parts:
        assert parts.pop(0) == "Mostly bot-like traffic"
    # Whole reasons only, the largest first: what is shown is a prefix of the ranking.
    assert len(parts) <= len(shown)
    for part, item in zip(parts, shown):
        assert part.startswith(item.label)
