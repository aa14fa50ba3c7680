"""A full rescore's fold, type by type: what `Folder.fold` does event by event, done for all of a
lead's events of one type at once, and each rule's tally built from all its events in one pass.

A rescore has every event at hand, in canonical order, and starts from nothing, so nothing can be
out of order and most of the per-event steps of a fold (which rules an event type has, its speed
limit, which tally, whether it is new) are taken once per type or once per rule instead. The events
of a type are independent of other types' events unless an email ties them (a click earns by its
send) or a filter looks at them (bots, spam forms, the forms' shared speed limit): those types are
folded one event at a time, in canonical order, as before. Either way the folder ends in the state
the event-by-event fold leaves (tests/unit/test_rescore_fold.py compares them on generated
histories), so a fold may go on from it (the timeline does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compiled_rules import PAGE_CATEGORY, CompiledRules, TypePlan, _Choice
from .events import LeadEvent
from .rule_tally import MINUTE_US, SPEED_MEMORY_MINUTES, EventKey, RuleTally
from .traffic_filters import FORM_KIND

if TYPE_CHECKING:
    from .engagement import Folder

Timed = tuple[int, LeadEvent]


def fold_all(folder: Folder, ordered: list[Timed]) -> None:
    """Fold every event of `ordered` (canonical order, no redeliveries) into a new `folder`."""
    compiled = folder.compiled
    aliases = compiled.type_aliases
    canonical_type = compiled.canonical_type
    by_type: dict[str, list[Timed]] = {}
    kinds: list[str] = []
    filtered: set[str] = set()
    for item in ordered:
        event = item[1]
        kind = aliases.get(event.type) or canonical_type(event.type)
        kinds.append(kind)
        found = by_type.get(kind)
        if found is None:
            by_type[kind] = [item]
        else:
            found.append(item)
        props = event.properties
        if "user_agent" in props or "form_fields" in props or "form_id" in props:  # a filter reads it
            filtered.add(kind)
    one_by_one = {kind for kind in by_type if kind in filtered or not _whole(compiled.plan(kind), kind)}
    for kind, items in by_type.items():
        if kind not in one_by_one:
            _fold_type(folder, kind, items)
    if one_by_one:
        fold = folder.fold
        for (occurred_us, event), kind in zip(ordered, kinds, strict=True):
            if kind in one_by_one:
                fold(occurred_us, event, kind)


def _whole(plan: TypePlan, kind: str) -> bool:
    """Its events can be folded as a whole: none reads another type's (no email send, click or
    reply) and the forms' shared speed limit is not its own."""
    if plan.sends or kind == FORM_KIND:
        return False
    return plan.index is None or not any(spec.multipliers for spec, _ in plan.index.all.candidates)


def _fold_type(folder: Folder, kind: str, items: list[Timed]) -> None:
    compiled = folder.compiled
    plan = compiled.plan(kind)
    if plan.speed_limit is not None:
        items = _within_speed_limit(folder, kind, items, plan.speed_limit)
    index = plan.index
    if index is None or not items:
        return
    counted: dict[int, list[Timed]] = {}  # rule index -> its events
    if plan.plain is not None:
        for spec in plan.plain:
            counted[spec.index] = items
    else:
        _match_each(compiled, kind, plan, items, counted)
    specs = {spec.index: spec for spec, _ in index.all.candidates}
    tallies = folder.tallies
    for rule, events in counted.items():
        spec = specs[rule]
        tally = tallies[rule] = RuleTally(spec)
        keys = [(occurred_us, event.source, event.event_id) for occurred_us, event in events]
        if spec.simple:
            tally.earn_all(keys, spec.points)
        elif spec.distinct_days:
            tally.count_days(keys)
        else:
            _earn_repeats(compiled, kind, tally, keys, events)
        # What names the rule's latest event (Folder._name_latest): a distinct-days rule's is the
        # first event of its last counted day.
        named = tally.recent[-1] if tally.recent else keys[-1]
        folder._counted[named] = (events[keys.index(named)][1] if named != keys[-1] else events[-1][1], kind)
        latest_us = events[-1][0]
        if folder.last_active_us is None or latest_us > folder.last_active_us:
            folder.last_active_us = latest_us


def _match_each(
    compiled: CompiledRules, kind: str, plan: TypePlan, items: list[Timed], counted: dict[int, list[Timed]]
) -> None:
    """Each event into the lists of the rules it matches (as Folder.fold matches it). The rules of
    a page's URL, or of a value of the property the type's rules are looked up by, are found once."""
    index = plan.index
    assert index is not None
    page, by_key = plan.page, index.key
    # Without a looked-up property, the rules' answer is keyed by the values their conditions read.
    read = sorted({prop for _, tests in index.all.candidates for prop, _ in tests}) if by_key is None else []
    seen: dict[Any, tuple[list[list[Timed]] | None, _Choice | None, Any]] = {}
    value: Any
    for item in items:
        props = item[1].properties
        if page and PAGE_CATEGORY not in props:
            value = props.get("url")
            if value.__class__ is not str or "path" in props:
                value = None
        elif by_key is not None:
            value = props.get(by_key)
            if value.__class__ is not str:
                value = None
        else:
            value = tuple(props.get(prop) for prop in read)
            # Text only: 1, 1.0 and True are one key to a dict but not to a condition.
            if not all(part is None or part.__class__ is str for part in value):
                value = None
        if value is not None:
            found = seen.get(value)
            if found is None:
                found = seen[value] = _rules_of(compiled, plan, props, counted)
            targets, choice, category = found
            if targets is not None:
                for target in targets:
                    target.append(item)
                continue
            if choice is None:
                continue
            matched = choice.matching({**props, PAGE_CATEGORY: category} if category is not None else props)
        else:
            matched = compiled.matched_specs(item[1], kind)
        for spec in matched:
            listed = counted.get(spec.index)
            if listed is None:
                counted[spec.index] = [item]
            else:
                listed.append(item)


def _rules_of(
    compiled: CompiledRules, plan: TypePlan, props: dict[str, Any], counted: dict[int, list[Timed]]
) -> tuple[list[list[Timed]] | None, _Choice | None, Any]:
    """(the lists of the rules every such event matches, when that is known without its other
    properties; else the rules to test them against, and the page category)."""
    index = plan.index
    assert index is not None
    category = None
    if plan.page and PAGE_CATEGORY not in props:
        category = compiled.pages.category(props)
    if index.key is None:
        if category is not None:
            return None, index.all, category  # a page's rules read more than its URL
        return [counted.setdefault(spec.index, []) for spec in index.all.matching(props)], None, None
    value = category if category is not None and index.key == PAGE_CATEGORY else props.get(index.key)
    if value is None:
        return [], None, category
    choice = index.choice(value)
    if choice is None:
        return [], None, category
    if choice.plain is None:
        return None, choice, category
    return [counted.setdefault(spec.index, []) for spec in choice.plain], None, category


def _earn_repeats(
    compiled: CompiledRules, kind: str, tally: RuleTally, keys: list[EventKey], events: list[Timed]
) -> None:
    """A "then +N" rule: the first event of each scope earns its points, later ones `then` (as
    Folder.fold, in canonical order, from no scopes)."""
    spec = tally.spec
    index = compiled.plan(kind).index
    assert index is not None
    shared = len(index.all.candidates) > 1  # an event may match several rules: its expiry is theirs
    bases: list[float] = []
    for occurred_us, event in events:
        props = compiled.properties_of(event, kind)
        expires = spec.expiry_s(occurred_us)
        if shared:
            matched = index.matching(props)
            if len(matched) > 1:
                expires = compiled.expiry_s(occurred_us, matched)
        bases.append(tally.repeat(props, expires))
    tally.earn_each(keys, bases)


def _within_speed_limit(folder: Folder, kind: str, items: list[Timed], limit: int) -> list[Timed]:
    """The events within the type's limit per clock minute (the first `limit` of each minute); the
    rest are ignored as too fast. Leaves the speed count of the last hour, as Folder.fold does."""
    minutes = folder.speed.setdefault(kind, {})
    if not items:
        return items
    at = [occurred_us // MINUTE_US for occurred_us, _ in items]
    kept: list[Timed] = []
    if all(earlier != later for earlier, later in zip(at, at[limit:], strict=False)):
        kept = items  # no minute holds more than `limit`: the common case
    else:
        minute, scored = -1, 0
        for item, now in zip(items, at, strict=True):
            if now != minute:
                minute, scored = now, 0
            if scored < limit:
                scored += 1
                kept.append(item)
            else:
                event = item[1]
                folder._ignore("too_fast", item[0])
                folder.just_too_fast.append((event.source, event.event_id))
    newest = at[-1]
    folder._newest_minute[kind] = newest
    # At most `limit` events a minute are kept: the last hour's are among the last 61 × `limit`.
    for occurred_us, event in kept[-limit * (SPEED_MEMORY_MINUTES + 1) :]:
        minute = occurred_us // MINUTE_US
        if minute >= newest - SPEED_MEMORY_MINUTES:
            seen = minutes.get(minute)
            if seen is None:
                minutes[minute] = [1, (occurred_us, event.source, event.event_id)]
            else:
                seen[0] += 1
                seen[1] = (occurred_us, event.source, event.event_id)
    return kept
