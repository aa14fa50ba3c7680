"""Scoring in two steps: `score_basis(profile, events, rules)`, the part that does not depend on
the time (what rescoring stores with the lead), then `card_from_basis(basis, rules, now)`, the card
at a moment (what decay recomputes from the stored basis alone). `score` is both at once, for
callers with the events at hand (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .basis import ScoreBasis, StaleBasis
from .cancellations import standing
from .compiled_rules import compile_rules
from .engagement import Folder, canonical_order, fold_ordered
from .events import LeadEvent, as_utc, from_us, to_us
from .fit import evaluate_fit
from .next_change import next_change_us
from .profile import Profile
from .rule_tally import MICRO, RuleTally, ignored_alive
from .rules import Rules
from .scorecard import Contribution, NotScored, ScoreCard
from .tiers import grade_for, is_mql, tier_for
from .traffic_filters import LABELS


def score(
    profile: Profile,
    events: Iterable[LeadEvent],
    rules: Rules,
    now: datetime,
    previous_tier: str | None = None,
) -> ScoreCard:
    """Pure and deterministic: same inputs, same card, whatever the order of `events`.

    `previous_tier` is the tier the lead showed before, used only for hysteresis.
    """
    return card_from_basis(score_basis(profile, events, rules), rules, now, previous_tier)


def score_basis(profile: Profile, events: Iterable[LeadEvent], rules: Rules) -> ScoreBasis:
    """Everything about a score that does not depend on `now` (see basis.py), from behaviour
    events and a profile (`folding.full_basis` builds the profile from the events too)."""
    compiled = compile_rules(rules)
    folder = Folder(compiled)
    fold_ordered(folder, canonical_order(standing(events)))
    return ScoreBasis.folded(folder, evaluate_fit(profile, compiled), folder.result())


def card_from_basis(basis: ScoreBasis, rules: Rules, now: datetime, previous_tier: str | None = None) -> ScoreCard:
    """The card at `now`: decay, caps, rounding, tier, grade and when it next changes."""
    compiled = compile_rules(rules)
    if basis.fingerprint != compiled.fingerprint:
        raise StaleBasis("the basis was built with other rules")
    now = as_utc(now)
    now_us = to_us(now)
    fit, tallies = basis.fit, basis.tallies
    fit_micro = fit.points * MICRO

    engagement_micro = 0
    contributions = list(fit.contributions)
    sums_now = [tally.total_at(now_us) for tally in tallies]
    counted = 0
    for tally, raw in zip(tallies, sums_now):
        clipped = tally.spec.clip(raw)
        engagement_micro += clipped
        count, full = tally.seen_at(now_us)
        if count:  # a rule whose events are all worth nothing any more is no longer a reason
            contributions.append(_explain(tally, raw, clipped, count, full, now_us))
            counted += count
    ignored = _not_scored(basis, now_us)
    bot_like = _bot_like(sum(item.count for item in ignored), counted, rules)

    total_micro = fit_micro + engagement_micro
    visible_score = max(0, (total_micro + MICRO // 2) // MICRO)
    tiers = rules.tiers
    if fit.disqualified_by is not None:
        tier = tiers.disqualified
    else:
        tier = tier_for(visible_score, compiled.tier_bands, tiers.hysteresis, previous_tier)
    change_us = next_change_us(tallies, sums_now, fit_micro, now_us, visible_score)
    # model_construct: every field is built here from typed values; validation would only cost time.
    return ScoreCard.model_construct(
        score=visible_score,
        fit=fit.points,
        engagement=round(engagement_micro / MICRO, 2),
        total=round(total_micro / MICRO, 2),
        tier=tier,
        grade=grade_for(fit.points, compiled.grade_bands),
        mql=is_mql(tier, compiled.tier_bands, tiers.mql_from),
        disqualified_by=fit.disqualified_by,
        contributions=sorted(contributions, key=lambda c: (c.kind != "fit", -abs(c.points_now), c.rule)),
        next_change_at=from_us(change_us) if change_us is not None else None,
        scored_at=now,
        rules_fingerprint=compiled.fingerprint,
        ignored=ignored,
        bot_like=bot_like,
        likelihood=round(rules.calibration.likelihood(visible_score), 4) if rules.calibration else None,
        persona=fit.persona,
    )


def _not_scored(basis: ScoreBasis, now_us: int) -> list[NotScored]:
    found = []
    for reason, weeks in basis.ignored.items():
        count = sum(events for week, events in weeks.items() if ignored_alive(week, now_us))
        if count:
            found.append(NotScored.model_construct(reason=reason, label=LABELS.get(reason, reason), count=count))
    return sorted(found, key=lambda item: (-item.count, item.reason))


def _bot_like(ignored: int, counted: int, rules: Rules) -> bool:
    threshold = rules.filters.bot_like
    return ignored >= threshold.min_events and ignored >= threshold.share * (ignored + counted)


def _explain(tally: RuleTally, raw: int, clipped: int, count: int, full: int, now_us: int) -> Contribution:
    spec = tally.spec
    ids = tally.event_ids_at(now_us)
    found = tally.latest(now_us, ids)
    shown_full = spec.clip(full)
    return Contribution.engagement(
        spec.name,
        spec.description or spec.name,
        count,
        round(clipped / MICRO, 2),
        round(shown_full / MICRO, 2),
        clipped != raw or shown_full != full,
        ids,
        found[0] if found else None,
        from_us(found[1]) if found else None,
    )
