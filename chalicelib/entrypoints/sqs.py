"""The task queue's trigger: SQS records -> the task handler (write-backs, notifications, record
reads) -> the partial batch response (ReportBatchItemFailures), so only the failed tasks are
delivered again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import container
from chalicelib.observability import count_dead_lettered, count_writebacks, logger
from chalicelib.service_layer.task_report import TaskReport
from chalicelib.service_layer.tasks import TaskHandler
from chalicelib.task_queue import SqsTaskQueue, received_task


def run_tasks(
    records: list[dict[str, Any]], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any]:
    messages = [
        received_task(record["messageId"], record["receiptHandle"], record["body"], record.get("attributes", {}))
        for record in records
    ]
    report = container().task_handler.handle(messages, clock())
    record_metrics(report)
    logger.info(
        "task batch",
        extra={
            "messages": len(messages),
            "written": len(report.written),
            "retried": len(report.retried),
            "dead_lettered": len(report.dead_lettered),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed_message_ids]}


def record_metrics(report: TaskReport) -> None:
    count_writebacks(report.statuses)
    count_dead_lettered(len(report.dead_lettered))


def poll_once(
    queue: SqsTaskQueue, service: TaskHandler, now: datetime, wait_seconds: int = 1, batch_size: int = 1000
) -> TaskReport:
    """What the Lambda event source does, for local mode: gather a batch (up to `batch_size`, as
    the event source batches up to 1000 within its window, so the CRM gets full batch calls),
    handle it, delete what succeeded (failures stay in the queue, hidden until their retry time)."""
    messages = queue.receive(max_messages=10, wait_seconds=wait_seconds)
    while messages and len(messages) < batch_size:
        more = queue.receive(max_messages=10, wait_seconds=0)
        if not more:
            break
        messages += more
    if not messages:
        return TaskReport()
    report = service.handle(messages, now)
    record_metrics(report)
    failed = set(report.failed_message_ids)
    queue.delete([message for message in messages if message.message_id not in failed])
    return report
