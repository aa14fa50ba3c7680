"""The write-back queue (SQS) and its dead-letter queue. The only module that speaks SQS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SEND_BATCH_LIMIT = 10
MAX_VISIBILITY_SECONDS = 43_000  # SQS allows 12 h in all since receipt; keep a margin


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: dict[str, Any]
    receive_count: int


class QueueUnavailable(Exception):
    pass


class WritebackQueue:
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

    def send(self, bodies: Sequence[dict[str, Any]]) -> None:
        """SendMessageBatch, ten a call; raises QueueUnavailable if any entry was not accepted."""
        url = self.url(self.queue_name)
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            chunk = bodies[start : start + SEND_BATCH_LIMIT]
            entries = [{"Id": str(index), "MessageBody": json.dumps(body)} for index, body in enumerate(chunk)]
            response = self.client.send_message_batch(QueueUrl=url, Entries=entries)
            if response.get("Failed"):
                raise QueueUnavailable(f"{len(response['Failed'])} messages were not accepted")

    def dead_letter(self, body: dict[str, Any], reason: str) -> None:
        """Park a message that can never succeed, with the reason a person needs to fix it."""
        self.client.send_message(
            QueueUrl=self.url(self.dead_letter_name),
            MessageBody=json.dumps({**body, "failure": reason}),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )

    def retry_later(self, message: QueueMessage, seconds: float) -> None:
        """Hide the message until it is worth trying again: this is how Retry-After is honoured."""
        self.client.change_message_visibility(
            QueueUrl=self.url(self.queue_name),
            ReceiptHandle=message.receipt_handle,
            VisibilityTimeout=int(min(MAX_VISIBILITY_SECONDS, max(0, seconds))),
        )

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[QueueMessage]:
        """For local mode, where no Lambda event source polls the queue."""
        response = self.client.receive_message(
            QueueUrl=self.url(self.queue_name),
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return [parse_message(item["MessageId"], item["ReceiptHandle"], item["Body"], item.get("Attributes", {}))
                for item in response.get("Messages", [])]  # fmt: skip

    def delete(self, messages: Sequence[QueueMessage]) -> None:
        url = self.url(self.queue_name)
        for start in range(0, len(messages), SEND_BATCH_LIMIT):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages[start : start + 10])
            ]
            self.client.delete_message_batch(QueueUrl=url, Entries=entries)


def parse_message(message_id: str, receipt_handle: str, body: str, attributes: dict[str, Any]) -> QueueMessage:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    return QueueMessage(
        message_id=message_id,
        receipt_handle=receipt_handle,
        body=parsed if isinstance(parsed, dict) else {},
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
    )


MAX_RECEIVES = 10  # after this many failed deliveries SQS moves a message to the dead-letter queue


def create_queues(client: Any, queue_name: str, dead_letter_name: str, visibility_timeout: int = 120) -> str:
    """The write-back queue and its dead-letter queue with a redrive policy (local run and tests;
    the deploy template declares the same)."""
    dead_letter_url = client.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    dead_letter_arn = client.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    return client.create_queue(
        QueueName=queue_name,
        Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
