"""Tier from the total score (with optional hysteresis on the way down) and grade from fit."""

from __future__ import annotations

from collections.abc import Sequence


def tier_for(score: int, bands: Sequence[tuple[int, str]], hysteresis: int = 0, previous: str | None = None) -> str:
    """`bands` ascending by minimum. A lead that was in a higher tier keeps it until it falls `hysteresis` below."""
    rank = 0
    for position, (minimum, _) in enumerate(bands):
        if score >= minimum:
            rank = position
    names = [name for _, name in bands]
    if hysteresis and previous in names:
        previous_rank = names.index(previous)
        for position in range(previous_rank, rank, -1):
            if score >= bands[position][0] - hysteresis:
                return names[position]
    return names[rank]


def grade_for(fit: int, bands: Sequence[tuple[int | None, str]]) -> str:
    """`bands` descending by min_fit; the last band (min_fit None) is everything below."""
    for minimum, grade in bands:
        if minimum is None or fit >= minimum:
            return grade
    return bands[-1][1]


def is_mql(tier: str, bands: Sequence[tuple[int, str]], mql_from: str) -> bool:
    names = [name for _, name in bands]
    return tier in names and names.index(tier) >= names.index(mql_from)
