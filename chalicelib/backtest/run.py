"""Score past leads with the engine and measure the result: conversion by tier and grade, AUC, lift
in the top decile and calibration, and the exceptions to review (won leads that scored low, lost
ones that scored high, with their reasons)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.backtest.mapping import ExportedLead
from chalicelib.domain.exceptions_report import describe as describe_exceptions
from chalicelib.domain.exceptions_report import exceptions
from chalicelib.domain.metrics import (
    CalibrationBin,
    GroupRate,
    ReliabilityBin,
    auc,
    brier,
    calibration,
    is_rising,
    lift_top,
    rates_by,
    reliability,
)
from chalicelib.domain.named_scoring import named_of_profile
from chalicelib.domain.rules import Rules
from chalicelib.domain.scoring import card_from_basis, score_basis

EXCEPTIONS_SHOWN = 5


@dataclass(frozen=True)
class ScoredLead:
    lead_id: str
    score: int
    fit: int
    engagement: float
    tier: str
    grade: str
    won: bool
    reasons: tuple[str, ...] = ()
    likelihood: float | None = None
    persona: str | None = None
    named: tuple[tuple[str, int], ...] = ()  # each named score


@dataclass(frozen=True)
class CurvePoint:
    """Held-out AUC with a fit made on `leads` training leads (`won` of them converted)."""

    leads: int
    won: int
    fitted: float | None
    linear: float | None
    given: float | None


@dataclass(frozen=True)
class NamedReport:
    """A named score over the scored leads: how many it gives points to, their mean, and how well
    it ranks the converted ones (AUC)."""

    name: str
    label: str
    scored: int
    mean: float
    auc: float | None


@dataclass(frozen=True)
class BacktestReport:
    model: str
    leads: int
    seconds: float
    auc: float | None
    lift_top_decile: float | None
    tiers: list[GroupRate]
    grades: list[GroupRate]
    calibration: list[CalibrationBin]
    curve: list[CurvePoint] = field(default_factory=list)  # a fit's small-data curve, for the chart
    exceptions: dict[str, Any] = field(default_factory=dict)  # won but scored low, lost but scored high
    personas: list[GroupRate] = field(default_factory=list)  # with personas in the rules: each one's leads
    brier: float | None = None  # with a calibration in the rules: its likelihoods' Brier score
    reliability: list[ReliabilityBin] = field(default_factory=list)
    named: list[NamedReport] = field(default_factory=list)  # each named score's AUC and spread

    @property
    def rising_by_tier(self) -> bool:
        return is_rising([row.conversion_rate for row in self.tiers if row.leads])


def score_leads(
    leads: Iterable[ExportedLead], rules: Rules, as_of: datetime, tick: Callable[[], None] = lambda: None
) -> list[ScoredLead]:
    scored = []
    for lead in leads:
        card = card_from_basis(score_basis(lead.profile, lead.events, rules), rules, as_of)
        named = tuple((item.name, item.score) for item in named_of_profile(lead.profile, lead.events, rules, as_of))
        scored.append(ScoredLead(lead.lead_id, card.score, card.fit, card.engagement, card.tier, card.grade, lead.won,
                                 tuple(card.reasons()), card.likelihood, card.persona, named))  # fmt: skip
        tick()
    return scored


def evaluate(
    model: str, leads: Sequence[ExportedLead], rules: Rules, as_of: datetime, tick: Callable[[], None] = lambda: None
) -> BacktestReport:
    started = time.perf_counter()
    scored = score_leads(leads, rules, as_of, tick)
    seconds = time.perf_counter() - started
    scores = [lead.score for lead in scored]
    won = [lead.won for lead in scored]
    likelihoods = [lead.likelihood or 0.0 for lead in scored]
    tier_order = [band.name for band in rules.tiers.bands] + [rules.tiers.disqualified]
    grade_order = [grade.grade for grade in rules.grades]
    return BacktestReport(
        model=model,
        leads=len(scored),
        seconds=seconds,
        auc=auc(scores, won),
        lift_top_decile=lift_top(scores, won, 0.1),
        tiers=rates_by(scored, lambda lead: lead.tier, lambda lead: lead.won, lambda _: True, order=tier_order),
        grades=rates_by(scored, lambda lead: lead.grade, lambda lead: lead.won, lambda _: True, order=grade_order),
        calibration=calibration(scores, won),
        exceptions=exceptions(map(_exception_row, scored), rules, limit=EXCEPTIONS_SHOWN),
        personas=_by_persona(scored, rules),
        brier=brier(likelihoods, won) if rules.calibration else None,
        reliability=reliability(likelihoods, won) if rules.calibration else [],
        named=_named(scored, rules),
    )


def _named(scored: list[ScoredLead], rules: Rules) -> list[NamedReport]:
    found = []
    won = [lead.won for lead in scored]
    for position, (name, spec) in enumerate(rules.scores.items()):
        values = [lead.named[position][1] for lead in scored]
        mean = sum(values) / len(values) if values else 0.0
        found.append(NamedReport(name, spec.label, sum(1 for value in values if value), mean, auc(values, won)))
    return found


def _by_persona(scored: list[ScoredLead], rules: Rules) -> list[GroupRate]:
    if not rules.personas:
        return []
    order = [persona.name for persona in rules.personas]
    return rates_by(scored, lambda lead: lead.persona or "", lambda lead: lead.won, lambda _: True, order=order)


def _exception_row(lead: ScoredLead) -> dict[str, Any]:
    state = "won" if lead.won else "lost"
    return {"lead_id": lead.lead_id, "score": lead.score, "tier": lead.tier, "state": state, "reasons": lead.reasons}


def format_report(report: BacktestReport) -> str:
    def pct(value: float | None) -> str:
        return "   -  " if value is None else f"{value * 100:5.1f}%"

    lines = [
        f"== {report.model}: {report.leads} leads scored in {report.seconds:.2f} s",
        f"AUC {report.auc:.3f}" if report.auc is not None else "AUC n/a (one outcome only)",
        f"lift in the top decile {report.lift_top_decile:.2f}x" if report.lift_top_decile else "lift n/a",
        "",
        f"{'tier':<14}{'leads':>7}{'share':>8}{'converted':>11}{'rate':>8}",
    ]
    for row in report.tiers:
        share = row.leads / report.leads if report.leads else None
        lines.append(f"{row.group:<14}{row.leads:>7}{pct(share):>8}{row.conversions:>11}{pct(row.conversion_rate):>8}")
    lines.append(f"conversion rises from tier to tier: {'yes' if report.rising_by_tier else 'NO'}")
    lines += ["", f"{'grade':<14}{'leads':>7}{'converted':>11}{'rate':>8}"]
    for row in report.grades:
        lines.append(f"{row.group:<14}{row.leads:>7}{row.conversions:>11}{pct(row.conversion_rate):>8}")
    lines += ["", "calibration (score deciles, lowest first)", f"{'scores':<14}{'leads':>7}{'rate':>8}"]
    for bin_ in report.calibration:
        lines.append(f"{f'{bin_.low:g}-{bin_.high:g}':<14}{bin_.leads:>7}{pct(bin_.conversion_rate):>8}")
    if report.personas:
        lines += ["", f"{'persona':<18}{'leads':>7}{'converted':>11}{'rate':>8}"]
        for row in report.personas:
            lines.append(f"{row.group:<18}{row.leads:>7}{row.conversions:>11}{pct(row.conversion_rate):>8}")
    if report.brier is not None:
        lines += ["", f"likelihood (the rules' calibration): Brier score {report.brier:.4f}",
                  f"{'likelihood':<14}{'leads':>7}{'predicted':>11}{'observed':>10}"]  # fmt: skip
        for band in report.reliability:
            lines.append(f"{f'{band.low:.1f}-{band.high:.1f}':<14}{band.leads:>7}{pct(band.predicted):>11}"
                         f"{pct(band.observed):>10}")  # fmt: skip
    if report.named:
        lines += ["", f"{'named score':<24}{'leads > 0':>10}{'mean':>8}{'AUC':>8}"]
        for named in report.named:
            shown = f"{named.auc:.3f}" if named.auc is not None else "n/a"
            lines.append(f"{named.label[:23]:<24}{named.scored:>10}{named.mean:>8.1f}{shown:>8}")
    if report.exceptions:
        lines += ["", "exceptions to review (the most surprising first)", *describe_exceptions(report.exceptions)]
    return "\n".join(lines)
