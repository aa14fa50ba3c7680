"""The black boxes the fitted rules are measured against, on the same mapped leads and the same
split: scikit-learn's HistGradientBoostingClassifier on the mapped values as they are (numbers as
numbers, profile fields and text properties as categories, how many events of each type), and a
plain LogisticRegression on the fit's own candidate features. Offline only (dev dependencies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.backtest.mapping import ExportedLead
from chalicelib.backtest.regression import Feature, feature_matrix

GRADIENT_BOOSTING = "gradient boosting"
LOGISTIC_REGRESSION = "logistic regression"
MAX_CATEGORIES = 250


@dataclass
class Columns:
    """The raw columns learnt from the training leads: the test leads are laid out the same way."""

    fields: list[str]
    event_types: list[str]
    properties: list[tuple[str, str]]
    categories: dict[Any, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, leads: Sequence[ExportedLead], fields: Sequence[str]) -> Columns:
        types = sorted({event.type for lead in leads for event in lead.events})
        properties = sorted(
            {(event.type, name) for lead in leads for event in lead.events for name in event.properties}
        )
        return cls(list(fields), types, properties)

    def is_categorical(self) -> list[bool]:
        """Gradient boosting takes at most 255 categories a column; past that, codes are numbers."""

        def fits(column: Any) -> bool:
            return column in self.categories and len(self.categories[column]) < MAX_CATEGORIES

        return (
            [fits(name) for name in self.fields]
            + [False] * len(self.event_types)
            + [fits(column) for column in self.properties]
        )

    def rows(self, leads: Sequence[ExportedLead], learn: bool) -> Any:
        import numpy as np

        def code(column: Any, value: Any) -> float:
            if value in (None, ""):
                return float("nan")
            seen = self.categories.setdefault(column, {})
            if learn:
                seen.setdefault(str(value), len(seen))
            return float(seen.get(str(value), -1)) if str(value) in seen else float("nan")

        rows = []
        for lead in leads:
            by_type: dict[str, list[dict[str, Any]]] = {}
            for event in lead.events:
                by_type.setdefault(event.type, []).append(event.properties)
            row = [code(name, getattr(lead.profile, name)) for name in self.fields]
            row += [float(len(by_type.get(kind, []))) for kind in self.event_types]
            for kind, name in self.properties:
                values = [properties[name] for properties in by_type.get(kind, []) if name in properties]
                if values and all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
                    row.append(float(max(values)))
                else:
                    row.append(code((kind, name), values[0] if values else None))
            rows.append(row)
        return np.array(rows, dtype=float)


def black_box_aucs(
    train: Sequence[ExportedLead],
    test: Sequence[ExportedLead],
    fields: Sequence[str],
    features: Sequence[Feature],
    boosted: bool = True,
) -> dict[str, float]:
    """Held-out AUC of each black box (`boosted` False: the logistic regression only), trained on `train`."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    won = np.array([lead.won for lead in train], dtype=int)
    truth = np.array([lead.won for lead in test], dtype=int)
    linear = LogisticRegression(max_iter=5000).fit(feature_matrix(features, train), won)
    found = {LOGISTIC_REGRESSION: float(roc_auc_score(truth, linear.decision_function(feature_matrix(features, test))))}
    if boosted:
        columns = Columns.of(train, fields)
        raw_train = columns.rows(train, learn=True)
        raw_test = columns.rows(test, learn=False)
        model = HistGradientBoostingClassifier(random_state=0, categorical_features=columns.is_categorical())
        model.fit(raw_train, won)
        found[GRADIENT_BOOSTING] = float(roc_auc_score(truth, model.predict_proba(raw_test)[:, 1]))
    return found
