"""Won and lost, from the CRM's own fields (to refine the model from outcomes).

HubSpot: lifecyclestage `customer` is won; hs_lead_status UNQUALIFIED / BAD_TIMING (and the usual
"not a fit" statuses) is lost. Salesforce: IsConverted (folded into the profile as lifecycle stage
`converted`) is won; a "Closed - Not Converted" or unqualified Status is lost. Anything else is
open. A lost status set back to an open one reopens the lead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from chalicelib.domain.conditions import normalise_label
from chalicelib.domain.profile import Profile
from chalicelib.domain.scorecard import ScoreCard

State = Literal["won", "lost", "open"]

WON_STAGES = frozenset(normalise_label(v) for v in ("customer", "converted", "evangelist"))
WON_STATUSES = frozenset(normalise_label(v) for v in ("closed - converted", "converted", "closed won"))
LOST_STATUSES = frozenset(
    normalise_label(v)
    for v in (
        "UNQUALIFIED",
        "BAD_TIMING",
        "not a fit",
        "disqualified",
        "closed - not converted",
        "closed lost",
        "lost",
    )
)


def outcome_state(profile: Profile) -> State:
    if profile.lifecycle_stage and normalise_label(profile.lifecycle_stage) in WON_STAGES:
        return "won"
    status = normalise_label(profile.lead_status) if profile.lead_status else ""
    if status in WON_STATUSES:
        return "won"
    if status in LOST_STATUSES:
        return "lost"
    return "open"


def outcome_change(
    before: Profile | None,
    after: Profile,
    card_then: ScoreCard,
    first_seen: datetime | None,
    at: datetime,
) -> dict[str, Any] | None:
    """The outcome record to store when the lead's state changed, else None. `card_then` is the
    card sales saw when they acted (the one before this change), so reports measure the score's
    prediction, not its reaction to the outcome."""
    state = outcome_state(after)
    if before is not None and outcome_state(before) == state:
        return None
    if before is None and state == "open":
        return None
    days = (at - first_seen).total_seconds() / 86400 if first_seen else None
    return {
        "state": state,
        "at": at.isoformat(),
        "score": card_then.score,
        "tier": card_then.tier,
        "grade": card_then.grade,
        "days": None if days is None else round(max(days, 0.0), 3),
        "lifecycle_stage": after.lifecycle_stage,
        "lead_status": after.lead_status,
        "reasons": card_then.reasons(),  # why it scored so then: the exceptions report shows them
        "rules": card_then.rules_fingerprint,  # the rules version that scored it so (the health report)
    }
