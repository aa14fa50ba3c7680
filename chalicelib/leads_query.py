"""`GET /leads?tier=&limit=`: the query parameters, validated against the rules' tiers."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.rules import Rules
from chalicelib.sources.base import BadPayload


class LeadsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = None
    limit: int = Field(default=50, ge=1, le=500)

    @classmethod
    def from_params(cls, params: Mapping[str, str], rules: Rules) -> LeadsQuery:
        query = cls.model_validate(dict(params))
        known = known_tiers(rules)
        if query.tier is not None and query.tier not in known:
            raise BadPayload(f"tier must be one of {', '.join(known)}", field="tier")
        return query

    def tiers(self, rules: Rules) -> list[str]:
        """Highest tiers first; without `tier`, every tier (still ordered by score)."""
        return [self.tier] if self.tier else known_tiers(rules)


def known_tiers(rules: Rules) -> list[str]:
    return [band.name for band in reversed(rules.tiers.bands)] + [rules.tiers.disqualified]
