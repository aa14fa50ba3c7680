"""The obvious implementation, kept as the benchmark's baseline and the tests' oracle.

It evaluates every rule against every event (no index by type), recomputes each rule's total from
scratch at `now`, and finds `next_change_at` by rescoring at every future decay step. Same
semantics as chalicelib.domain.score, different algorithm: the tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.domain import LeadEvent, Profile, Rules
from chalicelib.domain.compiled_rules import CompiledRules, SentEmail, compile_rules
from chalicelib.domain.engagement import canonical_order
from chalicelib.domain.events import as_utc, from_us, to_us
from chalicelib.domain.fit import evaluate_fit
from chalicelib.domain.rule_tally import MICRO, micro
from chalicelib.domain.tiers import grade_for, tier_for


def naive_total(profile: Profile, events: Iterable[LeadEvent], rules: Rules, now_us: int) -> int:
    compiled = compile_rules(rules)
    ordered = canonical_order(events)
    total = evaluate_fit(profile, compiled).points * MICRO
    for spec in compiled.engagement_rules:
        rule_total = 0
        seen: dict[object, int] = {}
        days: list[object] = []
        for _, event in ordered:
            canonical = compiled.canonical_type(event.type)
            if canonical != spec.event:
                continue
            props = compiled.properties_of(event, canonical)
            if not spec.matches(props):
                continue
            occurred = to_us(event.occurred_at)
            age = max(0, now_us - occurred)
            if spec.distinct_days:
                day = event.occurred_at.date()
                if day not in days and len(days) < spec.distinct_days:
                    days.append(day)
                    if len(days) == spec.distinct_days:
                        rule_total += micro(spec.points * spec.decay.keep(age))
                continue
            scope = props.get(spec.repeat_per) if spec.repeat_per else None
            base = spec.then if seen.get(scope) else spec.points
            seen[scope] = seen.get(scope, 0) + 1
            if spec.multipliers and base:
                sent = _sent_email(ordered, compiled, props.get(compiled.message_key), event)
                for multiplier in spec.multipliers:
                    base *= multiplier.factor(occurred, props, sent)
            rule_total += micro(base * spec.decay.keep(age))
        total += spec.clip(rule_total)
    return total


def _sent_email(
    ordered: list[tuple[int, LeadEvent]], compiled: CompiledRules, message_id: object, answer: LeadEvent
) -> SentEmail | None:
    """The email's first send before the click or reply `answer`, in event order."""
    for _, event in ordered:
        if event is answer:
            return None
        if (
            message_id is not None
            and compiled.canonical_type(event.type) == compiled.sent_event
            and event.properties.get(compiled.message_key) == message_id
        ):
            return SentEmail(to_us(event.occurred_at), event.properties)
    return None


def naive_score(profile: Profile, events: Iterable[LeadEvent], rules: Rules, now: datetime) -> dict[str, Any]:
    """Score, tier, grade and next_change_at only: the parts the fast engine must agree on."""
    events = list(events)
    compiled = compile_rules(rules)
    now_us = to_us(as_utc(now))
    total = naive_total(profile, events, rules, now_us)
    visible = max(0, (total + MICRO // 2) // MICRO)
    fit = evaluate_fit(profile, compiled)
    next_change = None
    if visible > 0:
        for instant in sorted(_future_steps(events, rules, now_us)):
            later = naive_total(profile, events, rules, instant)
            if max(0, (later + MICRO // 2) // MICRO) != visible:
                next_change = from_us(instant)
                break
    tier = rules.tiers.disqualified if fit.disqualified_by else tier_for(visible, compiled.tier_bands)
    return {
        "score": visible,
        "tier": tier,
        "grade": grade_for(fit.points, compiled.grade_bands),
        "next_change_at": next_change,
    }


def _future_steps(events: list[LeadEvent], rules: Rules, now_us: int) -> set[int]:
    """Every instant at which some event's decay share could change: anchor + each step boundary."""
    compiled = compile_rules(rules)
    instants: set[int] = set()
    for event in events:
        occurred = to_us(event.occurred_at)
        for spec in compiled.engagement_rules:
            for until, _ in getattr(spec.decay, "steps", ()):
                if occurred + until > now_us:
                    instants.add(occurred + until)
    return instants
