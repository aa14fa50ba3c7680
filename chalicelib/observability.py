"""Structured JSON logs and CloudWatch EMF metrics (Powertools). Logs carry ids, sources, counts
and results: never an email, a token, a signature or a request body.

Metrics go to the namespace in POWERTOOLS_METRICS_NAMESPACE (Powertools' convention; each stage
sets its own), every one with the dimensions `service` and `stage` (LEADSCORE_STAGE), so dev's
figures never land on prod's dashboard. Other dimensions are closed vocabularies (a source, a
result, a CRM, a tier, a job): never a lead, an email or a record id. The dashboard and the
alarms of infra/monitoring.py read exactly these names. POWERTOOLS_METRICS_DISABLED=true turns
them off, as it does Powertools' own (`make bench` does, so figures are not lost among them).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "leadscore"


class _Console(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the process's stdout of the moment (Lambda's log stream), or to stderr for the
    operator's CLI, whose stdout is the command's answer (`leadscore unscored --json` must parse)."""

    to_stderr = False

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self.to_stderr else sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # the stream is always the current one


_CONSOLE = _Console()
logger = Logger(service=SERVICE, logger_handler=_CONSOLE)


def log_to_stderr() -> None:
    _CONSOLE.to_stderr = True


def namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or SERVICE


def stage() -> str:
    return os.environ.get("LEADSCORE_STAGE") or "local"


def count_events(source: str, result: str, value: int) -> None:
    """One EMF line per (source, result): accepted, duplicate, ignored or rejected."""
    _emit("Events", value, {"source": source, "result": result})


def count_not_scored(source: str, reasons: Mapping[str, int]) -> None:
    """Events accepted but not scored (crawlers, bursts, honeypots), one EMF line per reason."""
    for reason, value in sorted(reasons.items()):
        _emit("EventsNotScored", value, {"source": source, "reason": reason})


def count_writebacks(statuses: Mapping[tuple[str, str], int]) -> None:
    """Write-back results per (CRM, write status): written, retry, permanent, not_in_crm."""
    for (crm, status), value in sorted(statuses.items()):
        _emit("WritebackResults", value, {"crm": crm, "status": status})


def count_dead_lettered(value: int) -> None:
    _emit("WritebackDeadLettered", value, {})


def count_tier_changes(to_tiers: Mapping[str, int]) -> None:
    for tier, value in sorted(to_tiers.items()):
        _emit("TierChanges", value, {"tier": tier})


def crm_latency(crm: str, milliseconds: float) -> None:
    """One call to a CRM's API, answered or not."""
    _emit("CrmLatency", milliseconds, {"crm": crm}, MetricUnit.Milliseconds, keep_zero=True)


def tier_inflation(inflating: bool) -> None:
    """The daily health check: 1 when the latest month's MQL share rose as its MQL win rate fell."""
    _emit("TierInflation", int(inflating), {}, keep_zero=True)


def job_run(job: str, figures: Mapping[str, int], problem: bool) -> None:
    """A scheduled run's figures (JobDue, JobChanged ...) and JobProblems: 1 when it failed or
    stopped early (the alarm's metric), 0 when it finished, so the alarm sees every run."""
    for name, value in sorted(figures.items()):
        _emit(f"Job{name.title().replace('_', '')}", value, {"job": job})
    _emit("JobProblems", int(problem), {"job": job}, keep_zero=True)


def _emit(
    name: str,
    value: float,
    dimensions: Mapping[str, str],
    unit: MetricUnit = MetricUnit.Count,
    keep_zero: bool = False,
) -> None:
    if (value <= 0 and not keep_zero) or is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, as Powertools
        return
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=namespace(),
        default_dimensions={"service": SERVICE, "stage": stage(), **dimensions},
    ):
        pass
