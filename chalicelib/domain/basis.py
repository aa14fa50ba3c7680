"""The now-independent part of a score: fit and every rule's earnings (value at full strength
and the instant its decay starts). Stored with the lead, it lets the decay job produce the exact
card `score()` would, at any later `now`, without reading the lead's events again.

Valid only for the rules it was built with (`fingerprint`); a rules change means a full rescore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .compiled_rules import compile_rules
from .engagement import RuleTally
from .fit import FitResult
from .rules import Rules
from .scorecard import Contribution


class StaleBasis(ValueError):
    """The basis was built with other rules: rescore from the events."""


@dataclass
class ScoreBasis:
    fingerprint: str
    fit: FitResult
    tallies: list[RuleTally]

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "fit": {
                "points": self.fit.points,
                "disqualified_by": self.fit.disqualified_by,
                "contributions": [[c.rule, c.label, c.points_now] for c in self.fit.contributions],
            },
            "rules": [
                {
                    "index": tally.spec.index,
                    "count": tally.count,
                    "event_ids": tally.event_ids,
                    "bases": tally.bases,
                    "anchors": tally.anchors,
                }
                for tally in self.tallies
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], rules: Rules) -> ScoreBasis:
        compiled = compile_rules(rules)
        if data.get("fingerprint") != compiled.fingerprint:
            raise StaleBasis("the basis was built with other rules")
        fit_data = data["fit"]
        fit = FitResult(
            points=int(fit_data["points"]),
            contributions=[
                Contribution.model_construct(
                    kind="fit",
                    rule=rule,
                    label=label,
                    count=1,
                    points_now=points,
                    points_full=points,
                    capped=False,
                    event_ids=[],
                )
                for rule, label, points in fit_data["contributions"]
            ],
            disqualified_by=fit_data["disqualified_by"],
        )
        tallies = []
        for item in data["rules"]:
            tally = RuleTally(compiled.engagement_rules[item["index"]])
            tally.event_ids = list(item["event_ids"])
            tally.bases = [float(base) for base in item["bases"]]
            tally.anchors = [int(anchor) for anchor in item["anchors"]]
            tally.restore_count(int(item["count"]))
            tallies.append(tally)
        return cls(compiled.fingerprint, fit, tallies)
