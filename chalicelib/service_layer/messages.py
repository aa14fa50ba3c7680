"""The tasks that travel on the task queue: every call to the outside world that must not happen
inside a vendor's request. Three kinds, each with its own handler:

- `WriteBack`: a lead's visible score changed; write its current card to the CRMs (write_back.py);
- `Notify`: a lead entered or left MQL; announce it to NOTIFY_URL (notifications.py);
- `ReadRecords`: a delivery named CRM records without their properties; read and ingest them
  (enrichment.py);
- `RollUp`: an account's contacts changed; score it again and write it to the CRMs (account_rollups.py);
- `MoveContacts`: a company was deleted or merged; move its contacts, a page a task (account_records.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

__all__ = [
    "MoveContacts",
    "Notify",
    "ReadRecords",
    "ReceivedTask",
    "RollUp",
    "Task",
    "TaskQueue",
    "TaskSink",
    "WriteBack",
    "decode",
]


@dataclass(frozen=True)
class WriteBack:
    """ "Lead X changed": the handler reads the lead's current card, so the latest card wins
    however tasks are ordered or retried. `version` is informational (0: queued again by the
    outbox sweep)."""

    lead_id: str
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "write_back", "lead_id": self.lead_id, "version": self.version}


@dataclass(frozen=True)
class Notify:
    """A lead entered or left MQL: announced to NOTIFY_URL."""

    lead_id: str
    from_tier: str | None
    to: str
    at: str
    score: int
    mql: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        return {"kind": "notify", "lead_id": self.lead_id, "from": body.pop("from_tier"), **body}


@dataclass(frozen=True)
class ReadRecords:
    """Records a delivery named without their properties (a HubSpot `contact.creation`): read from
    the CRM off the webhook's clock, then ingested, so the leads are rescored."""

    directory: str  # the identity kind whose profile directory reads them: "hubspot"
    record_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": "read_records", "directory": self.directory, "record_ids": list(self.record_ids)}


@dataclass(frozen=True)
class RollUp:
    """ "Account X's contacts changed" (or its company record did): the handler reads the account
    and its most engaged contacts as they are then, so any number of these for one account agree."""

    account: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": "roll_up", "account": self.account}


@dataclass(frozen=True)
class MoveContacts:
    """Account `source` is gone (its company deleted, or merged into `target`): move its contacts
    from `cursor` on. `at`: when the CRM did it (ISO 8601)."""

    source: str
    target: str | None
    at: str
    cursor: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": "move_contacts", **asdict(self)}


Task = WriteBack | Notify | ReadRecords | RollUp | MoveContacts

# The kinds a queue of an earlier release carried (a body redriven from its dead letters).
EARLIER_KINDS = {"sync": "write_back", "enrich": "read_records"}


def decode(body: dict[str, Any]) -> Task | None:
    """The task a queue body carries; None when it is not one of ours (it is dead-lettered)."""
    lead_id, kind = body.get("lead_id"), body.get("kind")
    kind = EARLIER_KINDS.get(str(kind), kind)
    if kind == "read_records":
        ids = body.get("record_ids")
        if isinstance(body.get("directory"), str) and isinstance(ids, list) and ids:
            return ReadRecords(str(body["directory"]), tuple(str(item) for item in ids))
        return None
    if kind == "move_contacts":
        fields = {name: body.get(name) for name in ("source", "target", "at", "cursor")}
        if isinstance(fields["source"], str) and isinstance(fields["at"], str):
            return MoveContacts(**fields)  # type: ignore[arg-type]
        return None
    if kind == "roll_up":
        account = body.get("account")
        return RollUp(account) if isinstance(account, str) and ":" in account else None
    if not isinstance(lead_id, str):
        return None
    try:
        if kind == "write_back":
            return WriteBack(lead_id, int(body.get("version") or 0))
        if kind == "notify":
            return Notify(
                lead_id=lead_id,
                from_tier=body.get("from"),
                to=str(body["to"]),
                at=str(body.get("at", "")),
                score=int(body.get("score", 0)),
                mql=bool(body.get("mql")),
                reason=str(body.get("reason", "")),
            )
    except (KeyError, TypeError, ValueError):
        return None
    return None


class TaskSink(Protocol):
    """Where the use cases put tasks (the SQS task queue, or a list in a test)."""

    def send(self, tasks: Sequence[Task]) -> None: ...


@dataclass(frozen=True)
class ReceivedTask:
    """A task as the queue delivered it: its handle, its raw body, and the decoded task (None: not
    ours)."""

    message_id: str
    receipt_handle: str
    body: dict[str, Any]
    receive_count: int

    @property
    def task(self) -> Task | None:
        return decode(self.body)


class TaskQueue(TaskSink, Protocol):
    """What the handlers do with a received task besides finishing it: retry it later, or park it
    with the reason a person needs (the dead-letter queue)."""

    def retry_later(self, message: ReceivedTask, seconds: float) -> None: ...

    def dead_letter(self, body: dict[str, Any], reason: str) -> None: ...
