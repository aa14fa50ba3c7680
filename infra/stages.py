"""The deployed stages as `.chalice/config.json` and `.chalice/policy-<stage>.json` declare them:
the one place deploy scripts, the bench and the tests read them from."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE = ROOT / ".chalice"


@cache
def _config() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHALICE / "config.json").read_text())
    return loaded


def deployed_stages() -> tuple[str, ...]:
    """Every stage but `local`, which only `make run` and the tests use."""
    return tuple(stage for stage in _config()["stages"] if stage != "local")


def stage_environment(stage: str) -> dict[str, str]:
    variables: dict[str, str] = _config()["stages"][stage].get("environment_variables", {})
    return dict(variables)


def stage_config(stage: str) -> dict[str, Any]:
    found: dict[str, Any] = _config()["stages"][stage]
    return found


def stage_operations(stage: str) -> dict[str, Any]:
    """The stage's `operations` block: alarm_email, throttle_rate_limit, throttle_burst_limit."""
    operations: dict[str, Any] = stage_config(stage).get("operations", {})
    return dict(operations)


def stage_policy(stage: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    return loaded
