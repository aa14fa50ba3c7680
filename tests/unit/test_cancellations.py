"""A cancellation takes back the event it names: the full rescore leaves both out whatever their
order, folding a cancellation in is refused (rescore from the events), and a booking that arrives
after its own cancellation is not folded in (the basis remembers what was cancelled)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.activity import activity_line
from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.cancellations import CANCEL_EVENT, standing
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.folding import fold_into, full_basis
from chalicelib.domain.rule_tally import OutOfOrder
from chalicelib.domain.scoring import card_from_basis
from chalicelib.domain.timeline import score_timeline
from tests.helpers import NOW, default_rules

RULES = default_rules()
WHO = Identities(email="ines@acme.io")


def booked(booking_id: str, days_ago: float, source: str = "calendly") -> LeadEvent:
    at = NOW - timedelta(days=days_ago)
    return LeadEvent(event_id=booking_id, source=source, type="meeting_booked", occurred_at=at, identities=WHO,
                     properties={"meeting_title": "Demo"})  # fmt: skip


def cancel(booking_id: str, days_ago: float, source: str = "calendly") -> LeadEvent:
    return LeadEvent(event_id=f"{booking_id}:cancelled", source=source, type=CANCEL_EVENT,
                     occurred_at=NOW - timedelta(days=days_ago), identities=WHO,
                     properties={"cancels": booking_id, "meeting_title": "Demo"})  # fmt: skip


def meeting_points(events: list[LeadEvent]) -> float:
    _, basis = full_basis(events, RULES, NOW)
    card = card_from_basis(basis, RULES, NOW)
    return sum(c.points_now for c in card.contributions if c.rule == "meeting_booked")


def test_the_full_rescore_leaves_out_a_cancelled_booking_and_its_cancellation() -> None:
    assert meeting_points([booked("b1", 2)]) == 40
    assert meeting_points([booked("b1", 2), cancel("b1", 1)]) == 0
    assert meeting_points([cancel("b1", 1), booked("b1", 2)]) == 0
    assert meeting_points([booked("b1", 3), cancel("b1", 2), booked("b2", 1)]) == 40  # a reschedule: one meeting
    # A cancellation from another source, or of another booking, takes nothing back.
    assert meeting_points([booked("b1", 2), cancel("b1", 1, source="calcom")]) == 40
    assert standing([booked("b1", 2), cancel("b9", 1)]) == [booked("b1", 2)]


def test_folding_a_cancellation_is_refused_and_a_late_booking_is_not_folded_in() -> None:
    profile, basis = full_basis([booked("b1", 2)], RULES, NOW)
    with pytest.raises(OutOfOrder):
        fold_into(basis, profile, [cancel("b1", 1)], RULES, NOW)
    profile, basis = full_basis([cancel("b1", 1)], RULES, NOW)
    stored = ScoreBasis.from_json(basis.to_json(), RULES)  # what the lead item keeps
    assert stored.cancelled == {("calendly", "b1")}
    _, folded = fold_into(stored, profile, [booked("b1", 2), booked("b2", 0.5)], RULES, NOW)
    card = card_from_basis(folded, RULES, NOW)
    assert sum(c.points_now for c in card.contributions if c.rule == "meeting_booked") == 40  # b2 only


def test_the_timeline_and_the_activity_show_the_cancellation() -> None:
    events = [booked("b1", 2), cancel("b1", 1)]
    assert score_timeline(events, RULES, NOW, past_days=3, future_days=0)[-1].engagement == 0
    compiled = compile_rules(RULES)
    _, basis = full_basis(events, RULES, NOW)
    lines = [activity_line(event, compiled, NOW, frozenset(), basis.cancelled) for event in events]
    assert [(line.title, line.points_now, line.note) for line in lines] == [
        ("Booked 'Demo'", 0.0, "cancelled: worth nothing"),
        ("Cancelled 'Demo'", 0.0, "takes back the booking's points"),
    ]
