"""How far a lead's score moved since yesterday and over the week, from the score each day
started at (the previous day's close): a lead's score changes only when it is saved, so the score
before a day's first save is where the day started, and a day without a save moved nothing.

Days are UTC days. A lead new today started its day at 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WEEK_DAYS = 7
KEPT_DAYS = 14  # day starts older than the week are let go of within this many days


@dataclass(frozen=True)
class Change:
    since_yesterday: int  # the score now minus its close yesterday
    this_week: int  # the score now minus its close seven days ago


def change(score: int, starts: Mapping[date, int], today: date) -> Change:
    """`starts`: the score each day with a save started at. The week's first day with a save
    started where the day seven days ago closed (nothing moved between)."""
    week = [day for day in starts if today - timedelta(days=WEEK_DAYS - 1) <= day <= today]
    return Change(score - starts.get(today, score), score - starts[min(week)] if week else 0)


def week_days(today: date) -> list[date]:
    """The days whose starts `change` reads, oldest first."""
    return [today - timedelta(days=offset) for offset in range(WEEK_DAYS - 1, -1, -1)]


def let_go_days(today: date) -> list[date]:
    """Days before the week whose starts a save removes."""
    return [today - timedelta(days=offset) for offset in range(WEEK_DAYS, KEPT_DAYS)]
