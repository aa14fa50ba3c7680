"""`GET /leads?tier=&limit=`: the query parameters, validated."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.rules import active_rules
from chalicelib.sources.base import BadPayload


class LeadsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = None
    limit: int = Field(default=50, ge=1, le=500)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LeadsQuery:
        query = cls.model_validate(dict(params))
        known = query.known_tiers()
        if query.tier is not None and query.tier not in known:
            raise BadPayload(f"tier must be one of {', '.join(known)}", field="tier")
        return query

    @staticmethod
    def known_tiers() -> list[str]:
        tiers = active_rules().tiers
        return [band.name for band in reversed(tiers.bands)] + [tiers.disqualified]

    def tiers(self) -> list[str]:
        """Highest tiers first; without `tier`, every tier (still ordered by score)."""
        return [self.tier] if self.tier else self.known_tiers()
