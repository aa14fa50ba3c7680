"""The leads list's orders as index partitions read one after another (storage/dynamodb/listing.py
pages through them; the in-memory listing sorts the same way):

- score: tier by tier (`by_tier`), highest score first.
- change: today's risers (`moved`, biggest rise first), then the leads that did not move today (by
  score), then today's fallers (smallest fall first).
- last_active: month by month (the lead items in `feed`, ACTIVE#<month>), latest first, back
  ACTIVE_MONTHS months; then the leads with no activity in that time (by score).

A partition that is not one tier shows only the rows of the tiers and grade asked (`keep`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, get_args

from .items import n, s, spreads
from .ports import LeadRow, Order
from .schema import (
    ACTIVE_MONTH_PREFIX,
    BY_TIER_INDEX,
    FEED,
    FEED_AT,
    FEED_INDEX,
    MOVED_BY,
    MOVED_DAY,
    MOVED_INDEX,
)  # fmt: skip

ORDERS: tuple[Order, ...] = get_args(Order)
ACTIVE_MONTHS = 36  # months of last activity read month by month; older activity sorts with none


@dataclass(frozen=True)
class Partition:
    index: str
    hash_name: str
    hash_value: str
    range_name: str
    range_type: str  # "S" or "N"
    range_condition: str | None = None  # on the range key, against :zero ("> :zero")
    grade: str | None = None  # a filter the Query applies
    keep: Callable[[LeadRow], bool] | None = None  # what this partition shows of the rows it reads
    shards: str | None = None  # spread over shards of this kind (storage/items.py `spread`): read merged

    def values(self) -> list[str]:
        """The hash values to Query: the key's shards, or the key."""
        return spreads(self.hash_value, self.shards) if self.shards else [self.hash_value]

    def requests(self) -> dict[str, dict[str, Any]]:
        return {value: self.request(value) for value in self.values()}

    def range_key(self, item: dict[str, Any]) -> Any:
        value = item[self.range_name][self.range_type]
        return float(value) if self.range_type == "N" else value

    def request(self, value: str | None = None) -> dict[str, Any]:
        names = {"#h": self.hash_name}
        values: dict[str, Any] = {":h": s(value or self.hash_value)}
        condition = "#h = :h"
        if self.range_condition:
            condition += f" AND #r {self.range_condition}"
            names["#r"] = self.range_name
            values[":zero"] = n(0)
        request: dict[str, Any] = {
            "IndexName": self.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if self.grade:
            request["FilterExpression"] = "#g = :grade"
            names["#g"] = "grade"
            values[":grade"] = s(self.grade)
        return request


def partitions(order: Order, tiers: Sequence[str], grade: str | None, today: date | None) -> list[Partition]:
    by_tier = [Partition(BY_TIER_INDEX, "tier", tier, "score", "N", grade=grade, shards="tier") for tier in tiers]
    if order == "score":
        return by_tier
    if today is None:
        raise ValueError(f"sort={order} needs the day")
    wanted = set(tiers)

    def listed(row: LeadRow) -> bool:
        return row.tier in wanted and (grade is None or row.grade == grade)

    if order == "change":
        moved = [Partition(MOVED_INDEX, MOVED_DAY, today.isoformat(), MOVED_BY, "N", condition, keep=listed,
                           shards="moved") for condition in ("> :zero", "< :zero")]  # fmt: skip

        def still(row: LeadRow) -> bool:
            return row.change_1d == 0

        return [moved[0], *(with_keep(part, still) for part in by_tier), moved[1]]
    months = month_partitions(today)

    def quiet(row: LeadRow) -> bool:
        return not in_months(row.last_active_at, months)

    return [*(with_keep(part, listed) for part in months), *(with_keep(part, quiet) for part in by_tier)]


def in_months(last_active_at: str | None, months: Sequence[Partition]) -> bool:
    """Whether the month partitions read hold a lead last active then (ISO 8601, UTC)."""
    first, last = (part.hash_value.removeprefix(ACTIVE_MONTH_PREFIX) for part in (months[-1], months[0]))
    return last_active_at is not None and first <= last_active_at[:7] <= last


def month_partitions(today: date) -> list[Partition]:
    """The feed index's ACTIVE#<month> partitions, latest first: from next month (an event a
    sender's clock stamped ahead of ours) back ACTIVE_MONTHS months."""
    found = []
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    for _ in range(ACTIVE_MONTHS + 1):
        month_key = f"{ACTIVE_MONTH_PREFIX}{year:04d}-{month:02d}"
        found.append(Partition(FEED_INDEX, FEED, month_key, FEED_AT, "N", shards="active"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def latest_first(instant: str) -> tuple[int, ...]:
    """A sort key that puts later ISO 8601 instants first (for a found few sorted in memory)."""
    return tuple(-ord(char) for char in instant)


def with_keep(part: Partition, keep: Callable[[LeadRow], bool]) -> Partition:
    return replace(part, keep=keep)
