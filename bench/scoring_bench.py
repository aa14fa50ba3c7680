"""Microseconds to score one lead, against the naive baseline (every rule against every event)."""

from __future__ import annotations

import timeit

from bench.naive import naive_score
from bench.workload import NOW, PROFILE, lead_history
from chalicelib.domain import score
from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file

SIZES = (10, 100, 1_000)


def _best_us(call, budget_s: float = 1.0) -> float:
    """Best of several repeats, each looping enough calls to be measurable: the least noisy figure."""
    timer = timeit.Timer(call)
    loops, elapsed = timer.autorange()
    repeats = max(3, min(15, int(budget_s / max(elapsed, 1e-9))))
    return min(timer.repeat(repeat=repeats, number=loops)) / loops * 1e6


def run() -> None:
    rules = load_rules_file(DEFAULT_RULES_PATH)
    rules.compiled()  # compiled once per container in production; not part of scoring a lead
    print("scoring one lead (default rules, realistic event mix over 180 days)")
    print(f"{'events':>8} {'engine µs':>12} {'naive µs':>12} {'naive/engine':>13}")
    fast: dict[int, float] = {}
    for size in SIZES:
        events = lead_history(size)
        assert score(PROFILE, events, rules, NOW).score == naive_score(PROFILE, events, rules, NOW)["score"]
        fast[size] = _best_us(lambda events=events: score(PROFILE, events, rules, NOW))
        naive = _best_us(lambda events=events: naive_score(PROFILE, events, rules, NOW), budget_s=0.5)
        print(f"{size:>8} {fast[size]:>12.1f} {naive:>12.1f} {naive / fast[size]:>12.1f}x")
    growth = fast[1_000] / fast[100]
    print(f"1,000 events: {fast[1_000] / 1000:.2f} ms (target < 2 ms); "
          f"1,000/100 time ratio {growth:.1f} (target <= 12, linear = 10)")  # fmt: skip
