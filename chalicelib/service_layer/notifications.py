"""The handler of `Notify` tasks: a lead that entered or left MQL is announced to NOTIFY_URL; a
failure is tried again later, with backoff."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from chalicelib.errors import Unavailable

from .messages import Notify, ReceivedTask, TaskQueue
from .task_report import TaskReport, backoff_seconds


class Announcer(Protocol):
    """Where tier changes are announced (chalicelib/notifier.py: NOTIFY_URL)."""

    def send(self, change: Notify) -> None: ...


class Notifications:
    def __init__(
        self, queue: TaskQueue, announcer: Announcer | None, rng: Callable[[float, float], float] = random.uniform
    ) -> None:
        self.queue = queue
        self.announcer = announcer
        self.rng = rng

    def handle(self, message: ReceivedTask, change: Notify, report: TaskReport) -> None:
        if self.announcer is None:
            return
        try:
            self.announcer.send(change)
        except Unavailable as exc:
            self.queue.retry_later(message, backoff_seconds(message.receive_count, self.rng))
            report.failed_message_ids.append(message.message_id)
            report.retried[change.lead_id] = str(exc)
