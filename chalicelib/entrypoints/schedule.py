"""The EventBridge schedule's trigger: run the scheduled job (decay, rules sweep, outbox) within
the Lambda's remaining time, and log its summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import container
from chalicelib.observability import logger


def run_scheduled_job(
    time_left: Callable[[], float], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any]:
    summary = container().scheduled_job.run(clock(), time_left).summary()
    logger.info("scheduled job run", extra=summary)
    return summary
