"""Value tests shared by fit rules (on profile attributes) and engagement rules (on event properties).

A test is written in YAML as one mapping, for example `{min: 100}`, `{pattern: '\\bvp\\b'}`,
`{in: target_industries}` (a named list) or `{domains: [gmail.com, .edu]}`; a bare scalar means
"equals". It compiles once into a plain function so scoring does no parsing per event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .patterns import compile_pattern

Predicate = Callable[[Any], bool]
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_label(value: Any) -> str:
    """Labels compare as RevOps users read them: "ORGANIC_SEARCH" is "Organic search" is "organic-search"."""
    return _normalise_text(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=8192)
def _normalise_text(text: str) -> str:
    # The same few labels (categories, actions, sources) recur on every event: normalise each once.
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def normalise_domain(value: str) -> str:
    return value.strip().casefold().lstrip("@")


def _compiles(pattern: str) -> str:
    compile_pattern(pattern)  # PatternError (a ValueError) names what RE2 cannot run
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]


class ValueTest(BaseModel):
    """Exactly one kind of test; `min` and `below` may be combined into a band [min, below)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    equals: str | float | bool | None = None
    min: float | None = None
    below: float | None = None
    pattern: Regex | None = None
    in_: str | list[str] | None = Field(default=None, alias="in")
    not_in: str | list[str] | None = None
    domains: str | list[str] | None = None
    present: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_means_equals(cls, data: Any) -> Any:
        if isinstance(data, (str, int, float, bool)):
            return {"equals": data}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> ValueTest:
        kinds = [
            name
            for name, given in (
                ("equals", self.equals is not None),
                ("min/below", self.min is not None or self.below is not None),
                ("pattern", self.pattern is not None),
                ("in", self.in_ is not None),
                ("not_in", self.not_in is not None),
                ("domains", self.domains is not None),
                ("present", self.present is not None),
            )
            if given
        ]
        if len(kinds) > 1:
            raise ValueError(f"give one test, not {' and '.join(kinds)}")
        if self.min is not None and self.below is not None and self.below <= self.min:
            raise ValueError(f"below ({self.below}) must be greater than min ({self.min})")
        return self

    @property
    def equals_label(self) -> str | None:
        """The normalised text this test requires, when it is a plain text equality (used to index rules)."""
        if isinstance(self.equals, str):
            return normalise_label(self.equals)
        return None

    @property
    def is_numeric(self) -> bool:
        return self.min is not None or self.below is not None

    def list_names(self) -> list[str]:
        """Named lists this test refers to, so the rules file can check they exist."""
        return [ref for ref in (self.in_, self.not_in, self.domains) if isinstance(ref, str)]

    def compile(self, lists: Mapping[str, list[str]]) -> Predicate:
        def resolve(ref: str | list[str]) -> list[str]:
            return lists[ref] if isinstance(ref, str) else ref

        if self.min is not None or self.below is not None:
            return _band(self.min, self.below)
        if self.pattern is not None:
            regex = compile_pattern(self.pattern, ignore_case=True)
            return lambda value: value is not None and any(regex.search(str(v)) for v in _values(value))
        if self.in_ is not None:
            wanted = frozenset(normalise_label(v) for v in resolve(self.in_))
            return lambda value: any(normalise_label(v) in wanted for v in _values(value))
        if self.not_in is not None:
            unwanted = frozenset(normalise_label(v) for v in resolve(self.not_in))
            return lambda value: not any(normalise_label(v) in unwanted for v in _values(value))
        if self.domains is not None:
            return _domain_test(resolve(self.domains))
        if self.equals is not None:
            return _equals(self.equals)
        if self.present is not None:
            expected = self.present
            return lambda value: _has_value(value) is expected
        return _has_value


def _values(value: Any) -> Iterable[Any]:
    """A list-valued attribute (tech stack) matches when any of its items does."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set, frozenset)):
        return value
    return (value,)


def _has_value(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, set, frozenset, dict)):
        return len(value) > 0
    return True


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _band(low: float | None, high: float | None) -> Predicate:
    def test(value: Any) -> bool:
        number = _number(value)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number < high)

    return test


def _equals(expected: str | float | bool) -> Predicate:
    if isinstance(expected, bool):
        return lambda value: value is expected or normalise_label(value) == str(expected).casefold()
    if isinstance(expected, (int, float)):
        return lambda value: _number(value) == expected
    wanted = normalise_label(expected)
    return lambda value: any(normalise_label(v) == wanted for v in _values(value))


def _domain_test(entries: Iterable[str]) -> Predicate:
    """`gmail.com` matches that domain and its subdomains; `.edu` matches any domain ending so.
    A domain and its parents are looked up in a set, so a list of 10,000 domains (a maintained
    disposable-email list) costs a few lookups, not 10,000 comparisons."""
    exact: set[str] = set()
    suffixes: list[str] = []
    for entry in entries:
        domain = normalise_domain(entry)
        if domain.startswith("."):
            suffixes.append(domain)
        else:
            exact.add(domain)
    suffix_tuple = tuple(suffixes)

    def test(value: Any) -> bool:
        if not value:
            return False
        domain = normalise_domain(str(value)).rsplit("@", 1)[-1]
        parent = domain
        while parent:
            if parent in exact:
                return True
            parent = parent.partition(".")[2]
        return bool(suffix_tuple) and domain.endswith(suffix_tuple)

    return test
