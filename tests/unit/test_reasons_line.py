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
        "Requested a demo on Nov 21 +50 · Viewed /pricing on Nov 20 and 1 more +40 · Unsubscribed on Nov 21 \u221220"
        " · C-level, VP, Director or Head of +15"
    )
    assert card.score == 50 + 40 - 20 + 15


def test_a_reason_names_what_the_person_did_and_when_never_an_id() -> None:
    """The latest counted event by what it names (the form, the email's subject), from a full
    rescore, a fold of new events into a stored basis, and the decay job's card from the basis."""
    from chalicelib.domain.basis import ScoreBasis
    from chalicelib.domain.folding import fold_into
    from chalicelib.domain.scoring import card_from_basis, score_basis

    first = _event("reply-1", "email_reply", 2, subject="Q3 pricing")
    later = _event("form-9", "demo_request", 1, form_name="Book a demo")
    full = score(Profile(), [first, later], RULES, NOW)
    assert "Replied to 'Q3 pricing' on Nov 20" in full.reasons_line()
    assert "Requested a demo through 'Book a demo' on Nov 21 (+50)" in full.reasons()
    assert "reply-1" not in full.reasons_line() + " ".join(full.reasons())

    stored = ScoreBasis.from_json(score_basis(Profile(), [first], RULES).to_json(), RULES)
    _, folded = fold_into(stored, Profile(), [later], RULES, NOW)
    decayed = card_from_basis(ScoreBasis.from_json(folded.to_json(), RULES), RULES, NOW + timedelta(days=3))
    assert card_from_basis(folded, RULES, NOW).reasons_line() == full.reasons_line()
    assert "Replied to 'Q3 pricing' on Nov 20" in decayed.reasons_line()


def test_a_basis_stored_before_titles_falls_back_to_the_rules_labels() -> None:
    from chalicelib.domain.basis import ScoreBasis
    from chalicelib.domain.scoring import card_from_basis, score_basis

    stored = score_basis(Profile(), [_event("reply-1", "email_reply", 2, subject="Q3 pricing")], RULES).to_json()
    for rule in stored["rules"]:
        rule.pop("t", None)
    card = card_from_basis(ScoreBasis.from_json(stored, RULES), RULES, NOW)
    assert card.reasons_line().startswith("Replied to an email +")


def test_last_years_events_carry_their_year() -> None:
    card = score(Profile(), [_event("u", "unsubscribe", 400, campaign="Spring newsletter")], RULES, NOW)
    assert card.reasons_line() == "Unsubscribed from 'Spring newsletter' on Oct 18, 2025 \u221220"


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
