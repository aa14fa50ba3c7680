"""A tally's total at any instant is each entry's value kept by its decay at its age, summed exactly
(the card sums a step schedule band by band; this is the entry-by-entry definition)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.rule_tally import MICRO, RuleTally
from tests.helpers import default_rules
from tests.unit.test_scoring_properties import HALF_LIFE_RULES

DAY_US = 86_400_000_000
SPECS = [
    spec
    for rules in (default_rules(), HALF_LIFE_RULES)
    for spec in compile_rules(rules).engagement_rules
    if not spec.negative
]


@st.composite
def entries(draw, spec) -> tuple[list[int], list[float], list[int], int]:
    """Ascending clocks, some exactly at a step boundary before `now` or after it."""
    now = 400 * DAY_US
    boundaries = [near for until, _ in getattr(spec.decay, "steps", ()) for near in (until - 1, until, until + 1)]
    ages = draw(
        st.lists(
            st.one_of(
                st.integers(-DAY_US, 400 * DAY_US),
                st.sampled_from(boundaries or [0]).flatmap(
                    lambda until: st.sampled_from([until - 1, until, until + 1])
                ),
            ),
            max_size=30,
            unique=True,
        )
    )
    anchors = sorted(now - age for age in ages)
    bases = [draw(st.sampled_from([spec.points, spec.then, 7.5, 0.3])) for _ in anchors]
    weights = [draw(st.integers(1, 4)) for _ in anchors]
    return anchors, bases, weights, now


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SPECS).flatmap(lambda spec: st.tuples(st.just(spec), entries(spec))))
def test_the_total_is_every_entry_kept_by_its_decay_at_its_age(drawn) -> None:
    spec, (anchors, bases, weights, now) = drawn
    tally = RuleTally(spec)
    tally.anchors, tally.bases, tally.weights = anchors, bases, weights
    expected = sum(
        weight * int(base * spec.decay.keep(max(0, now - anchor)) * MICRO + 0.5)
        for anchor, base, weight in zip(anchors, bases, weights, strict=True)
    )
    assert tally.total_at(now) == expected
