"""What one batch of tasks came to, and how long a task waits before it is tried again."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0


def backoff_seconds(receive_count: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Exponential in the number of deliveries, with jitter so a recovering CRM is not stampeded."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1))
    return rng(ceiling / 2, ceiling)


@dataclass
class TaskReport:
    written: list[str] = field(default_factory=list)  # leads whose card every CRM has now
    retried: dict[str, str] = field(default_factory=dict)  # lead (or `read_records:<directory>`): why
    dead_lettered: dict[str, str] = field(default_factory=dict)
    failed_message_ids: list[str] = field(default_factory=list)  # the batch item failures
    records_read: int = 0  # records read from a CRM and ingested
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (CRM, write status): leads
