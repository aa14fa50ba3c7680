"""`make bench`: figures for the performance claims in the issues. Prints, never asserts."""

from __future__ import annotations

import os

from bench import (
    accounts_bench,
    backtest_bench,
    capacity_bench,
    cold_start,
    console_bench,
    heavy_lead_bench,
    hostile_rules_bench,
    import_bench,
    ingest_bench,
    make_run_bench,
    named_scores_bench,
    scoring_bench,
    shadow_bench,
    webhook_bench,
    writeback_bench,
)


def main() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # their EMF lines would bury the figures
    capacity_bench.run()
    scoring_bench.run()
    backtest_bench.run()
    ingest_bench.run()
    heavy_lead_bench.run()
    shadow_bench.run()
    accounts_bench.run()
    named_scores_bench.run()
    console_bench.run()
    hostile_rules_bench.run()
    writeback_bench.run()
    import_bench.run()
    webhook_bench.run()
    make_run_bench.run()
    cold_start.run()  # last: its hundred-odd interpreters and packaging disturb timings that follow


if __name__ == "__main__":
    main()
