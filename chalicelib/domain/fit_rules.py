"""The fit rules' schema: one question asked of a profile (a lead's, or an account's), its first
matching option scoring."""

from __future__ import annotations

from pydantic import Field, model_validator

from .conditions import ValueTest
from .profile import FIT_ATTRIBUTES, NUMERIC_ATTRIBUTES
from .suggestions import did_you_mean

__all__ = ["FitCondition", "FitOption", "FitRule"]


class FitCondition(ValueTest):
    attribute: str | None = None


class FitOption(FitCondition):
    label: str | None = None
    points: int = 0
    any_of: list[FitCondition] | None = None

    @model_validator(mode="after")
    def _any_of_alone(self) -> FitOption:
        if self.any_of is not None and _has_own_test(self):
            raise ValueError("give either any_of or a test, not both")
        return self

    def conditions(self) -> list[FitCondition]:
        return list(self.any_of) if self.any_of is not None else [_own_test(self)]


def _has_own_test(option: FitCondition) -> bool:
    return bool(option.model_dump(include=set(ValueTest.model_fields), exclude_none=True))


def _own_test(option: FitCondition) -> FitCondition:
    return FitCondition(**option.model_dump(include=set(FitCondition.model_fields), exclude_none=True, by_alias=True))


class FitRule(FitOption):
    """One attribute question. With `options`, the first matching option scores; else the rule itself is one option."""

    name: str = Field(min_length=1)
    description: str = ""
    options: list[FitOption] | None = None
    disqualify: bool = False

    @model_validator(mode="after")
    def _shape(self) -> FitRule:
        if self.options is not None:
            if not self.options:
                raise ValueError("options must not be empty")
            if _has_own_test(self) or self.any_of is not None or self.points:
                raise ValueError("with options, put tests and points inside each option")
        for condition in self._all_conditions():
            attribute = condition.attribute or self.attribute
            if attribute is None:
                raise ValueError("name the attribute to test (on the rule or the condition)")
            if attribute not in FIT_ATTRIBUTES:
                known = f" (known: {', '.join(sorted(FIT_ATTRIBUTES))})"
                raise ValueError(f"unknown attribute {attribute!r}{did_you_mean(attribute, FIT_ATTRIBUTES) or known}")
            if condition.is_numeric and attribute not in NUMERIC_ATTRIBUTES:
                raise ValueError(f"min/below need a numeric attribute ({', '.join(sorted(NUMERIC_ATTRIBUTES))})")
        return self

    def effective_options(self) -> list[FitOption]:
        return list(self.options) if self.options is not None else [self]

    def _all_conditions(self) -> list[FitCondition]:
        return [condition for option in self.effective_options() for condition in option.conditions()]

    def list_names(self) -> list[str]:
        return [name for condition in self._all_conditions() for name in condition.list_names()]

    def attributes(self) -> set[str]:
        return {condition.attribute or self.attribute or "" for condition in self._all_conditions()}
