"""The cross-references of a rules file: every name one section uses must be defined in another
(lists, event types, decay schedules, multipliers, grades), all problems reported at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .patterns import PatternError, compile_pattern
from .rules import RulePathError
from .suggestions import did_you_mean
from .traffic_filters import FORM_KIND

if TYPE_CHECKING:
    from .rules import Rules


class References:
    """The cross-references of a Rules whose sections are each valid on their own."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.found: list[RulePathError] = []

    def problem(self, path: tuple[str | int, ...], message: str, refers_to: tuple[str, ...] = ()) -> None:
        self.found.append(RulePathError(path, message, refers_to))

    def unknown(self, path: tuple[str | int, ...], name: str, section: tuple[str, ...], known: list[str],
                message: str) -> None:  # fmt: skip
        """A name that is not defined: the closest defined one, else all of them (when few enough)."""
        listed = f" ({', '.join(sorted(known))})" if known and len(known) <= 40 else ""
        self.problem(path, message + (did_you_mean(name, known) or listed), (*section, name))

    def problems(self) -> list[RulePathError]:
        rules = self.rules
        self.unique(("fit",), [rule.name for rule in rules.fit])
        self.unique(("personas",), [persona.name for persona in rules.personas], "persona name")
        shared = [rule.name for rule in rules.fit]
        for number, persona in enumerate(rules.personas):
            self.unique(("personas", number, "fit"), [rule.name for rule in persona.fit], taken=set(shared))
            for index, rule in enumerate(persona.fit):
                self.lists(("personas", number, "fit", index), rule.list_names())
        for index, fit_rule in enumerate(rules.fit):
            self.lists(("fit", index), fit_rule.list_names())
        if rules.accounts is not None:
            self.unique(("accounts", "fit"), [rule.name for rule in rules.accounts.fit])
            for index, fit_rule in enumerate(rules.accounts.fit):
                self.lists(("accounts", "fit", index), fit_rule.list_names())
        engagement = rules.engagement
        types = sorted(engagement.event_types)
        self.engagement_rules(("engagement", "rules"), engagement.rules, types)
        for name, score in rules.scores.items():
            self.named_score(("scores", name), score, types)
        for position, event in enumerate(engagement.recorded_only):
            if event not in engagement.event_types:
                self.unknown(("engagement", "recorded_only", position), event, ("engagement", "event_types"), types,
                             f"{event!r} is not a key of engagement.event_types")  # fmt: skip
        for path, event in rules.crm_activity.event_references():
            if event.casefold() not in engagement.event_types:
                self.unknown(path, event.casefold(), ("engagement", "event_types"), types,
                             f"{event!r} is not a key of engagement.event_types")  # fmt: skip
        self.filters(types)
        self.grades()
        return self.found

    def engagement_rules(self, path: tuple[str | int, ...], listed: list[Any], types: list[str]) -> None:
        rules, engagement = self.rules, self.rules.engagement
        self.unique(path, [rule.name for rule in listed])
        for index, eng in enumerate(listed):
            at = (*path, index)
            if eng.event not in engagement.event_types:
                self.unknown((*at, "event"), eng.event, ("engagement", "event_types"), types,
                             f"{eng.event!r} is not a key of engagement.event_types")  # fmt: skip
            if eng.decay is not None and eng.decay not in rules.decay:
                self.unknown((*at, "decay"), eng.decay, ("decay",), list(rules.decay),
                             f"{eng.decay!r} is not a schedule under decay")  # fmt: skip
            for position, multiplier in enumerate(eng.multipliers):
                if multiplier not in engagement.multipliers:
                    self.unknown((*at, "multipliers", position), multiplier, ("engagement", "multipliers"),
                                 list(engagement.multipliers),
                                 f"{multiplier!r} is not defined under engagement.multipliers")  # fmt: skip
            for prop, test in eng.where.items():
                self.lists((*at, "where", prop), test.list_names())

    def named_score(self, path: tuple[str | int, ...], score: Any, types: list[str]) -> None:
        for position, kind in enumerate(score.when.event_types or []):
            if kind not in self.rules.engagement.event_types:
                self.unknown((*path, "when", "event_types", position), kind, ("engagement", "event_types"), types,
                             f"{kind!r} is not a key of engagement.event_types")  # fmt: skip
        for prop, test in score.when.properties.items():
            self.lists((*path, "when", "properties", prop), test.list_names())
        if score.rules is not None:
            self.engagement_rules((*path, "rules"), score.rules, types)

    def unique(self, path: tuple[str | int, ...], names: list[str], what: str = "rule name",
               taken: set[str] | None = None) -> None:  # fmt: skip
        seen: set[str] = set(taken or ())
        for index, name in enumerate(names):
            if name in seen:
                self.problem((*path, index, "name"), f"{what} {name!r} is used twice")
            seen.add(name)

    def lists(self, path: tuple[str | int, ...], names: list[str]) -> None:
        for name in names:
            if name not in self.rules.lists:
                message = f"list {name!r} is not defined under lists"
                self.unknown(path, name, ("lists",), list(self.rules.lists), message)

    def filters(self, types: list[str]) -> None:
        rules, filters = self.rules, self.rules.filters
        name = filters.crawler_user_agents
        if name is not None:
            if name not in rules.lists:
                self.unknown(("filters", "crawler_user_agents"), name, ("lists",), list(rules.lists),
                             f"list {name!r} is not defined under lists")  # fmt: skip
            for position, pattern in enumerate(rules.lists.get(name, [])):
                try:
                    compile_pattern(pattern)
                except PatternError as exc:
                    self.problem(("lists", name, position), f"not a regular expression: {exc}")
        aliases = {
            alias.casefold()
            for canonical, names in rules.engagement.event_types.items()
            for alias in (canonical, *names)
        }
        for kind, limit in filters.speed_limits.items():
            at = ("filters", "speed_limits", kind)
            if kind != FORM_KIND and kind.casefold() not in aliases:
                message = f'{kind!r} is neither "form" nor an event type'
                self.unknown(at, kind, ("engagement", "event_types"), [FORM_KIND, *types], message)
            if limit < 1:
                self.problem(at, "a limit is at least 1 event a minute")
            if kind.casefold() == rules.engagement.sent_event.casefold():
                self.problem(at, "email sends come from the CRM: no speed limit")

    def grades(self) -> None:
        grades = self.rules.grades
        if grades[-1].min_fit is not None:
            self.problem(("grades", len(grades) - 1), "the last grade takes no min_fit: it is the rest")
        previous = None
        for index, grade in enumerate(grades[:-1]):
            if grade.min_fit is None or (previous is not None and grade.min_fit >= previous):
                self.problem(("grades", index, "min_fit"), "grades go from the highest min_fit down")
            previous = grade.min_fit
