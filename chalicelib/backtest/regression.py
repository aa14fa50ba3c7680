"""Fit point values from outcomes and write them as a rules file (seed 003/004: refine the model
from won and lost leads). Offline only: scikit-learn and numpy are dev dependencies, imported here
and never by the Lambda handlers.

Every candidate feature is something the rules format can say, so the fitted model stays a point
table a person can read: a fit rule per profile field (one option per common value, "not given"
and "any other value"), and engagement rules per event type, per common property value, or per
range of a numeric property. A logistic regression weighs them; each weight becomes points
(POINTS_PER_LOG_ODDS), mutually exclusive options are shifted so the lowest is 0, and tier
thresholds come from the training scores' distribution (seed 004: hot is about the top 10-15%,
warm the next 30-40%).
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


def candidate_features(leads: Sequence[ExportedLead], mapping: ExportMapping) -> list[Feature]:
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
        features += _event_features(event_type, occurrences, minimum)
    return features


def _profile_features(leads: Sequence[ExportedLead], field: str, minimum: int) -> list[Feature]:
    def value(lead: ExportedLead) -> str | None:
        raw = getattr(lead.profile, field)
        return normalise_label(raw) if raw not in (None, "") else None

    counts = Counter(value(lead) for lead in leads)
    common = sorted(label for label, count in counts.items() if label is not None and count >= minimum)

    def equals(label: str) -> Callable[[ExportedLead], bool]:
        return lambda lead: value(lead) == label

    features = [Feature(field, label, equals(label), {"label": label, "equals": label}, "fit") for label in common]
    features.append(
        Feature(field, "not given", lambda lead: value(lead) is None, {"label": "not given", "present": False}, "fit")
    )
    features.append(
        Feature(
            field,
            "any other value",
            lambda lead: value(lead) is not None and value(lead) not in common,
            {"label": "any other value"},
            "fit",
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


def choose_strength(matrix: Any, outcome: Any, seed: int = 0) -> float:
    """The REGULARISATION value with the best mean held-out AUC over stratified folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = max(2, min(5, int(outcome.sum()), int(len(outcome) - outcome.sum())))
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(matrix, outcome))

    def mean_auc(strength: float) -> float:
        scores = []
        for fit_on, check_on in splits:
            model = LogisticRegression(C=strength, max_iter=5000).fit(matrix[fit_on], outcome[fit_on])
            scores.append(roc_auc_score(outcome[check_on], model.decision_function(matrix[check_on])))
        return float(sum(scores) / len(scores))

    return max(REGULARISATION, key=mean_auc)


def fit_points(features: list[Feature], leads: Sequence[ExportedLead]) -> float:
    """Weigh the features by logistic regression, its L2 strength chosen by 5-fold cross-validation
    on AUC; returns the training accuracy."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    matrix = feature_matrix(features, leads)
    outcome = np.array([lead.won for lead in leads], dtype=int)
    model = LogisticRegression(C=choose_strength(matrix, outcome), max_iter=5000)
    model.fit(matrix, outcome)
    for feature, weight in zip(features, model.coef_[0], strict=True):
        feature.points = round(float(weight) * POINTS_PER_LOG_ODDS)
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
    if groups and totals.min() < 0:
        for feature in next(iter(groups.values())):
            feature.points += int(-totals.min())
    return float(model.score(matrix, outcome))


def fitted_rules_document(features: list[Feature], base_path: Path, name: str) -> dict[str, Any]:
    """The base rules file with its point tables replaced by the fitted ones (lists, decay
    schedules and disqualification rules kept), tiers and grades still to be set."""
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
    disqualifying = [rule for rule in document["fit"] if rule.get("disqualify")]
    document["fit"] = list(fit_rules.values()) + disqualifying
    engagement_rules = []
    for feature in features:
        if feature.kind != "engagement" or not feature.points:
            continue
        rule = {**feature.rule, "points": feature.points, "cap": abs(feature.points)}
        if feature.points > 0 and feature.rule["event"] in decay_of:
            rule["decay"] = decay_of[feature.rule["event"]]
        engagement_rules.append(rule)
    document["engagement"]["rules"] = engagement_rules
    event_types = document["engagement"].setdefault("event_types", {})
    for rule in engagement_rules:
        event_types.setdefault(rule["event"], [])
    return document


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


def _has_event_with(event_type: str, name: str, label: str) -> Callable[[ExportedLead], bool]:
    def test(lead: ExportedLead) -> bool:
        return any(e.type == event_type and normalise_label(e.properties.get(name, "")) == label for e in lead.events)

    return test


def render_rules(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
