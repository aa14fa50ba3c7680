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
from chalicelib.backtest.run import BacktestReport, CurvePoint, evaluate, format_report, score_leads
from chalicelib.domain import RulesError
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file


def register(commands: Any) -> None:
    backtest = commands.add_parser("backtest", help="score a CRM export with outcomes and measure the model")
    backtest.add_argument("file", help="CSV export, one lead per row")
    backtest.add_argument("--mapping", required=True, help="column mapping YAML (see chalicelib/backtest/mappings/)")
    backtest.add_argument("--rules", help="rules file to test (default: the bundled rules)")
    backtest.add_argument("--chart", help="write a conversion-by-tier and lift chart (PNG)")
    backtest.add_argument("--fit", help="fit point values on a training split and write them as a rules file")
    backtest.add_argument("--holdout", type=float, default=0.3, help="share of leads the fit never sees (0.3)")
    backtest.add_argument("--seed", type=int, default=7, help="random seed of the split (7)")
    backtest.add_argument(
        "--prior",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --fit: adjust the rules given instead of replacing them (default; --no-prior replaces)",
    )
    backtest.add_argument(
        "--repeat", type=int, default=1, help="with --fit: fit and compare on this many splits (seeds from --seed)"
    )
    backtest.add_argument(
        "--export-only-columns",
        action="store_true",
        help="with --fit: also fit on columns live traffic cannot send (a measurement: such rules score nothing live)",
    )
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
        reports = compare_on_splits(leads, mapping, rules, rules_path, as_of, args)
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


def compare_on_splits(
    leads: list[ExportedLead], mapping: Any, rules: Any, rules_path: Path, as_of: datetime, args: argparse.Namespace
) -> list[BacktestReport]:
    """Fit on each split's training leads; measure the fitted rules, the rules given and the black
    boxes on its held-out leads; print them side by side. Returns the first split's reports."""
    import tempfile

    from chalicelib.backtest.black_box import GRADIENT_BOOSTING, LOGISTIC_REGRESSION, black_box_aucs

    reports: list[BacktestReport] = []
    rows: list[dict[str, float | None]] = []
    splits = max(1, args.repeat)
    step = steps(splits * 2 + 2, "fit")
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(splits):
            seed = args.seed + number
            train, test = split(leads, args.holdout, seed)
            if number == 0:
                print(f"split: {len(train)} to fit on, {len(test)} held out (seed {seed})")
            out = Path(args.fit) if number == 0 else Path(scratch) / f"fitted-{seed}.yaml"
            step(f"split {number + 1}/{splits}: fitting the rules")
            fitted_path, features = fit(train, mapping, rules_path, out, as_of, args, quiet=number > 0)
            fitted = load_rules_file(fitted_path)
            if number == 0 and not args.export_only_columns:
                step("split 1: what the export's own columns add")
                export_only_gain(train, test, mapping, rules_path, as_of, args, Path(scratch), fitted)
            given = evaluate(f"{rules.name} (held out)", test, rules, as_of, progress(len(test), "rules given"))
            mine = evaluate(f"fitted {fitted_path} (held out)", test, fitted, as_of, progress(len(test), "fitted"))
            if number == 0:
                reports += [given, mine]
            step(f"split {number + 1}/{splits}: the black boxes")
            boxes = black_box_aucs(train, test, list(mapping.profile), features)
            step(f"split {number + 1}/{splits}: the small-data curve" if number == 0 else "")
            if number == 0:
                curve = small_data_curve(train, test, mapping, rules_path, as_of, args, Path(scratch), given.auc)
            rows.append({"seed": seed, "fitted rules": mine.auc, LOGISTIC_REGRESSION: boxes[LOGISTIC_REGRESSION],
                         GRADIENT_BOOSTING: boxes[GRADIENT_BOOSTING], rules.name: given.auc})  # fmt: skip
    step("")
    print()
    print(format_comparison(rows))
    print()
    print(format_curve(curve))
    for report in reports:
        report.curve.extend(curve)
    return reports


CURVE_SIZES = (100, 300, 1000)


def export_only_gain(
    train: list[ExportedLead],
    test: list[ExportedLead],
    mapping: Any,
    rules_path: Path,
    as_of: datetime,
    args: argparse.Namespace,
    scratch: Path,
    fitted: Any,
) -> None:
    """Which columns the fitted rules leave out because live traffic never sends their events, and
    the held-out AUC a fit on them too would reach: what they add is measured, not deployed."""
    columns = export_only_columns(mapping, live_types(rules_path))
    if not columns:
        print("every mapped column is something live traffic sends: the fitted rules use them all")
        return
    every = argparse.Namespace(**{**vars(args), "export_only_columns": True})
    path, _ = fit(train, mapping, rules_path, scratch / "every-column.yaml", as_of, every, quiet=True)
    with_them = evaluate("every column", test, load_rules_file(path), as_of).auc
    without = evaluate("live columns", test, fitted, as_of).auc
    print("columns only the export has (no live event carries them), left out of the fitted rules:")
    for column, kinds in columns.items():
        print(f"  {column}: {', '.join(kinds)}")
    print(f"held-out AUC with them {_auc(with_them, 0).strip()}, without them (the fitted rules) "
          f"{_auc(without, 0).strip()}")  # fmt: skip


def live_types(rules_path: Path) -> set[str]:
    """The event types live traffic can send under the base rules (and the sources themselves)."""
    from chalicelib.domain.rules_warnings import reachable_types
    from chalicelib.rules import rules_loader
    from chalicelib.rules.vocabulary import EMITTED_TYPES

    return reachable_types(rules_loader(rules_path)(), EMITTED_TYPES)  # parsed once for every fit of a run


def export_only_columns(mapping: Any, live: set[str]) -> dict[str, list[str]]:
    """Column -> the event types it makes that live traffic never sends."""
    found: dict[str, dict[str, None]] = {}  # ordered sets: a column may be mapped twice
    for spec in mapping.events:
        kinds = [spec.type] if spec.type else sorted(set((spec.types or {}).values()))
        for kind in kinds:
            if kind not in live:
                found.setdefault(spec.column, {})[kind] = None
    return {column: list(kinds) for column, kinds in found.items()}


def small_data_curve(
    train: list[ExportedLead],
    test: list[ExportedLead],
    mapping: Any,
    rules_path: Path,
    as_of: datetime,
    args: argparse.Namespace,
    scratch: Path,
    given_auc: float | None,
) -> list[CurvePoint]:
    """Held-out AUC with the fit made on fewer leads (a stratified sample of the training leads),
    as a team with only its last few hundred closed deals would: the fitted rules, a plain
    logistic regression on the same sample, the rules given (which need no data)."""
    from chalicelib.backtest.black_box import LOGISTIC_REGRESSION, black_box_aucs

    points = []
    for size in [size for size in CURVE_SIZES if size < len(train)] + [len(train)]:
        sample = stratified_sample(train, size, args.seed)
        path, features = fit(sample, mapping, rules_path, scratch / f"curve-{size}.yaml", as_of, args, quiet=True)
        fitted = evaluate("fitted", test, load_rules_file(path), as_of)
        linear = black_box_aucs(sample, test, list(mapping.profile), features, boosted=False)[LOGISTIC_REGRESSION]
        points.append(CurvePoint(size, sum(lead.won for lead in sample), fitted.auc, linear, given_auc))
    return points


def stratified_sample(leads: list[ExportedLead], size: int, seed: int) -> list[ExportedLead]:
    if size >= len(leads):
        return list(leads)
    rng = random.Random(seed)
    won = [lead for lead in leads if lead.won]
    lost = [lead for lead in leads if not lead.won]
    take = round(size * len(won) / len(leads))
    return rng.sample(won, take) + rng.sample(lost, size - take)


def format_curve(points: list[CurvePoint]) -> str:
    lines = ["held-out AUC by the number of leads the fit saw (fewer leads: a stratified sample)",
             f"{'leads':>6}{'won':>6}{'fitted rules':>14}{'logistic regr.':>16}{'rules given':>13}"]  # fmt: skip
    for point in points:
        lines.append(f"{point.leads:>6}{point.won:>6}{_auc(point.fitted, 14)}{_auc(point.linear, 16)}"
                     f"{_auc(point.given, 13)}")  # fmt: skip
    return "\n".join(lines)


def format_comparison(rows: list[dict[str, float | None]]) -> str:
    """Held-out AUC per split and model, and the mean over the splits."""
    models = [name for name in rows[0] if name != "seed"]
    width = max(len(name) for name in models) + 2
    lines = ["held-out AUC, same split and mapped columns for every model", f"{'seed':<6}" + "".join(
        f"{name:>{width}}" for name in models)]  # fmt: skip
    for row in rows:
        lines.append(f"{row['seed']!s:<6}" + "".join(_auc(row[name], width) for name in models))
    if len(rows) > 1:
        means = {name: _mean([row[name] for row in rows]) for name in models}
        lines.append(f"{'mean':<6}" + "".join(_auc(means[name], width) for name in models))
    return "\n".join(lines)


def _auc(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.4f}':>{width}}"


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


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
    train: list[ExportedLead],
    mapping: Any,
    base: Path,
    out: Path,
    as_of: datetime,
    args: argparse.Namespace,
    quiet: bool = False,
) -> tuple[Path, list[Any]]:
    from chalicelib.backtest.regression import (
        calibrate,
        candidate_features,
        fit_points,
        fitted_rules_document,
        render_rules,
        set_thresholds,
    )

    features = candidate_features(train, mapping, live_types(base))
    if not args.export_only_columns:
        features = [feature for feature in features if feature.live]  # rules live traffic can feed
    prior = None
    if args.prior:
        base_rules = load_rules_file(base)
        prior = [lead.score for lead in score_leads(train, base_rules, as_of)]
    adjusted = fit_points(features, train, prior)
    document = fitted_rules_document(features, base, f"fitted-{mapping.name}".lower().replace(" ", "-"), adjusted)
    if adjusted:
        how = f"# It adjusts {base.name}: its rules are kept and the fitted_* rules added; their points are\n# "
    else:
        how = "# Points are "
    header = (
        f"# Fitted by `backtest {args.file} --mapping {args.mapping} --fit {out}` on {len(train)} leads"
        f" ({as_of:%Y-%m-%d}).\n{how}logistic-regression weights in the rules' own points (regularisation chosen\n"
        "# by cross-validation); edit them like any rules file.\n"
    )
    # Tier thresholds come from the fitted points' own scores: score with the document first.
    document = set_thresholds(document, parse_rules(render_rules(document), str(out)), train, as_of)
    document = calibrate(document, parse_rules(render_rules(document), str(out)), train, as_of)
    out.write_text(header + render_rules(document))
    load_rules_file(out)  # what we wrote must load, or the fit is useless
    rules_count = len(document["fit"]) + len(document["engagement"]["rules"])
    if not quiet:
        print(f"fitted {len(features)} candidate features into {rules_count} rules: {out}")
    return out, features


def steps(total: int, label: str) -> Callable[[str], None]:
    """A bar over a long run's steps on a terminal (tqdm), naming the step in progress; silent
    elsewhere. Each call finishes the step before and starts the one named (empty: none)."""
    if not sys.stderr.isatty():
        return lambda name: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="step", leave=False, file=sys.stderr, mininterval=0)
    started = [False]

    def advance(name: str) -> None:
        if started[0]:
            bar.update(1)
        started[0] = bool(name)
        if name:
            bar.set_postfix_str(name)
        if bar.n >= total:
            bar.close()

    return advance


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
