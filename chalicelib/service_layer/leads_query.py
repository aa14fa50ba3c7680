"""`GET /leads`: the query parameters, validated against the rules' tiers and grades."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.crm_context import owner_refs
from chalicelib.domain.profile import Profile
from chalicelib.domain.rules import Rules
from chalicelib.service_layer.errors import ClientError
from chalicelib.storage.ports import LeadRow, Order

CLOSED = frozenset({"won", "lost"})  # outcome states (domain/outcomes.py) that close a lead
SALESFORCE_ID = re.compile(r"(00Q|003)[0-9A-Za-z]{12}([0-9A-Za-z]{3})?")


class LeadsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = None
    grade: str | None = None
    q: str | None = Field(
        default=None, max_length=200, description="an email, a CRM id, or the start of a company or a person's name"
    )
    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=500)
    status: Literal["open", "closed", "all"] = Field(
        default="open", description="open: not won, lost or disqualified (the default); closed: those; all"
    )
    owner: str | None = Field(
        default=None, max_length=80, description="an owner id (`101`, `0055g…`) or `crm:id` (`hubspot:101`)"
    )
    view: Literal["list", "new_mqls"] = Field(
        default="list", description="new_mqls: leads that entered MQL in the last `days` days, newest first"
    )
    days: int = Field(default=7, ge=1, le=90, description="how far back the new_mqls view looks")
    sort: Order = Field(
        default="score",
        description="score (highest first), change (biggest rise since yesterday first), last_active (latest first)",
    )

    @classmethod
    def from_params(cls, params: Mapping[str, str], rules: Rules) -> LeadsQuery:
        query = cls.model_validate(dict(params))
        known = known_tiers(rules)
        if query.tier is not None and query.tier not in known:
            raise ClientError(f"tier must be one of {', '.join(known)}", field="tier")
        grades = [band.grade for band in rules.grades]
        if query.grade is not None and query.grade not in grades:
            raise ClientError(f"grade must be one of {', '.join(grades)}", field="grade")
        return query

    def tiers(self, rules: Rules) -> list[str]:
        """Highest tiers first; without `tier`, every tier (still ordered by score). Open leads are
        never in the disqualified tier, so it is not read for them."""
        tiers = [self.tier] if self.tier else known_tiers(rules)
        if self.status == "open":
            tiers = [tier for tier in tiers if tier != rules.tiers.disqualified]
        return tiers

    def keeps(self, rules: Rules) -> Callable[[LeadRow], bool] | None:
        """What the rows must satisfy beyond their tier and grade: the status and the owner."""
        if self.status == "all" and not self.owner:
            return None
        disqualified, owner = rules.tiers.disqualified, (self.owner or "").strip()

        def keep(row: LeadRow) -> bool:
            closed = row.tier == disqualified or (row.outcome or {}).get("state") in CLOSED
            if (self.status == "open" and closed) or (self.status == "closed" and not closed):
                return False
            if owner:
                refs = owner_refs(Profile.model_validate_json(row.profile_json or "{}"))
                return any(owner in (found, f"{crm}:{found}") for crm, found in refs)
            return True

        return keep

    def identity_key(self) -> str | None:
        """The identity key `q` names, if it names one: `email:…`, `hubspot:…`, `salesforce:…`."""
        from chalicelib.domain.identity import parse_key

        text = (self.q or "").strip()
        if not text:
            return None
        if "@" in text and " " not in text:
            return parse_key(f"email:{text}")
        if text.isdigit():
            return f"hubspot:{text}"
        if SALESFORCE_ID.fullmatch(text):
            return f"salesforce:{text}"
        return parse_key(text)


def known_tiers(rules: Rules) -> list[str]:
    return [band.name for band in reversed(rules.tiers.bands)] + [rules.tiers.disqualified]
