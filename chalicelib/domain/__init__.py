"""The pure scoring core: models in, ScoreCard out. No AWS, no HTTP, no clock."""

from .events import Identities, LeadEvent
from .profile import Profile
from .rules import Rules
from .rules_loader import RulesError, RulesIssue, parse_rules
from .scorecard import Contribution, ScoreCard
from .scoring import score

__all__ = [
    "Contribution",
    "Identities",
    "LeadEvent",
    "Profile",
    "Rules",
    "RulesError",
    "RulesIssue",
    "ScoreCard",
    "parse_rules",
    "score",
]
