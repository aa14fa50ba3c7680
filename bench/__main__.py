"""`make bench`: figures for the performance claims in the issues. Prints, never asserts."""

from __future__ import annotations

from bench import backtest_bench, cold_start, ingest_bench, scoring_bench, writeback_bench


def main() -> None:
    cold_start.run()
    scoring_bench.run()
    backtest_bench.run()
    ingest_bench.run()
    writeback_bench.run()


if __name__ == "__main__":
    main()
