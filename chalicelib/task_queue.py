"""The task queue (SQS) and its dead-letter queue: tasks sent, received, retried later, parked
with a reason and redriven. The only module that speaks SQS; the tasks themselves are the service
layer's (service_layer/messages.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import QueueUnavailable
from chalicelib.service_layer.messages import ReceivedTask, Task

SEND_BATCH_LIMIT = 10
MAX_VISIBILITY_SECONDS = 43_000  # SQS allows 12 h in all since receipt; keep a margin

__all__ = ["DeadLetter", "QueueUnavailable", "SqsTaskQueue", "create_queues", "received_task"]


@dataclass(frozen=True)
class DeadLetter:
    """A message in the dead-letter queue, and why it is there."""

    message_id: str
    receipt_handle: str
    body: dict[str, Any]
    sent_at: str  # when it was dead-lettered, ISO 8601 UTC with Z
    receive_count: int

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "?"))

    @property
    def lead_id(self) -> str | None:
        lead_id = self.body.get("lead_id")
        return str(lead_id) if lead_id is not None else None

    @property
    def reason(self) -> str:
        """Ours (`dead_letter`) carry the reason; SQS moves the others after MAX_RECEIVES deliveries."""
        if "failure" in self.body:
            return str(self.body["failure"])
        return f"not handled in {MAX_RECEIVES} deliveries (the consumer failed or timed out each time)"

    def original(self) -> dict[str, Any]:
        return {key: value for key, value in self.body.items() if key != "failure"}


class SqsTaskQueue:
    def __init__(self, queue_name: str, dead_letter_name: str, client: Any = None) -> None:
        self.queue_name = queue_name
        self.dead_letter_name = dead_letter_name
        self._client = client
        self._urls: dict[str, str] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 4}))
        return self._client

    def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = self.client.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def send(self, messages: Sequence[Task]) -> None:
        """SendMessageBatch, ten a call; raises QueueUnavailable if SQS fails or refuses any entry."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            url = self.url(self.queue_name)
            for start in range(0, len(messages), SEND_BATCH_LIMIT):
                chunk = messages[start : start + SEND_BATCH_LIMIT]
                entries = [{"Id": str(i), "MessageBody": json.dumps(m.to_json())} for i, m in enumerate(chunk)]
                response = self.client.send_message_batch(QueueUrl=url, Entries=entries)
                if response.get("Failed"):
                    raise QueueUnavailable(f"{len(response['Failed'])} messages were not accepted")
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(f"SQS: {type(exc).__name__}") from exc

    def dead_letter(self, body: dict[str, Any], reason: str) -> None:
        """Park a message that can never succeed, with the reason a person needs to fix it."""
        self.client.send_message(
            QueueUrl=self.url(self.dead_letter_name),
            MessageBody=json.dumps({**body, "failure": reason}),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )

    def dead_letters(self, limit: int = 1000, hold_seconds: int = 60) -> list[DeadLetter]:
        """What the dead-letter queue holds (up to `limit`), oldest first. Each is received, so it
        is hidden for `hold_seconds` while a command decides; `release` or `redrive` ends that."""
        from datetime import UTC, datetime

        from chalicelib.domain.events import iso_z

        url = self.url(self.dead_letter_name)
        found: dict[str, DeadLetter] = {}
        while len(found) < limit:
            # A long poll (1 s) asks every SQS server; a short one may answer empty while some hold more.
            response = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(SEND_BATCH_LIMIT, limit - len(found)),
                WaitTimeSeconds=1,
                VisibilityTimeout=hold_seconds,
                AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            for item in messages:
                parsed = received_task(item["MessageId"], item["ReceiptHandle"], item["Body"], {})
                attributes = item.get("Attributes", {})
                sent = datetime.fromtimestamp(int(attributes.get("SentTimestamp", 0)) / 1000, UTC)
                found[item["MessageId"]] = DeadLetter(
                    message_id=item["MessageId"],
                    receipt_handle=item["ReceiptHandle"],
                    body=parsed.body,
                    sent_at=iso_z(sent),
                    receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
                )
        return sorted(found.values(), key=lambda letter: letter.sent_at)

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make listed dead letters visible again, where they were."""
        url = self.url(self.dead_letter_name)
        for start in range(0, len(letters), SEND_BATCH_LIMIT):
            entries = [
                {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for i, letter in enumerate(letters[start : start + SEND_BATCH_LIMIT])
            ]
            self.client.change_message_visibility_batch(QueueUrl=url, Entries=entries)

    def redrive(self, letters: Sequence[DeadLetter]) -> None:
        """Send dead letters back to the task queue as they were first sent, then delete them."""
        url = self.url(self.dead_letter_name)
        for start in range(0, len(letters), SEND_BATCH_LIMIT):
            chunk = letters[start : start + SEND_BATCH_LIMIT]
            sent = self.client.send_message_batch(
                QueueUrl=self.url(self.queue_name),
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps(letter.original())} for i, letter in enumerate(chunk)
                ],
            )
            back = {entry["Id"] for entry in sent.get("Successful", [])}
            entries = [{"Id": str(i), "ReceiptHandle": letter.receipt_handle}
                       for i, letter in enumerate(chunk) if str(i) in back]  # fmt: skip
            if entries:
                self.client.delete_message_batch(QueueUrl=url, Entries=entries)
            if sent.get("Failed"):
                raise QueueUnavailable(f"{len(sent['Failed'])} messages were not sent back; they stay dead-lettered")

    def retry_later(self, message: ReceivedTask, seconds: float) -> None:
        """Hide the message until it is worth trying again: this is how Retry-After is honoured."""
        self.client.change_message_visibility(
            QueueUrl=self.url(self.queue_name),
            ReceiptHandle=message.receipt_handle,
            VisibilityTimeout=int(min(MAX_VISIBILITY_SECONDS, max(0, seconds))),
        )

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[ReceivedTask]:
        """For local mode, where no Lambda event source polls the queue."""
        response = self.client.receive_message(
            QueueUrl=self.url(self.queue_name),
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return [received_task(item["MessageId"], item["ReceiptHandle"], item["Body"], item.get("Attributes", {}))
                for item in response.get("Messages", [])]  # fmt: skip

    def delete(self, messages: Sequence[ReceivedTask]) -> None:
        url = self.url(self.queue_name)
        for start in range(0, len(messages), SEND_BATCH_LIMIT):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages[start : start + 10])
            ]
            self.client.delete_message_batch(QueueUrl=url, Entries=entries)


def received_task(message_id: str, receipt_handle: str, body: str, attributes: dict[str, Any]) -> ReceivedTask:
    """A message as SQS delivers it (to the Lambda or to `receive`), its body decoded leniently."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    return ReceivedTask(
        message_id=message_id,
        receipt_handle=receipt_handle,
        body=parsed if isinstance(parsed, dict) else {},
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
    )


MAX_RECEIVES = 10  # after this many failed deliveries SQS moves a message to the dead-letter queue


def create_queues(client: Any, queue_name: str, dead_letter_name: str, visibility_timeout: int = 120) -> str:
    """The task queue and its dead-letter queue with a redrive policy (local run and tests;
    the deploy template declares the same)."""
    dead_letter_url = client.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    dead_letter_arn = client.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    url: str = client.create_queue(
        QueueName=queue_name,
        Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
    return url
