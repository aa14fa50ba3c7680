"""The task queue's consumer: each task of a batch goes to its handler (write-back, notification,
enrichment, account roll-up); a body that is no task of ours is dead-lettered. The handlers retry what a later try
can fix and report those tasks as batch item failures; the rest of the batch is never held back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .messages import MoveContacts, Notify, ReadRecords, ReceivedTask, RollUp, TaskQueue, WriteBack
from .notifications import Notifications
from .task_report import TaskReport
from .write_back import WriteBacks

if TYPE_CHECKING:
    from .account_records import AccountRecords
    from .account_rollups import AccountRollUps
    from .enrichment import Enrichment


class TaskHandler:
    def __init__(
        self,
        queue: TaskQueue,
        write_backs: WriteBacks,
        notifications: Notifications,
        enrichment: Callable[[], Enrichment],
        roll_ups: Callable[[], AccountRollUps] | None = None,
        account_records: Callable[[], AccountRecords] | None = None,
    ) -> None:
        """`enrichment`, `roll_ups` and `account_records` are built when a task of theirs arrives,
        not before (they load the rules engine)."""
        self.queue = queue
        self.write_backs = write_backs
        self.notifications = notifications
        self.enrichment = enrichment
        self.roll_ups = roll_ups
        self.account_records = account_records

    def handle(self, messages: Sequence[ReceivedTask], now: datetime) -> TaskReport:
        report = TaskReport()
        by_lead: dict[str, list[ReceivedTask]] = {}
        to_read: dict[str, list[tuple[ReceivedTask, ReadRecords]]] = {}
        by_account: dict[str, list[ReceivedTask]] = {}
        for message in messages:
            task = message.task
            if isinstance(task, WriteBack):
                by_lead.setdefault(task.lead_id, []).append(message)
            elif isinstance(task, Notify):
                self.notifications.handle(message, task, report, now)
            elif isinstance(task, ReadRecords):
                to_read.setdefault(task.directory, []).append((message, task))
            elif isinstance(task, MoveContacts) and self.account_records is not None:
                self.account_records().move_contacts(task, now)
            elif isinstance(task, RollUp) and self.roll_ups is not None:
                by_account.setdefault(task.account, []).append(message)
            else:
                self.queue.dead_letter(message.body, "not a task of leadscore's")
        for directory, items in to_read.items():
            self.enrichment().handle(directory, items, now, report)
        if by_lead:
            self.write_backs.handle(by_lead, now, report)
        if by_account and self.roll_ups is not None:
            self.roll_ups().handle(by_account, now, report)
        return report
