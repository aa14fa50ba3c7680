"""Rules turned into plain Python objects once, so scoring a lead does lookups, not parsing."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .accounts import excluded_domains
from .conditions import Predicate, normalise_label
from .decay import NO_DECAY, CompiledDecay
from .event_rule import EngagementRule
from .events import LeadEvent, to_us
from .fit_rules import FitRule
from .named_scores import ScoreSelector
from .patterns import compile_pattern
from .rules import PropertyMultiplier, ResponseTimeMultiplier, Rules
from .traffic_filters import FORM_KIND, CompiledFilters

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
RETENTION_MARGIN_DAYS = 30  # kept past their last step, so rules edited to decay more slowly still see them
FOREVER_DAYS = 36_500  # a value that never ends (`after` > 0) still lets its event go after a century


class SentEmail:
    """What the engine knows of an email from its `email_sent` event: when it went out and its campaign."""

    __slots__ = ("properties", "sent_us")

    def __init__(self, sent_us: int, properties: Mapping[str, Any]) -> None:
        self.sent_us = sent_us
        self.properties = properties


class ResponseTimeFactor:
    __slots__ = ("bands", "otherwise")

    def __init__(self, spec: ResponseTimeMultiplier) -> None:
        self.bands = tuple((round(band.within_hours * US_PER_HOUR), band.factor) for band in spec.bands)
        self.otherwise = spec.otherwise

    def factor(self, occurred_us: int, props: Mapping[str, Any], sent: SentEmail | None) -> float:
        sent_at = props.get("sent_at")
        if sent_at is not None:
            sent_us = to_us(sent_at)
        elif sent is not None:
            sent_us = sent.sent_us
        else:
            return self.otherwise
        elapsed = max(0, occurred_us - sent_us)
        for within, factor in self.bands:
            if elapsed <= within:
                return factor
        return self.otherwise


class PropertyFactor:
    __slots__ = ("factors", "otherwise", "property")

    def __init__(self, spec: PropertyMultiplier) -> None:
        self.property = spec.property
        self.factors = {normalise_label(key): factor for key, factor in spec.factors.items()}
        self.otherwise = spec.otherwise

    def factor(self, occurred_us: int, props: Mapping[str, Any], sent: SentEmail | None) -> float:
        value = props.get(self.property)
        if value is None and sent is not None:
            value = sent.properties.get(self.property)
        if value is None:
            return self.otherwise
        return self.factors.get(normalise_label(value), self.otherwise)


class EngagementRuleSpec:
    """One engagement rule, compiled; `index` orders contributions deterministically."""

    __slots__ = (
        "cap", "cap_micro", "decay", "description", "distinct_days", "event", "index", "labels", "multipliers", "name",
        "negative", "points", "raw_labels", "reads_properties", "repeat_per", "repeats", "retention_us", "simple",
        "then", "where",
    )  # fmt: skip

    def __init__(self, index: int, rule: EngagementRule, lists: Mapping[str, list[str]], decay: CompiledDecay) -> None:
        self.index = index
        self.name = rule.name
        self.description = rule.description
        self.event = rule.event
        self.where: tuple[tuple[str, Predicate], ...] = tuple(
            (prop, test.compile(lists)) for prop, test in rule.where.items()
        )
        self.labels = {prop: test.equals_label for prop, test in rule.where.items() if test.equals_label}
        self.raw_labels = {prop: str(rule.where[prop].equals) for prop in self.labels}
        self.points = float(rule.points)
        self.then = float(rule.repeat_points)
        self.repeat_per = rule.repeat_per
        self.repeats = self.then != self.points  # "then +N" differs: count occurrences per scope
        self.cap = rule.cap
        self.cap_micro = round(rule.cap * 1_000_000) if rule.cap is not None else None
        self.negative = rule.points < 0 or rule.repeat_points < 0
        self.decay = NO_DECAY if self.negative else decay
        self.multipliers: list[ResponseTimeFactor | PropertyFactor] = []
        self.distinct_days = rule.distinct_days
        # Reads the event's properties beyond its conditions: they must include the page category.
        self.reads_properties = bool(self.repeat_per or rule.multipliers)
        # Earns its points, whatever came before: no repeat count, multiplier or distinct days.
        self.simple = not (self.repeats or rule.multipliers or self.distinct_days)
        # How long a matched event must be kept (µs), None: for ever (negative or non-decaying rules).
        self.retention_us: int | None = None if self.decay is NO_DECAY else _retention_us(decay.lifetime)

    def expiry_s(self, occurred_us: int) -> int:
        """When an event only this rule matched expires, in epoch seconds; 0: never."""
        return 0 if self.retention_us is None else (occurred_us + self.retention_us) // 1_000_000

    def matches(self, props: Mapping[str, Any]) -> bool:
        return matches_all(self.where, props)

    def clip(self, total: int) -> int:
        """Caps bound the rule's total in micro-points, on whichever side its sign is."""
        cap = self.cap_micro
        if cap is None:
            return total
        return -cap if total < -cap else cap if total > cap else total


def hashable(value: Any) -> Any:
    """Property values key dicts (occurrence scopes, message ids, caches); lists and maps from a
    sender's JSON become their canonical text so they can."""
    if value is None or value.__class__ in (str, int, float, bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def matches_all(tests: tuple[tuple[str, Predicate], ...], props: Mapping[str, Any]) -> bool:
    for prop, test in tests:  # noqa: SIM110 -- a plain loop: this runs for every event
        if not test(props.get(prop)):
            return False
    return True


def _retention_us(lifetime: float) -> int:
    days = FOREVER_DAYS * US_PER_DAY if math.isinf(lifetime) else int(lifetime)
    return days + RETENTION_MARGIN_DAYS * US_PER_DAY


class FitOptionSpec:
    __slots__ = ("label", "points", "tests")

    def __init__(self, label: str, points: int, tests: tuple[tuple[str, Predicate], ...]) -> None:
        self.label = label
        self.points = points
        self.tests = tests


class FitRuleSpec:
    __slots__ = ("description", "disqualify", "index", "name", "options")

    def __init__(self, index: int, rule: FitRule, lists: Mapping[str, list[str]]) -> None:
        self.index = index
        self.name = rule.name
        self.description = rule.description
        self.disqualify = rule.disqualify
        self.options = tuple(
            FitOptionSpec(
                option.label or rule.description or rule.name,
                option.points,
                tuple(
                    (condition.attribute or rule.attribute or "", condition.compile(lists))
                    for condition in option.conditions()
                ),
            )
            for option in rule.effective_options()
        )


class PageClassifier:
    __slots__ = ("_seen", "categories", "otherwise", "strip")
    _MEMORY = 4096  # a lead's views repeat a few dozen paths; remember them, bounded

    def __init__(self, strip_prefix: str | None, categories: list[tuple[str, str]], otherwise: str) -> None:
        self.strip = compile_pattern(strip_prefix, ignore_case=True) if strip_prefix else None
        self.categories = tuple((name, compile_pattern(pattern, ignore_case=True)) for name, pattern in categories)
        self.otherwise = otherwise
        self._seen: dict[Any, str] = {}

    def category(self, props: Mapping[str, Any]) -> str:
        path, url = props.get("path"), props.get("url")
        # Most views carry a URL string and no path: keyed by the URL alone.
        key = url if path is None and url.__class__ is str else (hashable(path), hashable(url))
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= self._MEMORY:
                self._seen.clear()
            found = self._seen[key] = self._classify(hashable(path), hashable(url))
        return found

    def _classify(self, path: Any, url: Any) -> str:
        if not path:
            path = urlsplit(str(url)).path if url else ""
        path = str(path) or "/"
        found = self._match(path)
        if found is None and self.strip is not None:
            # Raw path first, so /vs/... stays a comparison page rather than a "vs" locale.
            stripped = self.strip.sub("", path, count=1)
            # The prefix may take the slash after it (RE2 has no lookahead): the path keeps its own.
            found = self._match(stripped if stripped.startswith("/") else "/" + stripped)
        return found or self.otherwise

    def _match(self, path: str) -> str | None:
        for name, pattern in self.categories:
            if pattern.search(path):
                return name
        return None


PAGE_CATEGORY = "page_category"  # what the rules derive from a page view's URL (kept if given)
Candidate = tuple["EngagementRuleSpec", tuple[tuple[str, Predicate], ...]]


class RuleIndex:
    """The rules of one event type. When they all require a value of one property (page_category,
    action), they are looked up by that value, so a page view is tested against one rule, not eight,
    and the looked-up condition is not tested again. Where no condition is left to test, the answer
    is the looked-up rules themselves: most events cost one dict lookup here."""

    __slots__ = ("all", "by_label", "key")

    def __init__(self, specs: list[EngagementRuleSpec]) -> None:
        self.all = _Choice(tuple((spec, spec.where) for spec in specs))
        shared = set.intersection(*(set(spec.labels) for spec in specs)) if len(specs) > 1 else set()
        self.key: str | None = min(shared) if shared else None
        found: dict[str, tuple[Candidate, ...]] = {}
        if self.key is not None:
            for spec in specs:
                rest = tuple((prop, test) for prop, test in spec.where if prop != self.key)
                raw, label = spec.raw_labels[self.key], spec.labels[self.key]
                for variant in {raw, label}:
                    found[variant] = (*found.get(variant, ()), (spec, rest))
        self.by_label = {variant: _Choice(candidates) for variant, candidates in found.items()}

    def matching(self, props: Mapping[str, Any]) -> Sequence[EngagementRuleSpec]:
        """The rules these properties match."""
        if self.key is None:
            return self.all.matching(props)
        return self.matching_value(props.get(self.key), props)

    def matching_value(self, value: Any, props: Mapping[str, Any]) -> Sequence[EngagementRuleSpec]:
        """The rules matched by properties whose value of `key` is `value`."""
        if value is None:
            return ()
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.all.matching(props)
        choice = self.choice(value)
        return choice.matching(props) if choice is not None else ()

    def choice(self, value: Any) -> _Choice | None:
        """The candidates for a (non-list) value of `key`."""
        found = self.by_label.get(value) if value.__class__ is str else None
        if found is None:
            found = self.by_label.get(normalise_label(value))
        return found


class _Choice:
    """Candidate rules with the conditions still to test; `plain` when there are none."""

    __slots__ = ("candidates", "plain", "reads_properties")

    def __init__(self, candidates: tuple[Candidate, ...]) -> None:
        self.candidates = candidates
        self.plain = tuple(spec for spec, _ in candidates) if not any(tests for _, tests in candidates) else None
        self.reads_properties = any(spec.reads_properties or tests for spec, tests in candidates)

    def matching(self, props: Mapping[str, Any]) -> Sequence[EngagementRuleSpec]:
        if self.plain is not None:
            return self.plain
        return [spec for spec, tests in self.candidates if not tests or matches_all(tests, props)]


class CompiledRules:
    def __init__(self, rules: Rules) -> None:
        engagement = rules.engagement
        self.rules = rules
        self.fingerprint = rules.fingerprint
        self.type_aliases: dict[str, str] = {}
        for canonical, aliases in engagement.event_types.items():
            for alias in (canonical, *aliases):
                self.type_aliases[alias] = canonical
                self.type_aliases[alias.casefold()] = canonical
        self.recorded_only = frozenset(engagement.recorded_only)
        decays = {name: schedule.compile() for name, schedule in rules.decay.items()}
        factors = {
            name: ResponseTimeFactor(spec) if spec.kind == "response_time" else PropertyFactor(spec)
            for name, spec in engagement.multipliers.items()
        }
        self.engagement_rules: list[EngagementRuleSpec] = []
        rules_by_type: dict[str, list[EngagementRuleSpec]] = {}
        for index, rule in enumerate(engagement.rules):
            spec = EngagementRuleSpec(index, rule, rules.lists, decays[rule.decay] if rule.decay else NO_DECAY)
            spec.multipliers = [factors[name] for name in rule.multipliers]
            self.engagement_rules.append(spec)
            rules_by_type.setdefault(rule.event, []).append(spec)
        self.candidates = {event_type: RuleIndex(specs) for event_type, specs in rules_by_type.items()}
        pages = engagement.page_categories
        self.page_event = pages.event.casefold()
        self.pages = PageClassifier(
            pages.strip_prefix, [(c.name, c.pattern) for c in pages.categories], pages.otherwise
        )
        self.sent_event = engagement.sent_event.casefold()
        self.message_key = engagement.message_key
        # What a click or reply reads from the email it answers: the property multipliers' properties.
        self.message_properties = tuple(
            sorted({factor.property for factor in factors.values() if isinstance(factor, PropertyFactor)})
        )
        self.filters = CompiledFilters(rules.filters, rules.lists, self.canonical_type)
        self._plans: dict[str, TypePlan] = {}
        self._retention: dict[tuple[int, ...], int | None] = {}
        lifetimes = [decay.lifetime for decay in decays.values()]
        self.unmatched_retention_us: int | None = _retention_us(max(lifetimes)) if lifetimes else None
        self.fit_rules = [FitRuleSpec(index, rule, rules.lists) for index, rule in enumerate(rules.fit)]
        self.score_selectors = {name: ScoreSelector(spec.when, rules.lists, self.page_event)
                                for name, spec in rules.scores.items()}  # fmt: skip
        self.account_excluded = excluded_domains(rules.lists)
        account_fit = rules.accounts.fit if rules.accounts else []
        self.account_fit_rules = [FitRuleSpec(index, rule, rules.lists) for index, rule in enumerate(account_fit)]
        self.personas = [
            (persona.name, [FitRuleSpec(index, rule, rules.lists) for index, rule in enumerate(persona.fit)])
            for persona in rules.personas
        ]
        self.tier_bands = [(band.min, band.name) for band in rules.tiers.bands]
        self.grade_bands = [(grade.min_fit, grade.grade) for grade in rules.grades]

    def plan(self, canonical: str) -> TypePlan:
        """How an event of this canonical type is folded (remembered: a few dozen types at most,
        bounded against a sender inventing new ones)."""
        found = self._plans.get(canonical)
        if found is None:
            if len(self._plans) >= 1024:
                self._plans.clear()
            found = self._plans[canonical] = TypePlan(self, canonical)
        return found

    def canonical_type(self, event_type: str) -> str:
        """Tracking names map case-insensitively; an unmapped type stays itself (and earns nothing)."""
        found = self.type_aliases.get(event_type)
        if found is None:
            folded = event_type.casefold()
            found = self.type_aliases.get(folded, folded)
        return found

    def retention_us(self, matched: Sequence[EngagementRuleSpec]) -> int | None:
        """How long an event matched by `matched` matters (µs; None: for ever). One no rule matches
        today is kept as long as the longest schedule, so a rule added later still finds it."""
        if not matched:
            return self.unmatched_retention_us
        found = 0
        for spec in matched:
            if spec.retention_us is None:
                return None
            found = max(found, spec.retention_us)
        return found

    def expiry_s(self, occurred_us: int, matched: Sequence[EngagementRuleSpec]) -> int:
        """When such an event expires, in epoch seconds; 0: never."""
        names = tuple(spec.index for spec in matched)
        retention = self._retention.get(names, -1)
        if retention == -1:
            retention = self._retention[names] = self.retention_us(matched)
        return 0 if retention is None else (occurred_us + retention) // 1_000_000

    def matched_specs(self, event: LeadEvent, canonical: str) -> list[EngagementRuleSpec]:
        index = self.candidates.get(canonical)
        if index is None:
            return []
        return list(index.matching(self.properties_of(event, canonical)))

    def properties_of(self, event: LeadEvent, canonical: str) -> Mapping[str, Any]:
        """Event properties plus the page category the rules derive from its URL (kept if given)."""
        props = event.properties
        if canonical == self.page_event and PAGE_CATEGORY not in props:
            return {**props, PAGE_CATEGORY: self.pages.category(props)}
        return props


class TypePlan:
    """What folding an event of one canonical type involves, decided once per rules and type:
    `index` None when no rule counts it; `plain` the rules it always matches when they have no
    condition; `page` when its rules look at the page category; `speed_limit` per minute, if any;
    `remembers` when folding it reads the fold's memory (emails, repeat scopes: fold_memory.py)."""

    __slots__ = ("index", "page", "plain", "remembers", "sends", "speed_limit")

    def __init__(self, compiled: CompiledRules, canonical: str) -> None:
        self.sends = canonical == compiled.sent_event
        self.index = compiled.candidates.get(canonical)
        self.page = canonical == compiled.page_event
        self.plain = self.index.all.plain if self.index is not None and self.index.key is None else None
        self.speed_limit = compiled.filters.speed_limits.get(canonical) if canonical != FORM_KIND else None
        specs = self.index.all.candidates if self.index is not None else ()
        self.remembers = self.sends or any(spec.repeats or spec.multipliers for spec, _ in specs)


def compile_rules(rules: Rules) -> CompiledRules:
    """Predicates, regexes and indexes built once per rules object, not per lead."""
    found = rules.compiled_form
    if not isinstance(found, CompiledRules):
        found = CompiledRules(rules)
        rules.keep_compiled_form(found)
    return found
