"""How well scores predict outcomes: AUC, conversion by group, lift and calibration. Pure; shared by
the backtest (past leads from a CSV export) and `GET /reports/tiers` (this deployment's leads)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def auc(scores: Sequence[float], won: Sequence[bool]) -> float | None:
    """Probability that a random won lead outscores a random lost one (ties count half), by the
    rank-sum (Mann-Whitney) formula in O(n log n). None when either class is empty."""
    if len(scores) != len(won):
        raise ValueError("scores and outcomes differ in length")
    positives = sum(1 for outcome in won if outcome)
    negatives = len(won) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1  # tied scores share the mean of their ranks
        rank_sum += average_rank * sum(1 for index in order[start : end + 1] if won[index])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def cumulative_gains(scores: Sequence[float], won: Sequence[bool], steps: int = 10) -> list[dict[str, float]]:
    """The cumulative-gains curve: working the leads from the highest score down, the share of all
    conversions found (%) after each tenth of the leads (%). Empty when nothing converted."""
    if len(scores) != len(won):
        raise ValueError("scores and outcomes differ in length")
    total = sum(1 for outcome in won if outcome)
    if not scores or not total:
        return []
    ranked = [outcome for _, outcome in sorted(zip(scores, won, strict=True), key=lambda pair: -pair[0])]
    points = [{"leads_pct": 0.0, "conversions_pct": 0.0}]
    for step in range(1, steps + 1):
        taken = round(len(ranked) * step / steps)
        found = sum(1 for outcome in ranked[:taken] if outcome)
        points.append(
            {"leads_pct": round(100 * taken / len(ranked), 1), "conversions_pct": round(100 * found / total, 1)}
        )
    return points


@dataclass(frozen=True)
class GroupRate:
    group: str
    leads: int
    conversions: int
    resolved: int
    median_days_to_convert: float | None

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.leads if self.leads else None

    @property
    def win_rate(self) -> float | None:
        """Won among the leads whose outcome is known (won or lost)."""
        return self.conversions / self.resolved if self.resolved else None

    def as_dict(self) -> dict[str, object]:
        return {
            "leads": self.leads,
            "conversions": self.conversions,
            "resolved": self.resolved,
            "conversion_rate": _rounded(self.conversion_rate),
            "win_rate": _rounded(self.win_rate),
            "median_days_to_convert": _rounded(self.median_days_to_convert, 1),
        }


def rates_by(
    items: Iterable[T],
    group: Callable[[T], str],
    won: Callable[[T], bool],
    resolved: Callable[[T], bool],
    days_to_convert: Callable[[T], float | None] = lambda _: None,
    order: Sequence[str] = (),
) -> list[GroupRate]:
    """Leads, conversions and conversion rate per group, in `order` first (every named group is
    listed, empty or not), then any other groups by name."""
    buckets: dict[str, list[T]] = {name: [] for name in order}
    for item in items:
        buckets.setdefault(group(item), []).append(item)
    names = list(order) + sorted(name for name in buckets if name not in order)
    rows = []
    for name in names:
        members = buckets[name]
        days = [d for d in (days_to_convert(m) for m in members if won(m)) if d is not None]
        rows.append(
            GroupRate(
                group=name,
                leads=len(members),
                conversions=sum(1 for m in members if won(m)),
                resolved=sum(1 for m in members if resolved(m)),
                median_days_to_convert=median(days) if days else None,
            )
        )
    return rows


def lift_top(scores: Sequence[float], won: Sequence[bool], fraction: float = 0.1) -> float | None:
    """Conversion rate of the top `fraction` by score over the overall rate (ties broken by order)."""
    if not scores:
        return None
    overall = sum(won) / len(won)
    if overall == 0:
        return None
    count = max(1, round(len(scores) * fraction))
    top = sorted(range(len(scores)), key=lambda index: -scores[index])[:count]
    return (sum(1 for index in top if won[index]) / count) / overall


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    leads: int
    conversion_rate: float


def calibration(scores: Sequence[float], won: Sequence[bool], bins: int = 10) -> list[CalibrationBin]:
    """Observed conversion per score decile (equal-count bins, highest last): a useful score rises
    steadily from bin to bin."""
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    result = []
    for number in range(bins):
        members = order[number * len(order) // bins : (number + 1) * len(order) // bins]
        if not members:
            continue
        values = [scores[index] for index in members]
        rate = sum(1 for index in members if won[index]) / len(members)
        result.append(CalibrationBin(min(values), max(values), len(members), rate))
    return result


@dataclass(frozen=True)
class ReliabilityBin:
    """Leads whose predicted likelihood fell in [low, high): what was predicted, what happened."""

    low: float
    high: float
    leads: int
    predicted: float
    observed: float


def reliability(likelihoods: Sequence[float], won: Sequence[bool], bins: int = 10) -> list[ReliabilityBin]:
    """The reliability table: likelihood bands of equal width; a calibrated model has predicted
    close to observed in every band."""
    found = []
    for number in range(bins):
        low, high = number / bins, (number + 1) / bins
        inside = [(p, w) for p, w in zip(likelihoods, won, strict=True) if low <= p < high or (high == 1 and p == 1)]
        if inside:
            predicted = sum(p for p, _ in inside) / len(inside)
            observed = sum(1 for _, w in inside if w) / len(inside)
            found.append(ReliabilityBin(low, high, len(inside), predicted, observed))
    return found


def brier(likelihoods: Sequence[float], won: Sequence[bool]) -> float | None:
    """Mean squared error of the likelihoods against the outcomes (0 is perfect, 0.25 a coin)."""
    if not likelihoods:
        return None
    return sum((p - (1.0 if w else 0.0)) ** 2 for p, w in zip(likelihoods, won, strict=True)) / len(likelihoods)


def quantile_threshold(values: Sequence[float], top_fraction: float) -> float:
    """The smallest value among the top `top_fraction` of `values`."""
    ordered = sorted(values, reverse=True)
    count = max(1, min(len(ordered), round(len(ordered) * top_fraction)))
    return ordered[count - 1]


def is_rising(rates: Sequence[float | None]) -> bool:
    known = [rate for rate in rates if rate is not None]
    return all(earlier < later for earlier, later in pairwise(known))


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
