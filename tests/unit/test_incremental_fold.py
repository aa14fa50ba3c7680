"""Folding new events into a stored basis gives exactly the card a full rescore gives, for any event
history in any arrival order, and the stored basis stays small whatever the history."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import LeadEvent, fold_memory
from chalicelib.domain import engagement as engagement_module
from chalicelib.domain import rule_tally as rule_tally_module
from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.folding import fold_into, full_basis
from chalicelib.domain.profile import PROFILE_EVENT, Profile
from chalicelib.domain.retention import expires_at
from chalicelib.domain.rule_tally import OutOfOrder
from chalicelib.domain.scoring import card_from_basis, score
from tests.helpers import NOW, default_rules, rules_with
from tests.strategies import lead_events, profiles
from tests.unit.test_scoring_properties import HALF_LIFE_RULES

RULES = default_rules()
LOW_SPEED_LIMITS = rules_with(filters={"speed_limits": {"page_view": 3, "form": 2}})
# Events no older than this at the last fold have not expired (the shortest retention is 120 days),
# so the full rescore sees every event the folds saw; older ones are still worth 0 under page and
# email rules (90 days), so dropping what has ended is exercised.
RECENT = timedelta(days=110)
FOLD_SPAN = timedelta(days=5)

profile_changes = st.lists(
    st.builds(
        dict,
        job_title=st.sampled_from([None, "CEO", "Engineer", "Student", ""]),
        company_size=st.sampled_from([None, 10, "100-500", 5000]),
        industry=st.sampled_from([None, "Software", "Retail"]),
    ),
    max_size=4,
)

# A narrow vocabulary makes long runs of one rule: caps, repeats and distinct days bite.
HEAVY_TYPES = ["page_view", "email_open", "email_click", "email_sent", "trial_active", "webinar_registered"]


@contextmanager
def tuned(name: str, value: Any) -> Iterator[None]:
    """A module constant (or helper) replaced where the fold and the tallies read it."""
    with ExitStack() as stack:
        for module in (engagement_module, rule_tally_module):
            if hasattr(module, name):
                stack.enter_context(mock.patch.object(module, name, value))
        yield


@st.composite
def histories(draw, max_size: int = 30) -> list[LeadEvent]:
    events = draw(lead_events(max_size=max_size, max_age=RECENT))
    if draw(st.booleans()):
        kind = draw(st.sampled_from(HEAVY_TYPES))
        count = draw(st.integers(0, 40))
        step = draw(st.integers(1, 3 * 86_400))
        path = draw(st.sampled_from(["/", "/pricing", "/docs/a", "/blog/x"]))
        for number in range(count):
            props = {"url": "https://example.com" + path} if kind == "page_view" else {"message_id": f"m{number % 3}"}
            events.append(
                LeadEvent(
                    event_id=f"h{number}",
                    source="segment",
                    type=kind,
                    occurred_at=NOW - timedelta(seconds=step * number % int(RECENT.total_seconds())),
                    properties=props,
                )
            )
    if draw(st.booleans()):
        # Bots and bursts: crawler views, several views (and forms, some spam) in one minute.
        minute = NOW - timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        for number in range(draw(st.integers(0, 12))):
            kind = draw(st.sampled_from(["crawler", "burst", "form", "spam"]))
            props: dict = {"url": "https://example.com/pricing"}
            if kind == "crawler":
                props["user_agent"] = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            elif kind in ("form", "spam"):
                props = {"form_id": "f1", "form_fields": ["Email", *(["_gotcha"] if kind == "spam" else [])]}
            events.append(
                LeadEvent(
                    event_id=f"b{number}",
                    source="segment",
                    type="page_view" if kind in ("crawler", "burst") else "demo_request",
                    occurred_at=minute + timedelta(seconds=draw(st.integers(0, 59))),
                    properties=props,
                )
            )
    for number, patch in enumerate(draw(profile_changes)):
        age = draw(st.integers(0, int(RECENT.total_seconds())))
        events.append(
            LeadEvent(
                event_id=f"p{number}",
                source="hubspot",
                type=PROFILE_EVENT,
                occurred_at=NOW - timedelta(seconds=age),
                properties={"profile": {key: value for key, value in patch.items() if value is not None}},
            )
        )
    return events


def _stored(basis: ScoreBasis, rules) -> ScoreBasis:
    """Through JSON, as the lead item keeps it."""
    return ScoreBasis.from_json(json.loads(json.dumps(basis.to_json())), rules)


class LeadItem:
    """The basis as storage keeps it: without its memory, which is read beside it only for events
    that need it (fold_memory.py), and written only when it changed."""

    def __init__(self) -> None:
        self.core: dict[str, Any] | None = None
        self.memory: dict[str, Any] | None = None
        self.memory_writes = 0

    def save(self, basis: ScoreBasis) -> None:
        self.core, write = fold_memory.stored_parts(json.loads(json.dumps(basis.to_json())), self.core)
        if write is not None:
            self.memory, self.memory_writes = write or None, self.memory_writes + 1

    def load(self, batch: list[LeadEvent], rules) -> ScoreBasis:
        assert self.core is not None
        wanted = fold_memory.needs_memory(batch, compile_rules(rules))
        data = fold_memory.join(self.core, self.memory) if wanted else self.core
        assert data is not None
        return ScoreBasis.from_json(data, rules)


def _fold_as_delivered(events, rules, order, cuts, offsets):
    """Deliver `events` in `order`, in batches cut at `cuts`, the n-th folded at NOW + offsets[n];
    a fold refused as out of order is a full rescore of what has arrived (what ingestion does).
    Between batches the basis is stored as the lead item keeps it (`LeadItem`)."""
    arrived: list[LeadEvent] = []
    shuffled = [events[index] for index in order]
    bounds = sorted({0, len(shuffled), *(cut % (len(shuffled) + 1) for cut in cuts)})
    profile = basis = None
    item = LeadItem()
    folds = rescores = 0
    for number, (start, end) in enumerate(itertools.pairwise(bounds)):
        batch = shuffled[start:end]
        at = NOW + offsets[number % len(offsets)]
        if basis is None:
            profile, basis = full_basis(batch, rules, at)
        else:
            try:
                profile, basis = fold_into(item.load(batch, rules), profile, batch, rules, at)
                folds += 1
            except OutOfOrder:
                profile, basis = full_basis(arrived + batch, rules, at)
                rescores += 1
        item.save(basis)
        arrived += batch
    return profile, basis, folds, rescores


@settings(max_examples=300, deadline=None)
@given(
    histories(),
    st.randoms(use_true_random=False),
    st.lists(st.integers(0, 200), max_size=8),
    st.lists(st.timedeltas(timedelta(0), FOLD_SPAN), min_size=1, max_size=8).map(sorted),
    st.sampled_from([RULES, HALF_LIFE_RULES, LOW_SPEED_LIMITS]),
    st.sampled_from([256, 3]),
    st.sampled_from([100, 2]),
)
def test_folding_in_any_arrival_order_gives_the_full_rescore_card(
    events, random, cuts, offsets, rules, exact_up_to, remembered
):
    """`exact_up_to` 3 makes even short histories share hourly decay clocks, and `remembered` 2
    makes their stored bases forget emails and repeat scopes, as long ones do: the expected card
    is the full rescore's that remembers all of them."""
    order = list(range(len(events)))
    random.shuffle(order)
    now = NOW + offsets[-1]
    with tuned("EXACT_UP_TO", exact_up_to):
        with tuned("REMEMBERED", remembered):
            profile, basis, _, _ = _fold_as_delivered(events, rules, order, cuts, offsets)
        expected_profile, expected_basis = full_basis(events, rules, now)
    if basis is None:
        assert not events
        return
    assert profile == expected_profile
    assert card_from_basis(_stored(basis, rules), rules, now) == card_from_basis(expected_basis, rules, now)
    for later in (timedelta(days=1), timedelta(days=45), timedelta(days=400)):
        assert card_from_basis(basis, rules, now + later) == card_from_basis(expected_basis, rules, now + later)


@settings(max_examples=100, deadline=None)
@given(histories(), st.lists(st.integers(0, 200), max_size=8))
def test_events_arriving_in_time_order_are_always_folded(events, cuts):
    """The fall-back to a full rescore is for late arrivals only."""
    order = sorted(range(len(events)), key=lambda i: (events[i].occurred_at, events[i].source, events[i].event_id))
    _, _, _, rescores = _fold_as_delivered(events, RULES, order, cuts, [timedelta(0)])
    assert rescores == 0


@settings(max_examples=60, deadline=None)
@given(profiles, lead_events(max_size=15), st.timedeltas(timedelta(0), timedelta(days=500)))
def test_a_bounded_basis_scores_as_the_unbounded_history_does(profile, events, offset):
    """Dropping entries that can no longer change a capped total changes no card (the naive
    oracle in test_scoring_properties checks `score` itself against brute force)."""
    with tuned("_within_cap", lambda bases, weights, cap, floor: None):
        unbounded = score(profile, events, RULES, NOW + offset)
    assert score(profile, events, RULES, NOW + offset) == unbounded


def _emails(count: int, opens_each: int, start=NOW - timedelta(days=20)) -> list[LeadEvent]:
    """`count` emails sent an hour apart, each opened `opens_each` times and clicked once, in turn."""
    events = []
    for number in range(count):
        sent = start + timedelta(hours=number)
        message = {"message_id": f"m{number}", "campaign_type": "cold_outreach"}
        events.append(LeadEvent(event_id=f"s{number}", source="segment", type="email_sent", occurred_at=sent,
                                properties=message))  # fmt: skip
    for round_ in range(opens_each):
        for number in range(count):
            at = start + timedelta(days=5 + round_, minutes=number)
            events.append(LeadEvent(event_id=f"o{round_}-{number}", source="segment", type="email_open",
                                    occurred_at=at, properties={"message_id": f"m{number}"}))  # fmt: skip
    for number in range(count):
        at = start + timedelta(days=9, minutes=number)
        events.append(LeadEvent(event_id=f"c{number}", source="segment", type="email_click", occurred_at=at,
                                properties={"message_id": f"m{number}"}))  # fmt: skip
    return events


def test_more_alive_emails_than_a_basis_keeps_still_score_exactly():
    """A shared inbox with 12 emails alive, delivered one event at a time into bases that keep 4:
    an open or click of an email the basis let go of is rescored from the events (never a first-open
    or multiplier-less guess), anything else is folded, and the card is the one remembering all.
    (Opening them in turn is the worst case: each open names the email least recently active.)"""
    events = _emails(12, opens_each=2)
    expected = card_from_basis(full_basis(events, RULES, NOW)[1], RULES, NOW)
    order = sorted(range(len(events)), key=lambda i: events[i].occurred_at)
    with tuned("REMEMBERED", 4):
        profile, basis, folds, rescores = _fold_as_delivered(
            events, RULES, order, list(range(len(events))), [timedelta(0)]
        )
    assert card_from_basis(basis, RULES, NOW) == expected
    assert expected.score == score(profile, events, RULES, NOW).score
    assert rescores > 0 and folds >= 11  # the sends fold; opens cycling through all 12 emails mostly cannot
    stored = basis.to_json()
    assert len(stored["messages"]) == 4 and "forgotten" in stored


def test_a_forgotten_email_stops_counting_once_it_has_ended():
    """The filter is emptied when everything let go of has ended: later events fold again."""
    events = _emails(6, opens_each=1, start=NOW - timedelta(days=400))
    with tuned("REMEMBERED", 2):
        _, basis = full_basis(events, RULES, NOW - timedelta(days=380))
        assert basis.forgotten
        _, later = fold_into(
            _stored(basis, RULES), Profile(), _emails(1, 1, start=NOW), RULES, NOW + timedelta(days=30)
        )
    assert not later.forgotten and "forgotten" not in later.to_json()


@settings(max_examples=60, deadline=None)
@given(
    histories(max_size=40), st.timedeltas(timedelta(0), timedelta(days=120)), st.sampled_from([RULES, HALF_LIFE_RULES])
)
def test_shared_hourly_clocks_move_decay_at_most_an_hour_early(events, offset, rules):
    """Past EXACT_UP_TO events of a rule, decay clocks start on the hour: at any time the card is
    between the exact one at that time and the exact one an hour later."""
    at = NOW + offset
    shared = score(Profile(), events, rules, at)
    with tuned("EXACT_UP_TO", 10**9):
        exact_now = score(Profile(), events, rules, at)
        exact_later = score(Profile(), events, rules, at + timedelta(hours=1))
    with tuned("EXACT_UP_TO", 3):
        rough = score(Profile(), events, rules, at)
    for card in (shared, rough):
        assert exact_later.engagement <= card.engagement <= exact_now.engagement
        assert exact_later.score <= card.score <= exact_now.score


def test_a_repeat_after_its_scope_expired_earns_as_a_rescore_of_the_live_events():
    """Storage drops an event when it expires; a full rescore then no longer sees it, so a repeat
    of its email earns first-open points again. The fold must agree, whenever the basis was stored."""
    first = _emails(1, opens_each=1, start=NOW - timedelta(days=300))
    again = LeadEvent(event_id="late-open", source="segment", type="email_open", occurred_at=NOW,
                      properties={"message_id": "m0"})  # fmt: skip
    _, basis = full_basis(first, RULES, NOW - timedelta(days=290))
    assert basis.tallies and any(tally.scopes for tally in basis.tallies)
    _, folded = fold_into(_stored(basis, RULES), Profile(), [again], RULES, NOW)
    live = [event for event in [*first, again] if (expires_at(event, RULES) or NOW + timedelta(1)) > NOW]
    _, expected = full_basis(live, RULES, NOW)
    assert card_from_basis(folded, RULES, NOW) == card_from_basis(expected, RULES, NOW)
    (open_rule,) = [c for c in card_from_basis(folded, RULES, NOW).contributions if c.rule == "email_open"]
    assert open_rule.points_full == 5  # first-open points, not the repeat's 2
