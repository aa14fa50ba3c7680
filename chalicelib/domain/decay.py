"""How much of an event's value is kept at a given age: step schedules or exponential half-life."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

US_PER_DAY = 86_400_000_000  # the engine counts time in integer microseconds: exact, like datetime
# A half-life never reaches zero on its own; after ten half-lives less than 0.1% of the value is
# left, and from then on it is worth 0. So every decaying value has an age from which it is worth
# nothing for ever: what lets a stored basis forget it and an event expire.
HALF_LIVES_KEPT = 10


class DecayStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    until_days: float = Field(gt=0, description="the step applies while the event is younger than this")
    keep: float = Field(ge=0, le=1, description="share of the value kept during the step")


class DecaySchedule(BaseModel):
    """`steps` (kept share per age band, then `after`) or `half_life_days`; never both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[DecayStep] | None = None
    after: float = Field(default=0.0, ge=0, le=1, description="share kept once older than the last step")
    half_life_days: float | None = Field(default=None, gt=0)
    zero_after_days: float | None = Field(default=None, gt=0, description="half-life only: worth 0 from this age")

    @model_validator(mode="after")
    def _one_shape(self) -> DecaySchedule:
        if (self.steps is None) == (self.half_life_days is None):
            raise ValueError("give either steps or half_life_days")
        if self.steps is not None:
            if not self.steps:
                raise ValueError("steps must not be empty")
            previous_until, previous_keep = 0.0, 1.0
            for index, step in enumerate(self.steps):
                if step.until_days <= previous_until:
                    raise ValueError(f"steps[{index}].until_days must increase (got {step.until_days})")
                # A score that rises as a lead goes quiet would be a bug users cannot explain.
                if step.keep > previous_keep:
                    raise ValueError(f"steps[{index}].keep must not increase with age (got {step.keep})")
                previous_until, previous_keep = step.until_days, step.keep
            if self.after > previous_keep:
                raise ValueError(f"after ({self.after}) must not exceed the last step's keep ({previous_keep})")
            if self.zero_after_days is not None:
                raise ValueError("zero_after_days applies to half_life_days only; end steps with `after`")
        return self

    def compile(self) -> CompiledDecay:
        if self.steps is not None:
            return StepDecay(tuple((days_to_us(step.until_days), step.keep) for step in self.steps), self.after)
        assert self.half_life_days is not None
        return HalfLifeDecay(self.half_life_days * US_PER_DAY, days_to_us(self.lifetime_days()))

    def lifetime_days(self) -> float:
        """The age from which the value is worth 0 for ever (math.inf: never)."""
        if self.steps is not None:
            shares = [step.keep for step in self.steps] + [self.after]
            ends = [0.0] + [step.until_days for step in self.steps]
            for share, starts in zip(shares, ends):
                if share == 0:
                    return starts
            return math.inf
        assert self.half_life_days is not None
        kept = self.half_life_days * HALF_LIVES_KEPT
        return min(kept, self.zero_after_days) if self.zero_after_days else kept


def days_to_us(days: float) -> int:
    return round(days * US_PER_DAY)


class StepDecay:
    """Right-continuous steps: at exactly `until` microseconds old the next step's share applies."""

    __slots__ = ("after", "bands", "floor", "lifetime", "steps", "transitions")

    def __init__(self, steps: tuple[tuple[int, float], ...], after: float) -> None:
        self.steps = steps
        self.after = after
        # (until, share) from the youngest: the share kept below each age (None: any older age)
        self.bands: tuple[tuple[int | None, float], ...] = (*steps, (None, after))
        shares = [share for _, share in steps] + [after]
        ends = [0, *(until for until, _ in steps)]
        # lifetime: the age from which the value is 0 for ever; floor: the least share kept before it.
        self.lifetime: float = math.inf
        self.floor = after
        for index, share in enumerate(shares):
            if share == 0:
                self.lifetime = ends[index]
                self.floor = shares[index - 1] if index else 0.0
                break
        # (age, share before, share from then on) for each step boundary that changes the share
        self.transitions = tuple(
            (until, shares[index], shares[index + 1])
            for index, (until, _) in enumerate(steps)
            if shares[index] != shares[index + 1]
        )

    def keep(self, age_us: float) -> float:
        for until, kept in self.steps:
            if age_us < until:
                return kept
        return self.after


class HalfLifeDecay:
    __slots__ = ("floor", "half_life", "lifetime", "zero_after")

    def __init__(self, half_life_us: float, zero_after_us: float) -> None:
        self.half_life = half_life_us
        self.zero_after = self.lifetime = zero_after_us
        self.floor = self.keep(zero_after_us - 1)

    def keep(self, age_us: float) -> float:
        if age_us >= self.zero_after:
            return 0.0
        return float(0.5 ** (age_us / self.half_life))

    def age_worth_less_than(self, value: float, floor: float) -> float:
        """Age from which `value` decayed is below `floor`: the end of the search for a change."""
        if value <= floor:
            return 0.0
        return min(self.zero_after, self.half_life * math.log2(value / floor))


class NoDecay:
    """Fit attributes and negative behaviour keep their full value at any age."""

    __slots__ = ()
    lifetime = math.inf
    floor = 1.0

    def keep(self, age_us: float) -> float:
        return 1.0


CompiledDecay = StepDecay | HalfLifeDecay | NoDecay
NO_DECAY = NoDecay()
