"""What the scorer moves in the CRM when a lead enters MQL (the rules file's `crm_actions`, off by
default): HubSpot's lifecycle stage, only forward in HubSpot's order (a customer stays a
customer), and a Salesforce Lead's Status, only from the statuses listed as earlier.

    crm_actions:
      on_mql:
        hubspot: {lifecyclestage: marketingqualifiedlead}
        salesforce: {Status: Marketing Qualified, from: [Open - Not Contacted, Working - Contacted]}
      recycle_on_lost: true

The moves are worked out when the lead is scored, from what the CRM last said of it (its profile),
stored with the lead and written by the write-back in the same batch call as the score. They do
not change a score, so they are not part of the rules' fingerprint; `recycle_on_lost` does, and is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .profile import Profile

# HubSpot's lifecycle stages, earliest first (their internal values); `other` is outside the order.
HUBSPOT_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HubSpotOnMql(_Strict):
    lifecyclestage: str

    @field_validator("lifecyclestage")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in HUBSPOT_STAGES:
            raise ValueError(f"not a HubSpot lifecycle stage: {value!r} (one of {', '.join(HUBSPOT_STAGES)})")
        return value


class SalesforceOnMql(_Strict):
    status: str = Field(alias="Status", min_length=1)
    earlier: list[str] = Field(alias="from", min_length=1, description="the Lead statuses it may move from")


class OnMql(_Strict):
    hubspot: HubSpotOnMql | None = None
    salesforce: SalesforceOnMql | None = None


class CrmActions(_Strict):
    on_mql: OnMql = Field(default_factory=OnMql)
    # The CRM saying the lead lost recycles it (domain/recycle.py): this one changes scores.
    recycle_on_lost: bool = False


def crm_moves(actions: CrmActions, mql: bool, profile: Profile) -> dict[str, dict[str, str]]:
    """The fields to set, per CRM, for a lead at MQL: none when it is not, or unless the CRM is
    known to show it earlier (a stage or status not known yet, or outside the order, is left
    alone: an earlier one is the only case a move is sure to be forward)."""
    if not mql:
        return {}
    moves: dict[str, dict[str, str]] = {}
    hubspot = actions.on_mql.hubspot
    if hubspot is not None:
        current = (profile.lifecycle_stage or "").strip().lower()
        target = HUBSPOT_STAGES.index(hubspot.lifecyclestage)
        if current in HUBSPOT_STAGES and HUBSPOT_STAGES.index(current) < target:
            moves["hubspot"] = {"lifecyclestage": hubspot.lifecyclestage}
    salesforce = actions.on_mql.salesforce
    if salesforce is not None and profile.lead_status in salesforce.earlier:
        moves["salesforce"] = {"Status": salesforce.status}
    return moves
