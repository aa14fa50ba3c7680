"""SQS for the embedded AWS of `make run`, fast with thousands of messages queued.

moto works out a queue's attributes (three message counts, each asking the clock once per message)
for every message it sends, and for every message it receives (to read the retention period): with
a big import's 10,000 write-backs queued, a send or a receive costs a second. Here the counts read
the clock once per pass, and the retention check reads the queue's retention period directly: the
same answers, no longer O(queue) clock reads per message. A delete finds its message in one pass
(moto's makes two, building each message's list of receipt handles twice). A send to a standard
queue does not work out the queue's attributes at all: moto reads them only for a FIFO queue's
deduplication, and computing them costs a pass over the queue per message sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.moto_api._internal import mock_random
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import MAXIMUM_MESSAGE_DELAY, Message, Queue, SQSBackend

_SERVING: list[Callable[[], bool]] = [lambda: False]
_moto = {
    "messages": Queue.messages,
    "approximate_number_of_messages_delayed": Queue.approximate_number_of_messages_delayed,
    "approximate_number_of_messages_not_visible": Queue.approximate_number_of_messages_not_visible,
    "approximate_number_of_messages": Queue.approximate_number_of_messages,
}
_moto_retention = SQSBackend.is_message_valid_based_on_retention_period
_moto_delete = Queue.delete_message
_moto_send = SQSBackend.send_message


def install_fast_queues(serving: Callable[[], bool]) -> None:
    """Only while `serving()`: moto used otherwise in the process keeps its own."""
    _SERVING[0] = serving
    fast: dict[str, Callable[[Queue], Any]] = {
        "messages": _ready,
        "approximate_number_of_messages_delayed": _delayed_count,
        "approximate_number_of_messages_not_visible": _in_flight_count,
        "approximate_number_of_messages": lambda queue: len(_ready(queue)),
    }
    for name, read in fast.items():
        setattr(Queue, name, property(_guarded(name, read)))
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    Queue.delete_message = _delete_message  # type: ignore[method-assign]
    SQSBackend.send_message = _send_message  # type: ignore[method-assign]


def _guarded(name: str, fast: Callable[[Queue], Any]) -> Callable[[Queue], Any]:
    plain = _moto[name]

    def read(queue: Queue) -> Any:
        return fast(queue) if _SERVING[0]() else plain.fget(queue)  # type: ignore[attr-defined]

    return read


def _ready(queue: Queue) -> list[Message]:
    now = unix_time_millis()
    return [message for message in queue._messages if now > message.visible_at and not now < message.delayed_until]


def _delayed_count(queue: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for message in queue._messages if now < message.delayed_until)


def _in_flight_count(queue: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for message in queue._messages if not now > message.visible_at)


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    if not _SERVING[0]():
        return bool(_moto_retention(self, queue_name, message))
    retention_period = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]


def _delete_message(self: Queue, receipt_handle: str) -> None:
    """moto's delete: a handle already deleted is fine, an unknown one is invalid."""
    if not _SERVING[0]():
        return _moto_delete(self, receipt_handle)
    if receipt_handle in self.deleted_messages:
        return None
    kept: list[Message] = []
    gone: list[Message] = []
    for message in self._messages:
        held = message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
        (gone if held else kept).append(message)
    if not gone:
        raise ReceiptHandleIsInvalid()
    for message in gone:
        self.pending_messages.discard(message)
        self.deleted_messages.update(handle for handle in message.all_receipt_handles if handle)
    self._messages = kept
    return None


def _send_message(
    self: SQSBackend,
    queue_name: str,
    message_body: str,
    message_attributes: dict[str, Any] | None = None,
    delay_seconds: int | None = None,
    deduplication_id: str | None = None,
    group_id: str | None = None,
    system_attributes: dict[str, Any] | None = None,
    validate_group_id: bool = True,
) -> Message:
    """moto's send, for a standard queue and a message with no FIFO fields, without the queue's
    attributes (moto's reads them for content-based deduplication, which only a FIFO queue has)."""
    queue = self.get_queue(queue_name)
    fifo = queue.fifo_queue or deduplication_id is not None or group_id is not None
    if not _SERVING[0]() or fifo:
        return _moto_send(self, queue_name, message_body, message_attributes, delay_seconds, deduplication_id,
                          group_id, system_attributes, validate_group_id)  # fmt: skip
    self._validate_message(queue, message_body=message_body, delay_seconds=int(delay_seconds or 0),
                           deduplication_id=None, group_id=None, validate_group_id=validate_group_id)  # fmt: skip
    delay = int(delay_seconds) if delay_seconds is not None else int(queue.delay_seconds)  # type: ignore[attr-defined]
    message = Message(str(mock_random.uuid4()), message_body, system_attributes)
    if message_attributes:
        message.message_attributes = message_attributes
    if delay > MAXIMUM_MESSAGE_DELAY:
        raise InvalidParameterValue(
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )
    message.mark_sent(delay_seconds=delay)
    queue.add_message(message)
    return message
