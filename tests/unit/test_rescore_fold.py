"""A rescore's fold type by type (rescore_fold.py) leaves the folder the event-by-event fold leaves:
every tally (entries, weeks, latest events and their titles, repeat scopes), emails, speed counts,
ignored events and last activity, before and after it forgets what no longer matters; and a fold may
go on from it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import LeadEvent
from chalicelib.domain.cancellations import standing
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.engagement import Folder, canonical_order, fold_one_by_one, fold_ordered
from chalicelib.domain.events import to_us
from chalicelib.rules import DEFAULT_RULES_PATH
from tests.helpers import NOW, default_rules, rules_with
from tests.unit.test_incremental_fold import LOW_SPEED_LIMITS, histories, tuned
from tests.unit.test_scoring_properties import HALF_LIFE_RULES


def _repeating_pages() -> Any:
    """Page views that repeat ("then") per URL under the rules of a category, and per category under
    a rule of their duration: an event may match two repeat rules, whose expiry it then shares;
    careers pages take points away, never expiring."""
    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text())
    rules = data["engagement"]["rules"]
    for rule in rules:
        if rule["event"] == "page_view":
            rule.update({"then": 1 if rule["points"] > 0 else -5, "repeat_per": "url"})
    rules.append({"name": "long_view", "event": "page_view", "where": {"duration_seconds": {"min": 60}},
                  "points": 3, "then": 1, "repeat_per": "page_category", "decay": "content"})  # fmt: skip
    return rules_with(engagement=data["engagement"])


RULES = default_rules()
REPEATING_PAGES = _repeating_pages()


def _state(folder: Folder) -> dict[str, Any]:
    return {
        "tallies": {index: (*vars_of(tally), tally.forgotten.to_json()) for index, tally in folder.tallies.items()},
        "messages": list(folder.messages.items()),
        "message_clock": folder.message_clock,
        "ignored": {reason: sorted(weeks.items()) for reason, weeks in folder.ignored.items()},
        "just_ignored": folder.just_ignored,
        "too_fast": sorted(folder.just_too_fast),
        "speed": {kind: sorted(minutes.items()) for kind, minutes in folder.speed.items() if minutes},
        "last_active": folder.last_active_us,
    }


def _both(events: list[LeadEvent], rules: Any) -> tuple[Folder, Folder]:
    compiled = compile_rules(rules)
    ordered = canonical_order(standing(events))
    whole, one_by_one = Folder(compiled), Folder(compiled)
    fold_ordered(whole, ordered)
    fold_one_by_one(one_by_one, ordered)
    return whole, one_by_one


def _with_durations(events: list[LeadEvent], durations: list[int], categories: list[str | None]) -> list[LeadEvent]:
    """Page views (not crawlers') that last one of `durations` in turn (a rule reads how long), some
    with the page category the sender gave."""
    changed = []
    for number, event in enumerate(events):
        if event.type == "page_view" and "user_agent" not in event.properties:
            props = {**event.properties, "duration_seconds": durations[number % len(durations)]}
            category = categories[number % len(categories)]
            event = event.model_copy(update={"properties": props | ({"page_category": category} if category else {})})
        changed.append(event)
    return changed


@settings(max_examples=300, deadline=None)
@given(
    histories(max_size=40),
    st.lists(st.sampled_from([0, 30, 90, 1200]), min_size=1, max_size=5),
    st.lists(st.sampled_from([None, None, "docs", "pricing"]), min_size=1, max_size=3),
    st.sampled_from([RULES, HALF_LIFE_RULES, LOW_SPEED_LIMITS, REPEATING_PAGES]),
    st.sampled_from([256, 3]),
    st.timedeltas(timedelta(0), timedelta(days=200)),
)
def test_the_type_by_type_fold_leaves_the_event_by_event_folders_state(
    events, durations, categories, rules, exact_up_to, later
):
    """`exact_up_to` 3 makes short histories share hourly decay clocks, as long ones do."""
    events = _with_durations(events, durations, categories)
    with tuned("EXACT_UP_TO", exact_up_to):
        whole, one_by_one = _both(events, rules)
        whole._name_latest()
        one_by_one._name_latest()
        # Speed counts older than the last hour are dropped when either folder sees fit (both have
        # by the time the basis is stored: compared below).
        assert {**_state(whole), "speed": None} == {**_state(one_by_one), "speed": None}
        now_us = to_us(NOW + later)
        assert [vars_of(t) for t in whole.result(now_us)] == [vars_of(t) for t in one_by_one.result(now_us)]
        assert _state(whole) == _state(one_by_one)


def vars_of(tally: Any) -> tuple[Any, ...]:
    return tuple(getattr(tally, name) for name in tally.__slots__ if name not in ("spec", "forgotten"))


def test_a_page_views_repeat_scope_may_be_its_category() -> None:
    """The category is the page's, computed from its URL, for the scope as for the rule's match."""
    views = [
        LeadEvent(event_id=f"v{number}", source="segment", type="page_view", occurred_at=NOW - timedelta(hours=number),
                  properties={"url": f"https://example.com{path}", "duration_seconds": 90})
        for number, path in enumerate(["/pricing", "/blog/a", "/pricing", "/blog/b"])
    ]  # fmt: skip
    whole, one_by_one = _both(views, REPEATING_PAGES)
    now_us = to_us(NOW)
    assert [vars_of(t) for t in whole.result(now_us)] == [vars_of(t) for t in one_by_one.result(now_us)]
    long_view = next(tally for tally in whole.tallies.values() if tally.spec.name == "long_view")
    assert long_view.bases == [3.0, 3.0, 1.0, 1.0]  # first of blog, first of pricing, then each again


@settings(max_examples=100, deadline=None)
@given(histories(max_size=30), st.integers(1, 30), st.sampled_from([RULES, LOW_SPEED_LIMITS, REPEATING_PAGES]))
def test_a_fold_goes_on_from_the_type_by_type_folders_state(events, split, rules):
    """The timeline folds later events one at a time into a rescore's folder."""
    compiled = compile_rules(rules)
    ordered = canonical_order(standing(events))
    earlier, later = ordered[:split], ordered[split:]
    whole, one_by_one = Folder(compiled), Folder(compiled)
    fold_ordered(whole, earlier)
    fold_one_by_one(one_by_one, earlier)
    for folder in (whole, one_by_one):
        for occurred_us, event in later:
            folder.fold(occurred_us, event, compiled.canonical_type(event.type))
    now_us = to_us(NOW)
    assert [vars_of(t) for t in whole.result(now_us)] == [vars_of(t) for t in one_by_one.result(now_us)]
    assert _state(whole) == _state(one_by_one)
