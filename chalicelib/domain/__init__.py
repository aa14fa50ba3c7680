"""The pure scoring core: models in, ScoreCard out. No AWS, no HTTP, no clock.

Names are exported lazily (PEP 562): the write-back consumer reads score cards without paying for
the rules engine, the YAML loader or the compiler, which importing them eagerly here would load.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .basis import ScoreBasis, StaleBasis
    from .events import Identities, LeadEvent
    from .profile import Profile
    from .rules import Rules
    from .rules_diagnosis import RulesError, RulesIssue
    from .rules_yaml import parse_rules
    from .scorecard import Contribution, ScoreCard, Visible
    from .scoring import card_from_basis, score, score_basis

_HOMES = {
    "ScoreBasis": "basis",
    "StaleBasis": "basis",
    "Identities": "events",
    "LeadEvent": "events",
    "Profile": "profile",
    "Rules": "rules",
    "RulesError": "rules_diagnosis",
    "RulesIssue": "rules_diagnosis",
    "parse_rules": "rules_yaml",
    "Contribution": "scorecard",
    "ScoreCard": "scorecard",
    "Visible": "scorecard",
    "card_from_basis": "scoring",
    "score": "scoring",
    "score_basis": "scoring",
}
__all__ = [
    "Contribution",
    "Identities",
    "LeadEvent",
    "Profile",
    "Rules",
    "RulesError",
    "RulesIssue",
    "ScoreBasis",
    "ScoreCard",
    "StaleBasis",
    "Visible",
    "card_from_basis",
    "parse_rules",
    "score",
    "score_basis",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
