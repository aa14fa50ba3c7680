"""One engagement rule: the points an event type earns (where its properties match), how
repeats count, its cap and its decay. Used by the main engagement rules and a named score's own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .conditions import ValueTest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EngagementRule(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    event: str = Field(min_length=1, description="canonical event type (a key of event_types)")
    where: dict[str, ValueTest] = Field(default_factory=dict)
    points: float
    then: float | None = Field(default=None, description="value of each further occurrence; default: points")
    repeat_per: str | None = Field(default=None, description="property whose values count occurrences apart")
    cap: float | None = Field(default=None, gt=0, description="largest total (absolute) this rule may contribute")
    decay: str | None = Field(default=None, description="name of a decay schedule; none: never decays")
    multipliers: list[str] = Field(default_factory=list)
    distinct_days: int | None = Field(default=None, ge=2, description="earned once, when events span this many days")

    @field_validator("event")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.casefold()

    @model_validator(mode="after")
    def _consistent(self) -> EngagementRule:
        then = self.points if self.then is None else self.then
        if self.points * then < 0:
            raise ValueError("points and then must have the same sign")
        if (self.points < 0 or then < 0) and self.decay is not None:
            raise ValueError("negative behaviour never decays: remove `decay` from this rule")
        if self.distinct_days is not None and (self.then is not None or self.repeat_per is not None):
            raise ValueError("distinct_days is earned once: it takes no then or repeat_per")
        return self

    @property
    def repeat_points(self) -> float:
        return self.points if self.then is None else self.then
