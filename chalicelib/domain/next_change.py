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

from collections.abc import Sequence

from .decay import HalfLifeDecay
from .engagement import MICRO, RuleTally, micro


def total_at(tallies: Sequence[RuleTally], fit_micro: int, now_us: int) -> int:
    return fit_micro + sum(t.spec.clip(t.total_at(now_us)) for t in tallies)


def next_change_us(tallies: Sequence[RuleTally], fit_micro: int, now_us: int, score: int) -> int | None:
    if score <= 0:
        return None  # the score is floored at 0 and can only fall: it can never change again
    threshold = score * MICRO - MICRO // 2
    if any(isinstance(t.spec.decay, HalfLifeDecay) and t.bases for t in tallies):
        return _search(tallies, fit_micro, now_us, threshold)
    return _sweep(tallies, fit_micro, now_us, threshold)


def _sweep(tallies: Sequence[RuleTally], fit_micro: int, now_us: int, threshold: int) -> int | None:
    sums = [t.total_at(now_us) for t in tallies]
    clipped = [t.spec.clip(total) for t, total in zip(tallies, sums)]
    total = fit_micro + sum(clipped)
    changes: list[tuple[int, int, int]] = []
    for position, tally in enumerate(tallies):
        changes_after = tally.spec.decay.changes_after
        for base, anchor in zip(tally.bases, tally.anchors):
            age = now_us - anchor
            for until, before, after in changes_after(age if age > 0 else 0):
                delta = micro(base * after) - micro(base * before)
                if delta:
                    changes.append((anchor + until, position, delta))
    changes.sort()
    index, count = 0, len(changes)
    while index < count:
        instant = changes[index][0]
        while index < count and changes[index][0] == instant:
            _, position, delta = changes[index]
            spec = tallies[position].spec
            total -= clipped[position]
            sums[position] += delta
            clipped[position] = spec.clip(sums[position])
            total += clipped[position]
            index += 1
        if total < threshold:
            return instant
    return None


def _search(tallies: Sequence[RuleTally], fit_micro: int, now_us: int, threshold: int) -> int | None:
    settled = now_us + 1
    for tally in tallies:
        decay = tally.spec.decay
        for base, anchor in zip(tally.bases, tally.anchors):
            if isinstance(decay, HalfLifeDecay):
                # Past this age the value rounds to 0 micro-points: nothing changes any more.
                end = anchor + int(decay.age_worth_less_than(abs(base), 0.5 / MICRO)) + 1
            else:
                end = anchor + decay.steps[-1][0] if decay.steps else anchor
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
