"""The leads list: the lead item's listing attributes (name, email, company, last activity and its
place in the feed index), the by_company search keys (the company's on the lead item, the name's on
NAME items, one per word order), and rows read without the card or basis (a page reads only its
leads)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from typing import Any

from chalicelib.domain.events import from_us, iso_z
from chalicelib.domain.score_change import change

from .items import n, s, spread, starts_of, unspread
from .ports import LeadRow, LeadSave
from .schema import ACTIVE_MONTH_PREFIX, FEED, FEED_AT
from .score_moves import week_names
from .table import Item

SEARCH_MIN = 2  # characters of a company search: its first two are the index's partition
LISTED = [
    "lead_id", "name", "email", "company", "last_active_at", "due_at", "score", "fit", "engagement", "tier",
    "grade", "reasons", "updated_at", "profile", "keys", "outcome", "acct",
]  # fmt: skip
PROFILE_LISTED = ("name", "email", "company", "company_prefix", "company_key")


def company_key(company: str) -> str:
    """A company name as search compares it: no case, accents, punctuation or repeated spaces."""
    folded = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def search_key(text: str) -> str:
    """The company key a search looks up; ValueError when too short to use the index."""
    key = company_key(text)
    if len(key) < SEARCH_MIN:
        raise ValueError(f"a company search needs at least {SEARCH_MIN} letters or digits")
    return key


NAME_SK = "NAME#"  # a lead's name in the by_company index: one item per rotation of its words
NAME_ROTATIONS = 3


def name_keys(name: str) -> list[str]:
    """The search keys of a name, one per word it may be searched by: "ada lovelace",
    "lovelace ada" (the first NAME_ROTATIONS words)."""
    words = company_key(name).split()
    keys = [" ".join(words[i:] + words[:i]) for i in range(min(len(words), NAME_ROTATIONS))]
    return [key for key in dict.fromkeys(keys) if len(key) >= SEARCH_MIN]


def name_changed(change: LeadSave) -> str | None:
    """The lead's name when this save changes it (or may: the name before is unknown), else None."""
    if change.profile_json is None:
        return None
    name = display_name(json.loads(change.profile_json))
    if change.profile_before_json is not None and display_name(json.loads(change.profile_before_json)) == name:
        return None
    return name


def display_name(profile: dict[str, Any]) -> str:
    return " ".join(part for part in (profile.get("first_name"), profile.get("last_name")) if part)


def optional_z(text: str | None) -> str | None:
    return iso_z(text) if text else None


def listing_attributes(change: LeadSave) -> tuple[Item, list[str]]:
    """The listing attributes a save sets and removes: the profile's when it is saved (a full
    rescore or a fold), the last activity when the basis is."""
    values: Item = {}
    removed: list[str] = []
    if change.profile_json is not None:
        profile = json.loads(change.profile_json)
        found = {
            "name": display_name(profile),
            "email": profile.get("email") or "",
            "company": profile.get("company") or "",
        }
        key = company_key(found["company"])
        if len(key) >= SEARCH_MIN:
            found.update(company_prefix=key[:SEARCH_MIN], company_key=key)
        for attribute in PROFILE_LISTED:
            if found.get(attribute):
                values[attribute] = s(found[attribute])
            else:
                removed.append(attribute)
    if change.basis is not None and change.basis.get("last_active_us") is not None:
        values.update(active_keys(int(change.basis["last_active_us"]), change.lead_id))
    if change.basis is not None and change.basis.get("first_seen_us") is not None:
        values["first_seen_at"] = s(iso_z(from_us(int(change.basis["first_seen_us"]))))  # the health report's month
    return values, removed


def active_keys(last_active_us: int, lead_id: str) -> Item:
    """The last activity as the leads list shows it, and the lead item's place in the feed index
    (its month's partition, the lead's shard of it, by when: sort=last_active)."""
    at = from_us(last_active_us)
    month = spread(f"{ACTIVE_MONTH_PREFIX}{at:%Y-%m}", lead_id, "active")
    return {"last_active_at": s(iso_z(at)), FEED: s(month), FEED_AT: n(last_active_us)}


def listed_names(today: date | None) -> list[str]:
    """What a row reads of the lead item: the listing attributes, and the week's day starts when
    the change is asked for (`today`)."""
    return LISTED + (week_names(today) if today else [])


def row_of(item: Item, today: date | None = None) -> LeadRow:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value else None

    return LeadRow(
        lead_id=item["lead_id"]["S"],
        score=int(item["score"]["N"]),
        fit=int(item["fit"]["N"]),
        engagement=float(item["engagement"]["N"]),
        tier=unspread(item["tier"]["S"]),
        grade=item["grade"]["S"],
        reasons=[reason["S"] for reason in item.get("reasons", {}).get("L", [])],
        updated_at=optional_z(text("updated_at")),
        name=text("name"),
        email=text("email"),
        company=text("company"),
        last_active_at=optional_z(text("last_active_at")),
        next_change_at=optional_z(text("due_at")),
        profile_json=text("profile"),
        keys=[key["S"] for key in item.get("keys", {}).get("L", [])],
        outcome=json.loads(item["outcome"]["S"]) if "outcome" in item else None,
        account=(text("acct") or "").removeprefix("ACCT#") or None,
        **(_changes(int(item["score"]["N"]), starts_of(item), today) if today else {}),
    )


def _changes(score: int, starts: dict[date, int], today: date) -> dict[str, int]:
    moved = change(score, starts, today)
    return {"change_1d": moved.since_yesterday, "change_7d": moved.this_week}
