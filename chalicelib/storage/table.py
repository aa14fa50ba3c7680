"""One DynamoDB table through the low-level client: every call goes through `call`, which turns
the SDK's errors into ours, and the paging, batch-get, batch-write and transaction helpers are
written once here. Every DynamoDB call the service makes goes through this class."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib.errors import RequestRefused, StorageUnavailable

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACTION_LIMIT = 100
Item = dict[str, Any]


class ConditionFailed(Exception):
    """A single write's condition did not hold (ConditionalCheckFailedException)."""


class TransactionCancelled(Exception):
    """A transaction was cancelled because some of its conditions failed: `failed` are their indexes."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"conditions failed at {failed}" if failed else "conflicting transaction")
        self.failed = failed  # empty: it collided with another transaction on the same items


class DynamoTable:
    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._client = client

    @property
    def client(self) -> Any:
        # Created on first use, once per container: importing the app costs no boto3 setup.
        if self._client is None:
            import boto3
            from botocore.config import Config

            # DynamoDB answers in milliseconds; `make run`'s embedded store serves one request at a time,
            # so there a request may queue behind many others (local/run.py raises the limit).
            read_timeout = float(os.environ.get("DYNAMODB_TIMEOUT_SECONDS") or 5)
            config = Config(
                retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=read_timeout
            )
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    def call(self, operation: str, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(operation) from exc
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                failed = [
                    index for index, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"
                ]
                if failed or any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                    raise TransactionCancelled(failed) from exc
            if code == "ValidationException":
                raise RequestRefused(f"DynamoDB {operation}: {error.get('Message') or code}") from exc
            raise StorageUnavailable(f"DynamoDB {operation}: {code or 'error'}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB {operation}: {type(exc).__name__}") from exc
        return response

    def pages(self, operation: str, request: dict[str, Any]) -> Iterator[Item]:
        """Every item of a Query or Scan, following LastEvaluatedKey."""
        request = {"TableName": self.name, **request}
        while True:
            response = self.call(operation, **request)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def page(self, operation: str, request: dict[str, Any], start_key: Any = None) -> tuple[list[Item], Any]:
        """One page and the key to resume from (None at the end)."""
        request = {"TableName": self.name, **request}
        if start_key:
            request["ExclusiveStartKey"] = start_key
        response = self.call(operation, **request)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def batch_get(self, keys: Sequence[Item], projection: dict[str, Any] | None = None) -> Iterator[Item]:
        """BatchGetItem, 100 keys a request, retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.name: {
                    "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
                    "ConsistentRead": True,
                    **(projection or {}),
                }
            }
            while request:
                response = self.call("batch_get_item", RequestItems=request)
                yield from response.get("Responses", {}).get(self.name, [])
                request = response.get("UnprocessedKeys") or {}

    def batch_write(self, requests: Sequence[Item]) -> None:
        """BatchWriteItem in chunks of 25, retrying UnprocessedItems (DynamoDB returns them under load)."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {self.name: list(requests[start : start + BATCH_WRITE_LIMIT])}
            for attempt in range(8):
                response = self.call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(random.uniform(0, 0.05 * 2**attempt))  # DynamoDB asks us to slow down
            if pending:
                raise StorageUnavailable("DynamoDB left items unprocessed after retries")

    def transact(self, actions: list[Item]) -> list[int] | None:
        """TransactWriteItems: None when written, else the indexes whose condition failed."""
        if not actions:
            return None
        for attempt in range(6):
            try:
                self.call("transact_write_items", TransactItems=actions)
            except TransactionCancelled as exc:
                if exc.failed:
                    return exc.failed
                # Another transaction held one of these items: DynamoDB asks for a retry.
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
                continue
            return None
        raise StorageUnavailable("DynamoDB transactions kept conflicting")
