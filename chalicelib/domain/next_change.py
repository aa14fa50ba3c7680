"""When will the visible score next change if nothing new happens?

Without new events the total only falls (decay shares never rise, negative behaviour never decays,
caps clip monotonically), and tier and grade follow the integer score. So the visible card changes
exactly when the total first drops below `score - 0.5`: a threshold crossing on a monotone function.

- Step schedules only: sweep the future step instants in time order, applying each rule's exact
  integer delta, and stop at the first crossing. O(k log k) in the number of future steps.
- Any half-life rule: binary search on integer microseconds over the full evaluation, bounded by
  the instant after which every value is constant. Exact to the microsecond.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Sequence

from .decay import HalfLifeDecay, StepDecay
from .rule_tally import MICRO, RuleTally


def total_at(tallies: Sequence[RuleTally], fit_micro: int, now_us: int) -> int:
    return fit_micro + sum(t.spec.clip(t.total_at(now_us)) for t in tallies)


def next_change_us(
    tallies: Sequence[RuleTally], sums_now: Sequence[int], fit_micro: int, now_us: int, score: int
) -> int | None:
    """`sums_now` are each tally's unclipped total at `now_us`, as the caller already computed them."""
    if score <= 0:
        return None  # the score is floored at 0 and can only fall: it can never change again
    threshold = score * MICRO - MICRO // 2
    if any(isinstance(t.spec.decay, HalfLifeDecay) and t.bases for t in tallies):
        return _search(tallies, fit_micro, now_us, threshold)
    return _sweep(tallies, sums_now, fit_micro, now_us, threshold)


def _sweep(
    tallies: Sequence[RuleTally], sums_now: Sequence[int], fit_micro: int, now_us: int, threshold: int
) -> int | None:
    """Merge every rule's future step changes lazily in time order; stop at the first crossing.

    A rule's anchors are ascending, so the earnings still to cross one boundary are a suffix
    (found by bisect) and their crossing instants are already sorted: one stream per boundary.
    """
    sums = list(sums_now)
    clipped = [t.spec.clip(total) for t, total in zip(tallies, sums)]
    total = fit_micro + sum(clipped)
    streams = []
    for position, tally in enumerate(tallies):
        decay = tally.spec.decay
        if not tally.bases or not isinstance(decay, StepDecay):
            continue
        anchors = tally.anchors
        for until, before, after in decay.transitions:
            start = bisect_right(anchors, now_us - until)
            if start < len(anchors):
                streams.append(_crossings(anchors, start, until, position, before, after))
    current: int | None = None
    for instant, position, index, before, after in heapq.merge(*streams):
        if instant != current:
            if current is not None and total < threshold:
                return current
            current = instant
        tally = tallies[position]
        base = tally.bases[index]
        # The same expression as RuleTally.total_at, so the sweep and a rescore agree exactly.
        delta = (int(base * after * MICRO + 0.5) - int(base * before * MICRO + 0.5)) * tally.weights[index]
        if delta:
            total -= clipped[position]
            sums[position] += delta
            clipped[position] = tally.spec.clip(sums[position])
            total += clipped[position]
    if current is not None and total < threshold:
        return current
    return None


def _crossings(
    anchors: list[int], start: int, until: int, position: int, before: float, after: float
) -> Iterator[tuple[int, int, int, float, float]]:
    for index in range(start, len(anchors)):
        yield anchors[index] + until, position, index, before, after


def _search(tallies: Sequence[RuleTally], fit_micro: int, now_us: int, threshold: int) -> int | None:
    settled = now_us + 1
    for tally in tallies:
        decay = tally.spec.decay
        for base, anchor in zip(tally.bases, tally.anchors):
            if isinstance(decay, HalfLifeDecay):
                # Past this age the value rounds to 0 micro-points: nothing changes any more.
                end = anchor + int(decay.age_worth_less_than(abs(base), 0.5 / MICRO)) + 1
            elif isinstance(decay, StepDecay):
                end = anchor + decay.steps[-1][0]
            else:
                continue
            settled = max(settled, end)
    if total_at(tallies, fit_micro, settled) >= threshold:
        return None
    low, high = now_us, settled  # total(low) >= threshold > total(high)
    while high - low > 1:
        middle = (low + high) // 2
        if total_at(tallies, fit_micro, middle) < threshold:
            high = middle
        else:
            low = middle
    return high
