"""The embedded AWS of `make run`: moto's server, made to hold a real workload.

Two things stop stock moto from serving a busy local instance, and both are fixed here, for the
embedded server only (tests run moto as it ships):

- moto's DynamoDB is not thread-safe. Its server handles each request on a thread of its own,
  and a transaction, the decay job and a write-back running at once fail inside moto
  ("dictionary changed size during iteration"). DynamoDB requests are served one at a time,
  which is what an embedded store for one developer needs: each takes milliseconds. Other
  services are not held up by them (an SQS long poll waits for its messages, not for a lock).
- moto's TransactWriteItems deep-copies every table a transaction touches, once per item, to
  roll back on failure: a transaction costs O(table), so ingestion slows as the table grows.
  Here a transaction checks every condition first (as DynamoDB does: all or nothing) and then
  writes, backing up only the items it names.

And it is made fast where our use of moto is slow, so `make run` holds a team's 10,000 leads:
Queries read one partition, not the whole table (embedded_index.py); the flat UpdateExpressions
leadscore writes skip moto's expression validator (embedded_updates.py); SQS counts its messages
without asking the clock once per message (embedded_queues.py); and the backend a request's host
names is remembered instead of listed from disk every time.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local.embedded_index import install_index_partitions
from local.embedded_queues import install_fast_queues
from local.embedded_updates import install_flat_updates

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


class EmbeddedAws:
    """moto's server on a thread, serving one DynamoDB request at a time."""

    def __init__(self, host: str, port: int = 0) -> None:
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        install_item_level_transactions()
        install_index_partitions(_serving)
        install_flat_updates(_serving)
        install_fast_queues(_serving)
        self.app = _OneAtATime(_Dispatcher(create_backend_app))
        self._server = make_server(self._host, self._port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()


class _Dispatcher(DomainDispatcherApplication):
    """moto's, remembering which backend a host names: moto lists its package's folders on disk to
    decide it, for every request."""

    def __init__(self, create_app: Callable[..., Any]) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


BACKGROUND_HEADER = "X-Leadscore-Background"  # on the requests of `make run`'s own workers (local/run.py)


def mark_background(request: Any, **_: Any) -> None:
    """A botocore before-send hook: this request is a background worker's (write-back, decay)."""
    request.headers[BACKGROUND_HEADER] = "1"


class _OneAtATime:
    """DynamoDB requests one at a time, the API's first: a background worker's request (the
    write-back, the decay job) waits while the API is being served and for `gap` seconds after,
    so a batch a user waits on is not slowed by the write-back of the one before it. It waits at
    most `longest` seconds, so the workers still make progress under a steady load."""

    def __init__(self, app: Callable[..., Iterable[bytes]], gap: float = 0.05, longest: float = 5.0) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.gap, self.longest = gap, longest
        self.foreground = 0  # the API's DynamoDB requests waiting or being served
        self.foreground_done = 0.0  # when the last of them was served (time.monotonic)
        self.background_served = 0
        self.changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            _SERVING.active = True  # SQS and the rest: concurrent, as moto serves them
            try:
                return list(self.app(environ, start_response))
            finally:
                _SERVING.active = False
        background = environ.get("HTTP_" + BACKGROUND_HEADER.upper().replace("-", "_")) == "1"
        if background:
            self._wait_for_the_api()
            self.background_served += 1
        else:
            with self.changed:
                self.foreground += 1
        try:
            with self.lock:
                _SERVING.active = True
                try:
                    return list(self.app(environ, start_response))  # the body too is moto's to produce
                finally:
                    _SERVING.active = False
        finally:
            if not background:
                with self.changed:
                    self.foreground -= 1
                    self.foreground_done = time.monotonic()
                    self.changed.notify_all()

    def _wait_for_the_api(self) -> None:
        deadline = time.monotonic() + self.longest
        with self.changed:
            while (now := time.monotonic()) < deadline:
                quiet_from = self.foreground_done + self.gap
                if not self.foreground and now >= quiet_from:
                    return
                self.changed.wait(min(deadline, max(quiet_from, now + self.gap)) - now)


# Set while this server serves a request: only then do Queries take the embedded shortcuts. moto
# used any other way in this process (a test's mock_aws) behaves as it ships.
_SERVING = threading.local()


def _serving() -> bool:
    return bool(getattr(_SERVING, "active", False))


def install_item_level_transactions() -> None:
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned = []
    seen: set[tuple[str, str]] = set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in _OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)
        planned.append((op_type, op, key))

    # Every condition against the state before the transaction, as DynamoDB evaluates them.
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for _, op, key in planned:
        current = self.get_item(op["TableName"], key)
        expression = op.get("ConditionExpression")
        if expression is not None:
            condition = get_filter_expression(
                expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not condition.expr(current):
                returned = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    returned = current.to_json()["Attributes"]
                errors.append(("ConditionalCheckFailed", "The conditional request failed", returned))
                continue
        errors.append((None, None, None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    backups = [(op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in planned]
    try:
        for op_type, op, key in planned:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, before in backups:
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise
