"""`GET /rules`: the rules in force as a reader wants them, section by section, with labelled fields.
Named lists (thousands of disposable-mail domains) are summarised, not sent whole."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.rules import Rules

LIST_SAMPLE = 5


def rules_summary(rules: Rules) -> dict[str, Any]:
    dumped = rules.model_dump(mode="json", exclude_none=True)
    return {
        "name": rules.name,
        "version": rules.version,
        "fingerprint": rules.fingerprint,
        "fit": [_fit_rule(rule) for rule in dumped["fit"]],
        "personas": [_persona(persona) for persona in dumped["personas"]],
        "calibration": dumped.get("calibration"),
        "engagement": dumped["engagement"]["rules"],
        "event_types": dumped["engagement"]["event_types"],
        "recorded_only": dumped["engagement"]["recorded_only"],
        "page_categories": dumped["engagement"]["page_categories"],
        "multipliers": dumped["engagement"]["multipliers"],
        "decay": dumped["decay"],
        "tiers": dumped["tiers"],
        "grades": dumped["grades"],
        "filters": dumped["filters"],
        "scores": dumped.get("scores", {}),
        "accounts": dumped.get("accounts"),
        "lists": {
            name: {"entries": len(values), "sample": values[:LIST_SAMPLE]} for name, values in rules.lists.items()
        },
    }


def _persona(persona: dict[str, Any]) -> dict[str, Any]:
    fit = [_fit_rule(rule) for rule in persona["fit"]]
    return {"name": persona["name"], "description": persona.get("description", ""), "fit": fit}


def _fit_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": rule["name"],
        "description": rule.get("description", ""),
        "attribute": rule.get("attribute"),
        "disqualify": rule.get("disqualify", False),
        "options": rule.get("options") or [_without(rule, {"name", "description", "options", "disqualify"})],
    }


def _without(rule: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {key: value for key, value in rule.items() if key not in names}
