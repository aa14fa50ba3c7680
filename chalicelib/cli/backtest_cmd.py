"""`backtest FILE.csv --mapping MAP.yaml [--rules R.yaml] [--chart OUT.png] [--fit OUT.yaml]`:
score a CRM export with outcomes, measure the model, and optionally fit point values from it."""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.backtest.mapping import ExportedLead, load_mapping, to_leads
from chalicelib.backtest.run import BacktestReport, evaluate, format_report
from chalicelib.domain import RulesError
from chalicelib.domain.rules_loader import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file


def register(commands: Any) -> None:
    backtest = commands.add_parser("backtest", help="score a CRM export with outcomes and measure the model")
    backtest.add_argument("file", help="CSV export, one lead per row")
    backtest.add_argument("--mapping", required=True, help="column mapping YAML (see chalicelib/backtest/mappings/)")
    backtest.add_argument("--rules", help="rules file to test (default: the bundled seed model)")
    backtest.add_argument("--chart", help="write a conversion-by-tier and lift chart (PNG)")
    backtest.add_argument("--fit", help="fit point values on a training split and write them as a rules file")
    backtest.add_argument("--holdout", type=float, default=0.3, help="share of leads the fit never sees (0.3)")
    backtest.add_argument("--seed", type=int, default=7, help="random seed of the split (7)")
    backtest.set_defaults(handler=backtest_command)


def backtest_command(args: argparse.Namespace) -> int:
    try:
        mapping = load_mapping(args.mapping)
        rules_path = Path(args.rules) if args.rules else DEFAULT_RULES_PATH
        rules = load_rules_file(rules_path)
        with open(args.file, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except RulesError as exc:
        print(f"{args.rules}: {'; '.join(str(issue) for issue in exc.issues)}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    missing = mapping.columns() - set(rows[0] if rows else {})
    if missing:
        print(f"backtest: the export has no column(s) {sorted(missing)}", file=sys.stderr)
        return 2
    as_of = datetime.now(UTC)
    leads = list(to_leads(rows, mapping, as_of))
    print(
        f"{len(leads)} leads from {args.file} through mapping {mapping.name!r}; {sum(lead.won for lead in leads)} won"
    )
    reports: list[BacktestReport] = []
    if args.fit:
        train, test = split(leads, args.holdout, args.seed)
        print(f"split: {len(train)} to fit on, {len(test)} held out (seed {args.seed})")
        fitted_path = fit(train, mapping, rules_path, Path(args.fit), as_of, args)
        reports.append(evaluate(f"{rules.name} (held out)", test, rules, as_of, progress(len(test), "seed model")))
        fitted = load_rules_file(fitted_path)
        reports.append(evaluate(f"fitted {fitted_path} (held out)", test, fitted, as_of, progress(len(test), "fitted")))
    else:
        reports.append(evaluate(rules.name, leads, rules, as_of, progress(len(leads), "scoring")))
    for report in reports:
        print()
        print(format_report(report))
    if args.chart:
        from chalicelib.backtest.chart import draw

        draw(reports, Path(args.chart))
        print(f"\nchart written to {args.chart}")
    return 0


def split(leads: Sequence[ExportedLead], holdout: float, seed: int) -> tuple[list[ExportedLead], list[ExportedLead]]:
    """Stratified: won and lost leads are held out in the same share."""
    rng = random.Random(seed)
    train: list[ExportedLead] = []
    test: list[ExportedLead] = []
    for outcome in (True, False):
        group = [lead for lead in leads if lead.won is outcome]
        rng.shuffle(group)
        cut = round(len(group) * holdout)
        test += group[:cut]
        train += group[cut:]
    return train, test


def fit(
    train: list[ExportedLead], mapping: Any, base: Path, out: Path, as_of: datetime, args: argparse.Namespace
) -> Path:
    from chalicelib.backtest.regression import (
        candidate_features,
        fit_points,
        fitted_rules_document,
        render_rules,
        set_thresholds,
    )

    features = candidate_features(train, mapping)
    accuracy = fit_points(features, train)
    document = fitted_rules_document(features, base, f"fitted-{mapping.name}".lower().replace(" ", "-"))
    header = (
        f"# Fitted by `backtest {args.file} --mapping {args.mapping} --fit {out}` on {len(train)} leads\n"
        f"# ({as_of:%Y-%m-%d}; training accuracy {accuracy:.3f}). Points are logistic-regression weights,\n"
        f"# 10 points per unit of log-odds; edit them like any rules file.\n"
    )
    # Tier thresholds come from the fitted points' own scores: score with the document first.
    document = set_thresholds(document, parse_rules(render_rules(document), str(out)), train, as_of)
    out.write_text(header + render_rules(document))
    load_rules_file(out)  # what we wrote must load, or the fit is useless
    rules_count = len(document["fit"]) + len(document["engagement"]["rules"])
    print(f"fitted {len(features)} candidate features into {rules_count} rules: {out}")
    return out


def progress(total: int, label: str) -> Callable[[], None]:
    """A progress bar on stderr (tqdm when installed, else a plain counter); silent for short runs."""
    if total < 2000 or not sys.stderr.isatty():
        return lambda: None
    try:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, unit="lead", leave=False)

        def advance() -> None:
            bar.update(1)
            if bar.n >= total:
                bar.close()

        return advance
    except ImportError:
        done = [0]

        def tick() -> None:
            done[0] += 1
            if done[0] % 500 == 0 or done[0] == total:
                print(f"\r{label}: {done[0]}/{total}", end="", file=sys.stderr, flush=True)

        return tick
