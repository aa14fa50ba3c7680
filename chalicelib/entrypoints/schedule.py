"""The EventBridge schedules' triggers: upkeep (decay, rules sweep, outbox sweep), and the
CRM sync (reconciliation of each CRM with API access, HubSpot's email events), each within the
Lambda's remaining time, logging a summary (counts only: no personal data) and recording the
run's figures as metrics; a run that fails or stops early counts as a problem (its alarm)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import container
from chalicelib.observability import job_run, logger, tier_inflation


def run_upkeep(
    time_left: Callable[[], float], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any]:
    parts = container()
    try:
        report = parts.upkeep.run(clock(), time_left)
        # NOTIFY_DIGEST: yesterday's alerts, one message a destination (not loaded otherwise).
        digests = parts.notifications.send_digests(clock()) if parts.settings.notify_digest else None
    except Exception:
        job_run("upkeep", {}, problem=True)
        raise  # Lambda counts the error, and EventBridge runs the job again on schedule
    summary = report.summary()
    if digests is not None:
        summary["digests"] = digests
    figures = {"due": report.due, "changed": len(report.changed), "requeued": report.requeued}
    job_run("upkeep", figures, problem=report.stopped_early)
    if report.inflating is not None:
        tier_inflation(report.inflating)
    logger.info("upkeep run", extra=summary)
    return summary


def run_crm_sync(
    time_left: Callable[[], float], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any]:
    """Each reader in turn, resumably: a reader that runs out of time or quota goes on next run.
    One CRM failing does not stop the others."""
    from chalicelib.errors import Unavailable

    parts = container()
    summary: dict[str, Any] = {}
    for name, reader in parts.record_readers.items():
        try:
            report = parts.crm_import.reconcile(reader, clock(), time_left)
        except Unavailable as exc:
            logger.warning("crm sync failed", extra={"reader": name, "reason": type(exc).__name__})
            summary[name] = {"error": type(exc).__name__}
            job_run("crm_sync", {}, problem=True)
            continue
        figures = {"records": report.records, "changed": report.changed, "api_calls": report.api_calls}
        job_run("crm_sync", figures, problem=report.stopped is not None)
        summary[name] = report.summary()
        logger.info("crm sync", extra=report.summary())
    summary["owners"] = _refresh_owners(parts, clock())
    return summary


def _refresh_owners(parts: Any, now: datetime) -> dict[str, Any]:
    """Owner names for the console and the API, read again once an hour; a CRM that fails now is
    read next run, its last names kept meanwhile."""
    from chalicelib.errors import Unavailable
    from chalicelib.service_layer.owners import OwnerNames

    try:
        return dict(OwnerNames(parts.storage).refresh(parts.owner_directories, now))
    except Unavailable as exc:
        logger.warning("owner names not read", extra={"reason": type(exc).__name__})
        return {"error": type(exc).__name__}
