"""`GET /leads`: the query parameters, validated against the rules' tiers and grades."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.errors import ClientError

SALESFORCE_ID = re.compile(r"(00Q|003)[0-9A-Za-z]{12}([0-9A-Za-z]{3})?")


class LeadsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = None
    grade: str | None = None
    q: str | None = Field(default=None, max_length=200, description="an email, a CRM id or a company name's start")
    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=500)

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
        """Highest tiers first; without `tier`, every tier (still ordered by score)."""
        return [self.tier] if self.tier else known_tiers(rules)

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
