"""Fit point values from outcomes and write them as a rules file (the guides' advice: refine the
model from won and lost leads). Offline only: scikit-learn and numpy are dev dependencies, imported here
and never by the Lambda handlers.

Every candidate feature is something the rules format can say, so the fitted model stays a point
table a person can read: a fit rule per profile field (one option per common value, "not given"
and "any other value"), and engagement rules per event type, per common property value, or per
range of a numeric property. A logistic regression weighs them; each weight becomes points
(POINTS_PER_LOG_ODDS), mutually exclusive options are shifted so the lowest is 0, and tier
thresholds come from the training scores' distribution (the usual guidance: hot is about the
top 10-15%, warm the next 30-40%).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.backtest.mapping import ExportedLead, ExportMapping
from chalicelib.domain.conditions import normalise_label
from chalicelib.domain.metrics import quantile_threshold
from chalicelib.domain.rules import Rules
from chalicelib.domain.scoring import card_from_basis, score_basis

POINTS_PER_LOG_ODDS = 10
MIN_SUPPORT = 0.01  # a value seen in fewer than 1% of training leads gets no rule of its own
RANGE_BINS = 16
REGULARISATION = (0.03, 0.1, 0.3, 1.0, 3.0)  # inverse strengths tried by cross-validation
TIER_SHARES = {"super_hot": 0.03, "hot": 0.13, "warm": 0.48}  # cumulative share of leads at or above
GRADE_SHARES = {"A": 0.15, "B": 0.40, "C": 0.70}


@dataclass
class Feature:
    group: str  # features of one group are mutually exclusive (one fit rule's options)
    label: str
    test: Callable[[ExportedLead], bool]
    rule: dict[str, Any]  # the option (fit) or rule (engagement) this feature becomes
    kind: str  # "fit" or "engagement"
    points: int = 0
    live: bool = True  # live traffic can send it (a profile field, or an event type the rules reach)


def candidate_features(
    leads: Sequence[ExportedLead], mapping: ExportMapping, live: set[str] | None = None
) -> list[Feature]:
    """`live`: the event types live traffic can send (None: every type counts as live); a
    feature on another type is marked `live=False` (a column only the export has)."""
    minimum = max(1, math.ceil(len(leads) * MIN_SUPPORT))
    features: list[Feature] = []
    for field in mapping.profile:
        features += _profile_features(leads, field, minimum)
    repeated = {spec.type for spec in mapping.events if spec.repeat}
    by_type: dict[str, list[tuple[ExportedLead, dict[str, Any]]]] = {}
    for lead in leads:
        for event in lead.events:
            by_type.setdefault(event.type, []).append((lead, event.properties))
    for event_type, occurrences in sorted(by_type.items()):
        if event_type in repeated:
            continue
        found = _event_features(event_type, occurrences, minimum)
        for feature in found:
            feature.live = live is None or event_type in live
        features += found
    return features


def _profile_features(leads: Sequence[ExportedLead], field: str, minimum: int) -> list[Feature]:
    def value(lead: ExportedLead) -> str | None:
        raw = getattr(lead.profile, field)
        return normalise_label(raw) if raw not in (None, "") else None

    counts = Counter(value(lead) for lead in leads)
    common = sorted(label for label, count in counts.items() if label is not None and count >= minimum)

    def equals(label: str) -> Callable[[ExportedLead], bool]:
        return lambda lead: value(lead) == label

    # Labels a reason reads well in: "Job title: unemployed", "Country not given".
    named = field.replace("_", " ").capitalize()
    features = [
        Feature(field, label, equals(label), {"label": f"{named}: {label}", "equals": label}, "fit") for label in common
    ]
    absent = {"label": f"{named} not given", "present": False}
    features.append(Feature(field, "not given", lambda lead: value(lead) is None, absent, "fit"))
    other = {"label": f"{named}: another value"}
    features.append(
        Feature(
            field, "any other value", lambda lead: value(lead) is not None and value(lead) not in common, other, "fit"
        )
    )
    return features


def _event_features(
    event_type: str, occurrences: list[tuple[ExportedLead, dict[str, Any]]], minimum: int
) -> list[Feature]:
    names = sorted(
        {name for _, properties in occurrences for name in properties if name not in ("url", "content_type")}
    )
    if not names:
        leads = {id(lead) for lead, _ in occurrences}
        if len(leads) < minimum:
            return []
        rule: dict[str, Any] = {"name": event_type, "description": event_type.replace("_", " "), "event": event_type}
        return [
            Feature(
                event_type, event_type, lambda lead: any(e.type == event_type for e in lead.events), rule, "engagement"
            )
        ]
    features = []
    for name in names:
        values = [properties[name] for _, properties in occurrences if name in properties]
        if values and all(isinstance(v, (int, float)) for v in values):
            features += _range_features(event_type, name, [float(v) for v in values])
        else:
            counts = Counter(normalise_label(v) for v in values)
            for label in sorted(label for label, count in counts.items() if count >= minimum):
                rule = {
                    "name": f"{event_type}_{label}".replace(" ", "_")[:60],
                    "description": f"{event_type.replace('_', ' ')}: {name} is {label}",
                    "event": event_type,
                    "where": {name: {"equals": label}},
                }
                features.append(
                    Feature(
                        f"{event_type}.{name}",
                        label,
                        _has_event_with(event_type, name, label),
                        rule,
                        "engagement",
                    )
                )
    return features


def _range_features(event_type: str, name: str, values: list[float]) -> list[Feature]:
    """Monotone ("thermometer") binning: one rule for the event at all, then one per threshold a
    value reaches (`visits 3+`, `visits 5+` ...), at the quantiles of the positive values. A lead
    earns every step it passes, so the points read as "each step up is worth so much more", and
    the regression shrinks neighbouring steps together instead of fitting each bin alone."""
    positive = sorted(v for v in values if v > 0)
    cuts = sorted({positive[len(positive) * k // RANGE_BINS] for k in range(RANGE_BINS)}) if positive else []
    presence = {"name": f"{event_type}_{name}_any", "description": f"{event_type.replace('_', ' ')}: any {name}",
                "event": event_type}  # fmt: skip
    features = [
        Feature(f"{event_type}.{name}", f"{name} any", _reaches(event_type, name, None), presence, "engagement")
    ]
    for low in cuts:
        label = f"{name} {low:g}+"
        rule = {
            "name": f"{event_type}_{name}_{low:g}plus".replace(" ", "_").replace(".", "_"),
            "description": f"{event_type.replace('_', ' ')}: {label}",
            "event": event_type,
            "where": {name: {"min": low}},
        }
        features.append(Feature(f"{event_type}.{name}", label, _reaches(event_type, name, low), rule, "engagement"))
    return features


def _reaches(event_type: str, name: str, low: float | None) -> Callable[[ExportedLead], bool]:
    def test(lead: ExportedLead) -> bool:
        return any(
            e.type == event_type
            and isinstance(e.properties.get(name), (int, float))
            and (low is None or e.properties[name] >= low)
            for e in lead.events
        )

    return test


def feature_matrix(features: Sequence[Feature], leads: Sequence[ExportedLead]) -> Any:
    import numpy as np

    return np.array([[feature.test(lead) for feature in features] for lead in leads], dtype=float)


def _weights(matrix: Any, outcome: Any, strength: float, prior: Any = None) -> tuple[Any, float]:
    """(feature weights, prior weight) of an L2-penalised logistic regression (sklearn's C =
    `strength`). The prior column, the current rules' score in log-odds units, enters unpenalised:
    with few leads the penalty keeps the features' weights small and the current rules decide,
    with many the features take over. Without a prior, sklearn's LogisticRegression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if prior is None:
        model = LogisticRegression(C=strength, max_iter=5000).fit(matrix, outcome)
        return model.coef_[0], 0.0
    from scipy.optimize import minimize

    columns = matrix.shape[1]
    inputs = np.hstack([matrix, prior.reshape(-1, 1), np.ones((len(outcome), 1))])
    penalised = np.r_[np.ones(columns), 0.0, 0.0]

    def loss(theta: Any) -> tuple[float, Any]:
        z = inputs @ theta
        p = 1.0 / (1.0 + np.exp(-z))
        value = strength * float(np.sum(np.logaddexp(0.0, z) - outcome * z)) + 0.5 * float(penalised @ theta**2)
        return value, strength * (inputs.T @ (p - outcome)) + penalised * theta

    start = np.r_[np.zeros(columns), 1.0, 0.0]
    found = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return found.x[:columns], float(found.x[columns])


def choose_strength(matrix: Any, outcome: Any, prior: Any = None, seed: int = 0) -> tuple[float, float]:
    """The REGULARISATION value with the best mean held-out AUC over stratified folds, and that AUC."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = max(2, min(5, int(outcome.sum()), int(len(outcome) - outcome.sum())))
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(matrix, outcome))

    def mean_auc(strength: float) -> float:
        scores = []
        for fit_on, check_on in splits:
            part = None if prior is None else prior[fit_on]
            weights, scale = _weights(matrix[fit_on], outcome[fit_on], strength, part)
            linear = matrix[check_on] @ weights + (0.0 if prior is None else scale * prior[check_on])
            scores.append(roc_auc_score(outcome[check_on], linear))
        return float(sum(scores) / len(scores))

    found = {strength: mean_auc(strength) for strength in REGULARISATION}
    best = max(found, key=lambda strength: found[strength])
    return best, found[best]


def fit_points(
    features: list[Feature], leads: Sequence[ExportedLead], prior_scores: Sequence[int] | None = None
) -> bool:
    """Weigh the features by logistic regression, its L2 strength chosen by 5-fold cross-validation
    on AUC. With `prior_scores` (each lead's score by the current rules) the fit adjusts those
    rules: the features' points are what to add to them. Returns whether the prior was kept (it is
    dropped when the data give it no positive weight)."""
    import numpy as np

    matrix = feature_matrix(features, leads)
    outcome = np.array([lead.won for lead in leads], dtype=int)
    prior = None if prior_scores is None else np.array(prior_scores, dtype=float) / POINTS_PER_LOG_ODDS
    strength, quality = choose_strength(matrix, outcome)
    if prior is not None:
        # The current rules are kept only where cross-validation says they help: a model that
        # ranks poorly on this team's leads is replaced, not averaged in.
        with_prior, quality_with = choose_strength(matrix, outcome, prior)
        if quality_with > quality:
            strength = with_prior
        else:
            prior = None
    weights, scale = _weights(matrix, outcome, strength, prior)
    if prior is not None and scale <= 0.05:
        prior, (weights, scale) = None, _weights(matrix, outcome, strength)
    per_unit = POINTS_PER_LOG_ODDS / scale if prior is not None else POINTS_PER_LOG_ODDS
    for feature, weight in zip(features, weights, strict=True):
        feature.points = round(float(weight) * per_unit)
    groups: dict[str, list[Feature]] = {}
    for feature in features:
        if feature.kind == "fit":
            groups.setdefault(feature.group, []).append(feature)
    for members in groups.values():  # exactly one option applies, so a shift changes no ranking
        lowest = min(feature.points for feature in members)
        for feature in members:
            feature.points -= lowest
    # A score is never below 0, so leads whose points add up to less would all tie at 0: lift
    # one fit question's options by the lowest training total, which ranks every lead as before.
    totals = matrix @ np.array([feature.points for feature in features], dtype=float)
    if prior is not None:
        totals = totals + np.array(prior_scores, dtype=float)
    if groups and totals.min() < 0:
        for feature in next(iter(groups.values())):
            feature.points += int(-totals.min())
    return prior is not None


def fitted_rules_document(
    features: list[Feature], base_path: Path, name: str, keep_base: bool = False
) -> dict[str, Any]:
    """The base rules file with its point tables replaced by the fitted ones (lists, decay
    schedules and disqualification rules kept), tiers and grades still to be set. With
    `keep_base` (a fit that adjusts the base rules) the base's own rules stay, and the fitted ones
    are added to them, named `fitted_...`."""
    document: dict[str, Any] = yaml.safe_load(base_path.read_text())
    document["name"] = name
    decay_of = {rule["event"]: rule["decay"] for rule in document["engagement"]["rules"] if rule.get("decay")}
    fit_rules: dict[str, dict[str, Any]] = {}
    for feature in features:
        # Zero-point options stay: without them a value would fall through to "any other value".
        if feature.kind == "fit":
            rule = fit_rules.setdefault(
                feature.group,
                {
                    "name": f"fitted_{feature.group}",
                    "description": feature.group.replace("_", " "),
                    "attribute": feature.group,
                    "options": [],
                },
            )
            rule["options"].append({**feature.rule, "points": feature.points})
    for rule in fit_rules.values():  # "any other value" has no test, so it must come last
        rule["options"].sort(key=lambda option: "equals" not in option and "present" not in option)
    fit_rules = {group: rule for group, rule in fit_rules.items() if any(o["points"] for o in rule["options"])}
    kept = document["fit"] if keep_base else [rule for rule in document["fit"] if rule.get("disqualify")]
    taken = {rule["name"] for rule in kept}
    for rule in fit_rules.values():
        rule["name"] = _unused(rule["name"], taken)
    document["fit"] = list(fit_rules.values()) + kept
    engagement_rules = []
    taken = {rule["name"] for rule in document["engagement"]["rules"]} if keep_base else set()
    for feature in features:
        if feature.kind != "engagement" or not feature.points:
            continue
        rule = {**feature.rule, "points": feature.points, "cap": abs(feature.points)}
        if keep_base:
            rule["name"] = _unused(f"fitted_{rule['name'].removeprefix('fitted_')}", taken)
        if feature.points > 0 and feature.rule["event"] in decay_of:
            rule["decay"] = decay_of[feature.rule["event"]]
        engagement_rules.append(rule)
    document["engagement"]["rules"] = (document["engagement"]["rules"] if keep_base else []) + engagement_rules
    event_types = document["engagement"].setdefault("event_types", {})
    for rule in engagement_rules:
        event_types.setdefault(rule["event"], [])
    # A type the fit gave no points still arrives: kept without points, on purpose, said so.
    scored = {rule["event"] for rule in document["engagement"]["rules"]}
    recorded = document["engagement"].setdefault("recorded_only", [])
    recorded += [kind for kind in event_types if kind not in scored and kind not in recorded]
    return document


def _unused(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3` ... if a rule kept from the base has it; then taken."""
    found, number = name, 1
    while found in taken:
        number += 1
        found = f"{name}_{number}"
    taken.add(found)
    return found


def set_thresholds(document: dict[str, Any], rules: Rules, leads: Sequence[ExportedLead], as_of: Any) -> dict[str, Any]:
    """Tier and grade boundaries at the training scores' quantiles."""
    cards = [card_from_basis(score_basis(lead.profile, lead.events, rules), rules, as_of) for lead in leads]
    scores = [card.score for card in cards]
    fits = [card.fit for card in cards]
    bands = [{"name": "cold", "min": 0}]
    floor = 0
    for tier in ("warm", "hot", "super_hot"):
        floor = max(floor + 1, int(quantile_threshold(scores, TIER_SHARES[tier])))
        bands.append({"name": tier, "min": floor})
    document["tiers"]["bands"] = bands
    grades: list[dict[str, Any]] = []
    grade_floor: int | None = None
    for grade in ("A", "B", "C"):
        threshold = int(quantile_threshold(fits, GRADE_SHARES[grade]))
        grade_floor = threshold if grade_floor is None else min(threshold, grade_floor - 1)
        grades.append({"grade": grade, "min_fit": grade_floor})
    document["grades"] = [*grades, {"grade": "D"}]
    return document


def calibrate(document: dict[str, Any], rules: Rules, leads: Sequence[ExportedLead], as_of: Any) -> dict[str, Any]:
    """The likelihood of conversion by score: a logistic curve of the training leads' scores
    against their outcomes, written as the rules' `calibration`."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    scores = np.array(
        [[card_from_basis(score_basis(lead.profile, lead.events, rules), rules, as_of).score] for lead in leads],
        dtype=float,
    )
    outcome = np.array([lead.won for lead in leads], dtype=int)
    model = LogisticRegression(C=1e6, max_iter=1000).fit(scores, outcome)
    slope = max(float(model.coef_[0][0]), 1e-6)  # a score that predicts nothing still may not fall
    document["calibration"] = {"intercept": round(float(model.intercept_[0]), 6), "slope": round(slope, 6),
                               "fitted_on": len(leads)}  # fmt: skip
    return document


def _has_event_with(event_type: str, name: str, label: str) -> Callable[[ExportedLead], bool]:
    def test(lead: ExportedLead) -> bool:
        return any(e.type == event_type and normalise_label(e.properties.get(name, "")) == label for e in lead.events)

    return test


def render_rules(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
