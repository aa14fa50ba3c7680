"""The backtest chart: conversion rate by tier (does it rise?) and the cumulative-gains curve (how
many conversions the top X% of scores captures), per model; after a fit, the small-data curve
(held-out AUC by the number of leads the fit saw). matplotlib, offline only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chalicelib.backtest.run import BacktestReport


def draw(reports: Sequence[BacktestReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    curve = next((report.curve for report in reports if report.curve), [])
    figure, panels = plt.subplots(1, 3 if curve else 2, figsize=(18 if curve else 12, 4.5))
    by_tier, gains = panels[0], panels[1]
    width = 0.8 / len(reports)
    names = [row.group for row in reports[0].tiers if any(_leads(report, row.group) for report in reports)]
    for number, report in enumerate(reports):
        rows = {row.group: row for row in report.tiers}
        positions = [index + number * width for index in range(len(names))]
        rates = [(rows[name].conversion_rate or 0) * 100 if name in rows else 0 for name in names]
        bars = by_tier.bar(positions, rates, width, label=report.model)
        for bar, name in zip(bars, names, strict=True):
            label = str(_leads(report, name))
            by_tier.annotate(
                label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=7
            )
        shares, captured = zip(*_gains(report), strict=True)
        gains.plot(shares, captured, label=f"{report.model} (AUC {report.auc:.3f})" if report.auc else report.model)
    by_tier.set_xticks([index + width * (len(reports) - 1) / 2 for index in range(len(names))], names)
    by_tier.set_ylabel("converted (%)")
    by_tier.set_title("Conversion by tier (bar labels: leads)")
    by_tier.legend(fontsize=7)
    gains.plot([0, 100], [0, 100], linestyle="--", color="grey", label="random")
    gains.set_xlabel("top % of leads by score")
    gains.set_ylabel("% of conversions captured")
    gains.set_title("Cumulative gains (lift)")
    gains.legend(fontsize=7)
    if curve:
        small = panels[2]
        sizes = [point.leads for point in curve]
        for label, values in (
            ("fitted rules", [point.fitted for point in curve]),
            ("logistic regression", [point.linear for point in curve]),
            ("rules given", [point.given for point in curve]),
        ):
            small.plot(sizes, [value or 0 for value in values], marker="o", label=label)
        small.set_xscale("log")
        small.set_xlabel("leads the fit saw")
        small.set_ylabel("held-out AUC")
        small.set_title("Small data: AUC by leads used")
        small.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _leads(report: BacktestReport, tier: str) -> int:
    return next((row.leads for row in report.tiers if row.group == tier), 0)


def _gains(report: BacktestReport) -> list[tuple[float, float]]:
    """Points of the gains curve from the calibration deciles, highest scores first."""
    total = sum(bin_.leads * bin_.conversion_rate for bin_ in report.calibration) or 1.0
    points, leads, won = [(0.0, 0.0)], 0, 0.0
    for bin_ in reversed(report.calibration):
        leads += bin_.leads
        won += bin_.leads * bin_.conversion_rate
        points.append((100 * leads / report.leads, 100 * won / total))
    return points
