"""The rules file schema: every point value, decay schedule, tier and grade lives in YAML, checked here."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .account_rules import AccountRules
from .conditions import Regex
from .crm_actions import CrmActions
from .crm_activity import CrmActivity
from .decay import DecaySchedule
from .event_rule import EngagementRule
from .fit_rules import FitRule
from .named_scores import NamedScore, check_names
from .suggestions import did_you_mean
from .traffic_filters import TrafficFilters


class RulePathError(ValueError):
    """A cross-reference problem found at the top level: the path of the key that is wrong and, for
    a name that is not defined, the path where it should be (`refers_to`)."""

    def __init__(self, path: tuple[str | int, ...], message: str, refers_to: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.refers_to = refers_to


class RuleProblems(ValueError):
    """Every cross-reference problem of a rules file, raised together."""

    def __init__(self, problems: list[RulePathError]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class _Strict(BaseModel):
    # Unknown keys are errors: a misspelt `pionts:` must not silently score 0.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------------------- engagement
class ResponseTimeBand(_Strict):
    within_hours: float = Field(gt=0)
    factor: float = Field(gt=0)


class ResponseTimeMultiplier(_Strict):
    """Time from the email being sent to the response; the sent time comes from `sent_at` or the sent event."""

    kind: Literal["response_time"]
    bands: list[ResponseTimeBand] = Field(min_length=1)
    otherwise: float = Field(default=1.0, gt=0)

    @field_validator("bands")
    @classmethod
    def _ascending(cls, bands: list[ResponseTimeBand]) -> list[ResponseTimeBand]:
        hours = [band.within_hours for band in bands]
        if hours != sorted(set(hours)):
            raise ValueError("within_hours must increase from one band to the next")
        return bands


class PropertyMultiplier(_Strict):
    """A factor chosen by a property's value, read from the event or else from its sent email."""

    kind: Literal["property"]
    property: str = Field(min_length=1)
    factors: dict[str, float] = Field(min_length=1)
    otherwise: float = Field(default=1.0, gt=0)

    @field_validator("factors")
    @classmethod
    def _positive(cls, factors: dict[str, float]) -> dict[str, float]:
        for key, factor in factors.items():
            if factor <= 0:
                raise ValueError(f"factor for {key!r} must be positive (got {factor})")
        return factors


Multiplier = Annotated[ResponseTimeMultiplier | PropertyMultiplier, Field(discriminator="kind")]


class PageCategory(_Strict):
    name: str = Field(min_length=1)
    pattern: Regex = Field(min_length=1, description="regular expression on the URL path")


class PageCategories(_Strict):
    """Derives `page_category` for page views from the URL path; the first matching pattern wins."""

    event: str = "page_view"
    strip_prefix: Regex | None = Field(default=None, description="regex removed from the path first (locales)")
    categories: list[PageCategory] = Field(default_factory=list)
    otherwise: str = "other"


class Engagement(_Strict):
    event_types: dict[str, list[str]] = Field(
        default_factory=dict, description="canonical type -> tracking event names that mean it"
    )
    recorded_only: list[str] = Field(
        default_factory=list, description="event types kept on purpose without points (rules validate: no warning)"
    )
    page_categories: PageCategories = Field(default_factory=PageCategories)
    multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    sent_event: str = Field(default="email_sent", description="type whose time and campaign a response inherits")
    message_key: str = Field(default="message_id", description="property that ties a response to its sent email")
    rules: list[EngagementRule] = Field(default_factory=list)

    @field_validator("event_types")
    @classmethod
    def _unique_aliases(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for canonical, aliases in value.items():
            for alias in [canonical, *aliases]:
                key = alias.casefold()
                if seen.setdefault(key, canonical) != canonical:
                    raise ValueError(f"{alias!r} is listed under both {seen[key]!r} and {canonical!r}")
        return {canonical.casefold(): aliases for canonical, aliases in value.items()}

    @field_validator("recorded_only")
    @classmethod
    def _lower_recorded(cls, value: list[str]) -> list[str]:
        return [name.casefold() for name in value]


# ------------------------------------------------------------------------------------ tiers, grades
class TierBand(_Strict):
    name: str = Field(min_length=1)
    min: int = Field(ge=0)


class Tiers(_Strict):
    bands: list[TierBand] = Field(min_length=1)
    hysteresis: int = Field(default=0, ge=0, description="points below a boundary before a tier drops")
    mql_from: str
    disqualified: str = "disqualified"

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        mins = [band.min for band in self.bands]
        if mins[0] != 0:
            raise ValueError("the first tier must start at min 0")
        if mins != sorted(set(mins)):
            raise ValueError("tier minimums must increase from one tier to the next")
        names = [band.name for band in self.bands]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        if self.mql_from not in names:
            known = f" ({', '.join(names)})"
            raise ValueError(f"mql_from {self.mql_from!r} is not a tier{did_you_mean(self.mql_from, names) or known}")
        return self


class GradeBand(_Strict):
    grade: str = Field(min_length=1)
    min_fit: int | None = Field(default=None, description="omit on the last grade: everything below")


class Persona(_Strict):
    """A buyer persona: its own fit questions. A lead's fit is the shared `fit` rules plus those of
    the persona it matches best (most points); the card names that persona."""

    name: str = Field(min_length=1)
    description: str = ""
    fit: list[FitRule] = Field(min_length=1)


class Calibration(_Strict):
    """The likelihood of conversion at a score: 1 / (1 + exp(-(intercept + slope × score))), a
    logistic (Platt) curve fitted to the outcomes by `backtest --fit`. Rising with the score."""

    intercept: float
    slope: float = Field(gt=0)
    fitted_on: int | None = Field(default=None, description="how many leads with outcomes it was fitted on")

    def likelihood(self, score: int) -> float:
        exponent = -(self.intercept + self.slope * score)
        return 1.0 / (1.0 + math.exp(min(exponent, 700.0)))


class Rules(_Strict):
    version: int = 1
    name: str = "rules"
    lists: dict[str, list[str]] = Field(default_factory=dict)
    decay: dict[str, DecaySchedule] = Field(default_factory=dict)
    fit: list[FitRule] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)  # none: one persona, the `fit` rules alone
    engagement: Engagement = Field(default_factory=Engagement)
    tiers: Tiers
    grades: list[GradeBand] = Field(min_length=1)
    crm_activity: CrmActivity = Field(default_factory=CrmActivity)
    filters: TrafficFilters = Field(default_factory=TrafficFilters)
    calibration: Calibration | None = None  # with one, every card shows its likelihood
    crm_actions: CrmActions = Field(default_factory=CrmActions)  # what entering MQL moves in the CRM
    accounts: AccountRules | None = None  # how companies are scored from their contacts (none: unscored)
    scores: dict[str, NamedScore] = Field(default_factory=dict)  # named scores besides the main one

    # Filled by compiled_rules.compile_rules(): the compiled form lives with the rules object, so it is
    # built once per rules file, not per lead (and this module need not import the compiler).
    _compiled: object = PrivateAttr(default=None)
    _fingerprint: str | None = PrivateAttr(default=None)
    _derived: dict[str, Rules] = PrivateAttr(default_factory=dict)  # the named scores' (named_scores.py)

    @model_validator(mode="after")
    def _references(self) -> Rules:
        """Every name one part of the file uses must be defined in another: all such problems at
        once (RuleProblems), so a file is fixed in one round."""
        from .rules_references import References  # it reads a Rules: imported when one exists

        problems = References(self).problems()
        if problems:
            raise RuleProblems(problems)
        return self

    @property
    def fingerprint(self) -> str:
        """Stable hash of the rules' meaning (not the file's formatting): a change triggers a full rescore."""
        if self._fingerprint is not None:  # frozen: computed once (a hash of the whole file is not free)
            return self._fingerprint
        # What the CRM is moved to changes no score: leaving it out spares every lead a rescore.
        # Nor do the account rules (accounts have their own: AccountRules.fingerprint).
        # No named scores is the meaning files had before they existed: the same fingerprint.
        meaning = self.model_dump(mode="json", by_alias=True, exclude={"crm_actions", "accounts"}
                                  | (set() if self.scores else {"scores"}))  # fmt: skip
        if self.crm_actions.recycle_on_lost:  # a loss recycling the lead changes its score
            meaning["recycle_on_lost"] = True
        canonical = json.dumps(meaning, sort_keys=True, separators=(",", ":"))
        self._fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        return self._fingerprint

    @property
    def compiled_form(self) -> object:
        return self._compiled

    def keep_compiled_form(self, compiled: object) -> None:
        self._compiled = compiled

    def forget_compiled_form(self) -> None:
        """For a copy made with other sections (a named score's rules): nothing of the original's."""
        self._compiled, self._fingerprint, self._derived = None, None, {}

    @property
    def derived_cache(self) -> dict[str, Rules]:
        return self._derived

    @field_validator("scores")
    @classmethod
    def _score_names(cls, value: dict[str, NamedScore]) -> dict[str, NamedScore]:
        check_names(value)
        return value

    def summary(self) -> str:
        return (
            f"{self.name}: {len(self.fit)} fit rules"
            + (f", {len(self.personas)} personas ({', '.join(p.name for p in self.personas)})" if self.personas else "")
            + f", {len(self.engagement.rules)} engagement rules, "
            f"{len(self.decay)} decay schedules, tiers {'/'.join(b.name for b in self.tiers.bands)}, "
            + (f"named scores {', '.join(self.scores)}, " if self.scores else "")
            + ("accounts scored, " if self.accounts else "")
            + f"fingerprint {self.fingerprint}"
        )
