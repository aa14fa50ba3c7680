"""Structured JSON logs and CloudWatch EMF metrics (Powertools). Logs carry ids, sources, counts
and results: never an email, a token, a signature or a request body."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "leadscore"
NAMESPACE = "leadscore"
logger = Logger(service=SERVICE)


def count_events(source: str, result: str, value: int) -> None:
    """One EMF line per (source, result): accepted, duplicate, ignored or rejected."""
    _count("Events", value, {"source": source, "result": result})


def _count(name: str, value: int, dimensions: dict[str, str]) -> None:
    if value <= 0:
        return
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, **dimensions},
    ):
        pass


def count_not_scored(source: str, reasons: dict[str, int]) -> None:
    """Events accepted but not scored (crawlers, bursts, honeypots), one EMF line per reason."""
    for reason, value in sorted(reasons.items()):
        _count("EventsNotScored", value, {"source": source, "reason": reason})
