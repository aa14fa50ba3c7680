"""The task queue's consumer: each task of a batch goes to its handler (write-back, notification,
enrichment); a body that is no task of ours is dead-lettered. The handlers retry what a later try
can fix and report those tasks as batch item failures; the rest of the batch is never held back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from .enrichment import Enrichment
from .messages import Notify, ReadRecords, ReceivedTask, TaskQueue, WriteBack
from .notifications import Notifications
from .task_report import TaskReport
from .write_back import WriteBacks


class TaskHandler:
    def __init__(
        self,
        queue: TaskQueue,
        write_backs: WriteBacks,
        notifications: Notifications,
        enrichment: Callable[[], Enrichment],
    ) -> None:
        """`enrichment` is built when a ReadRecords task arrives, not before (it loads the engine)."""
        self.queue = queue
        self.write_backs = write_backs
        self.notifications = notifications
        self.enrichment = enrichment

    def handle(self, messages: Sequence[ReceivedTask], now: datetime) -> TaskReport:
        report = TaskReport()
        by_lead: dict[str, list[ReceivedTask]] = {}
        to_read: dict[str, list[tuple[ReceivedTask, ReadRecords]]] = {}
        for message in messages:
            task = message.task
            if isinstance(task, WriteBack):
                by_lead.setdefault(task.lead_id, []).append(message)
            elif isinstance(task, Notify):
                self.notifications.handle(message, task, report, now)
            elif isinstance(task, ReadRecords):
                to_read.setdefault(task.directory, []).append((message, task))
            else:
                self.queue.dead_letter(message.body, "not a task of leadscore's")
        for directory, items in to_read.items():
            self.enrichment().handle(directory, items, now, report)
        if by_lead:
            self.write_backs.handle(by_lead, now, report)
        return report
