"""Hostile rules text at the rules parser (what `POST /rules/preview` and `rules validate` run
first): the red-team alias file (a 60 KB anchor, 10,000 aliases, 120 KB in all) and a file of the
same size written out, timed and measured for peak memory."""

from __future__ import annotations

import contextlib
import time
import tracemalloc

from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_yaml import parse_rules


def alias_file() -> str:
    anchor = "x: &big [" + ", ".join(f"w{n:05d}" for n in range(7_500)) + "]\n"
    return anchor + "lists:\n  l: [" + ", ".join(["*big"] * 10_000) + "]\n"


def _measure(text: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        parse_rules(text)
        outcome = "parsed"
    except RulesError as exc:
        outcome = exc.issues[0].message[:60]
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    with contextlib.suppress(RulesError):
        parse_rules(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, outcome


def _catastrophic_pattern() -> None:
    """`^(a+)+$` against attacker-sized titles: Python's re doubles its time with each character."""
    from chalicelib.domain.patterns import compile_pattern

    compiled = compile_pattern("^(a+)+$")
    for length in (27, 1_000):
        title = "a" * length + "!"
        started = time.perf_counter()
        compiled.search(title)
        print(f"  pattern ^(a+)+$ on a {length:>5}-character title   {(time.perf_counter() - started) * 1e6:8.0f} µs "
              "(RE2; Python's re: 2.6 s at 27 characters, doubling with each)")  # fmt: skip


def run() -> None:
    print("hostile rules text (targets: < 1 s, peak memory proportional to the text)")
    deep = "{a: " * 1_000 + "1" + "}" * 1_000
    for label, text in (("alias file, 120 KB", alias_file()), ("a deep file, 1,000 levels", deep)):
        elapsed, peak, outcome = _measure(text)
        print(f"  {label:<28} {elapsed * 1000:7.0f} ms  peak {peak / 1e6:6.1f} MB "
              f"({peak / len(text):.0f} x its size)  -> {outcome}")  # fmt: skip
    _catastrophic_pattern()


if __name__ == "__main__":
    run()
