"""The pure scoring core: models in, ScoreCard out. No AWS, no HTTP, no clock."""

from .basis import ScoreBasis, StaleBasis
from .events import Identities, LeadEvent
from .profile import Profile
from .rules import Rules
from .rules_loader import RulesError, RulesIssue, parse_rules
from .scorecard import Contribution, ScoreCard
from .scoring import card_from_basis, score, score_basis

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
    "card_from_basis",
    "parse_rules",
    "score",
    "score_basis",
]
