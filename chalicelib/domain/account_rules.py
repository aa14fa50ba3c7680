"""The `accounts:` section of a rules file: how a company is scored from who it is and from its
contacts (account_score.py). Absent: accounts are still listed with their contacts, unscored.

```yaml
accounts:
  fit:                      # the lead fit rules' form, asked of the company's profile
    - {name: size, attribute: company_size, options: [{label: 200+ employees, min: 200, points: 20}]}
  engagement: {top_contacts: 3, cap: 150}     # the sum of the 3 most engaged contacts, up to 150
  breadth: {engaged_from: 15, points: 10, cap: 40}   # 10 a contact with 15+ beyond the first
  tiers: [{name: cold, min: 0}, {name: warm, min: 50}, {name: hot, min: 100}]
```
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .fit_rules import FitRule

ACCOUNT_ATTRIBUTES = frozenset({"company", "company_size", "industry", "country", "tech_stack"})
# The most contacts one roll-up reads (its cost is bounded whatever the account's size): engaged
# contacts beyond it are counted as "this many or more".
COUNT_LIMIT = 50
DEFAULT_TIERS = (("cold", 0), ("warm", 50), ("hot", 100))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RolledEngagement(_Strict):
    top_contacts: int = Field(default=3, ge=1, le=COUNT_LIMIT, description="the most engaged contacts that count")
    cap: float = Field(default=150, gt=0, description="the most their engagement adds up to")


class Breadth(_Strict):
    engaged_from: float = Field(default=15, gt=0, description="engagement that makes a contact engaged")
    points: float = Field(default=10, ge=0, description="points for each engaged contact beyond the first")
    cap: float = Field(default=40, ge=0, description="the most breadth adds")


class AccountTier(_Strict):
    name: str = Field(min_length=1)
    min: int = Field(ge=0)


class AccountRules(_Strict):
    fit: list[FitRule] = Field(default_factory=list)
    engagement: RolledEngagement = Field(default_factory=RolledEngagement)
    breadth: Breadth = Field(default_factory=Breadth)
    tiers: list[AccountTier] = Field(default_factory=lambda: [AccountTier(name=n, min=low) for n, low in DEFAULT_TIERS])

    @model_validator(mode="after")
    def _checked(self) -> AccountRules:
        minimums = [tier.min for tier in self.tiers]
        if not self.tiers or minimums != sorted(set(minimums)) or minimums[0] != 0:
            raise ValueError("accounts.tiers go up from min 0, each min higher than the one before")
        for rule in self.fit:
            for attribute in rule.attributes():
                if attribute not in ACCOUNT_ATTRIBUTES:
                    raise ValueError(
                        f"accounts.fit rule {rule.name!r} asks {attribute!r}: a company has "
                        + ", ".join(sorted(ACCOUNT_ATTRIBUTES))
                    )
        return self

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def bands(self) -> list[tuple[int, str]]:
        return [(tier.min, tier.name) for tier in self.tiers]

    @property
    def reads(self) -> int:
        """How many contacts a roll-up reads: the top that count, and enough to count breadth."""
        return COUNT_LIMIT
