"""The account's items: the account item itself, and what a lead item carries to be listed among
its account's contacts (`acct`, `acct_rank`, `firm`). Shared by lead_item.py and accounts.py."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.account_card import AccountCard, ContactRank
from chalicelib.domain.account_rules import ACCOUNT_ATTRIBUTES
from chalicelib.storage.account_ports import AccountState
from chalicelib.storage.items import n, s, spread, unspread
from chalicelib.storage.ports import LeadSave
from chalicelib.storage.schema import ACCOUNT_RANK, ACCT, ACCT_RANK
from chalicelib.storage.table import Item

ACCOUNT_SK = "ACCT"
TIER_PREFIX = "ACCOUNT#"  # an account's partition of GSI by_tier: ACCOUNT#<tier>, apart from the leads'


def account_pk(key: str) -> str:
    return f"ACCT#{key}"


def lead_account_attributes(change: LeadSave) -> tuple[Item, list[str]]:
    """Every save ranks the lead by its engagement; a save that knows the profile sets or removes
    its account and its company facts (the account's profile falls back on them)."""
    values: Item = {ACCT_RANK: n(round(change.card.engagement, 2))}
    removed: list[str] = []
    if change.account is not None:
        if change.account:
            values[ACCT] = s(account_pk(change.account))
        else:
            removed.append(ACCT)
    if change.profile_json is not None:
        profile = json.loads(change.profile_json)
        facts = {name: profile[name] for name in sorted(ACCOUNT_ATTRIBUTES) if profile.get(name) not in (None, "", [])}
        if facts:
            values["firm"] = s(json.dumps(facts, separators=(",", ":")))
        else:
            removed.append("firm")
    return values, removed


def account_item(table_name: str, state: AccountState) -> Item:
    """The account item as a conditional Put: a new one only if absent, else only at its version."""
    data = {
        "key": state.key,
        "name": state.name,
        "profile": state.profile,
        "profile_at": state.profile_at,
        "card": state.card.model_dump(mode="json") if state.card else None,
        "crm": state.crm,
        "gone": state.gone,
    }
    item: Item = {
        "pk": s(account_pk(state.key)),
        "sk": s(ACCOUNT_SK),
        ACCT: s(account_pk(state.key)),
        ACCT_RANK: n(ACCOUNT_RANK),
        "version": n(state.version + 1),
        "account": s(json.dumps(data, separators=(",", ":"))),
    }
    if state.card is not None:
        item.update(tier=s(spread(f"{TIER_PREFIX}{state.card.tier}", state.key, "tier")), score=n(state.card.score),
                    updated_at=s(state.card.scored_at.isoformat()))  # fmt: skip
    put: Item = {"TableName": table_name, "Item": item}
    if state.version:
        put.update(ConditionExpression="version = :v", ExpressionAttributeValues={":v": n(state.version)})
    else:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return put


def account_state(item: Item) -> AccountState:
    data: dict[str, Any] = json.loads(item["account"]["S"])
    return AccountState(
        key=data["key"],
        version=int(item["version"]["N"]) if "version" in item else 0,
        name=data.get("name"),
        profile=data.get("profile") or {},
        profile_at=data.get("profile_at") or {},
        gone=data.get("gone"),
        card=AccountCard.model_validate(data["card"]) if data.get("card") else None,
        crm=data.get("crm"),
    )


def contact_rank(item: Item) -> ContactRank:
    reasons = item.get("reasons", {}).get("L", [])
    return ContactRank(
        lead_id=item["lead_id"]["S"],
        engagement=float(item[ACCT_RANK]["N"]),
        name=item.get("name", {}).get("S"),
        email=item.get("email", {}).get("S"),
        score=int(item["score"]["N"]) if "score" in item else None,
        tier=unspread(item["tier"]["S"]) if "tier" in item else None,
        reason=reasons[0]["S"] if reasons else None,
        last_active_at=item.get("last_active_at", {}).get("S"),
        firm=json.loads(item["firm"]["S"]) if "firm" in item else {},
    )
