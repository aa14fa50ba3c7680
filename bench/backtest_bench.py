"""Backtest speed: scoring the X Education export (~6,400 rows) with the seed model (target < 2 s),
and a whole `backtest --fit` run on it: the fit, the black boxes and the small-data curve (target
< 60 s on two cores)."""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.backtest.mapping import load_mapping, to_leads
from chalicelib.backtest.run import evaluate
from chalicelib.rules import active_rules

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT.parent / "shared" / "data" / "x-education" / "leads_train.csv"
MAPPING = ROOT / "chalicelib" / "backtest" / "mappings" / "x-education.yaml"


def run() -> None:
    if not EXPORT.exists():
        print(f"backtest: {EXPORT} not found, skipped")
        return
    with EXPORT.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    leads = list(to_leads(rows, load_mapping(MAPPING), as_of))
    mapped = time.perf_counter() - started
    report = evaluate("seed", leads, active_rules(), as_of)
    print(f"backtest of {len(leads):,} X Education rows: mapped in {mapped:.2f} s, scored in {report.seconds:.2f} s")
    print(f"  (target: scoring < 2 s); seed model AUC {report.auc:.3f} on all rows")

    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()) as printed:
        from chalicelib.cli import main

        started = time.perf_counter()
        main(["backtest", str(EXPORT), "--mapping", str(MAPPING), "--fit", f"{scratch}/fitted.yaml"])
        seconds = time.perf_counter() - started
    table = printed.getvalue()
    row = next(line for line in table.splitlines() if line.startswith("7 "))
    print(f"backtest --fit, black boxes and small-data curve: {seconds:.1f} s (target < 60 s)")
    print(f"  held-out AUC (seed 7) fitted rules / logistic regression / gradient boosting / seed: {row.split()[1:]}")
