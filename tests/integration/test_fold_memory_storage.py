"""The fold's memory on DynamoDB (moto): a page view reads and writes the lead item only; an email
event reads the memory item beside it in the same request and writes it in the same transaction;
a memory from another save is never mixed in (the lead is rescored from its events instead)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.profile import Profile
from chalicelib.domain.scoring import score
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.items import MEMORY_SK, lead_pk, packed
from tests.conftest import TABLE
from tests.helpers import NOW, default_rules, use_cases
from tests.unit.test_incremental_fold import _emails

RULES = default_rules()


class Requests:
    """The DynamoDB requests the service makes, with their parameters."""

    def __init__(self, client: Any) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, model: Any = None, params: Any = None, **_: Any) -> None:
        self.made.append((model.name, params))

    def keys(self, operation: str) -> list[str]:
        """The sort keys `operation` named: read (BatchGetItem) or written (TransactWriteItems)."""
        found = []
        for name, params in self.made:
            if name == operation == "BatchGetItem":
                found += [key["sk"]["S"] for table in params["RequestItems"].values() for key in table["Keys"]]
            elif name == operation == "TransactWriteItems":
                for write in params["TransactItems"]:
                    part = next(iter(write.values()))
                    found.append((part.get("Key") or part["Item"])["sk"]["S"])
        return found


def _lead(user: str) -> list[LeadEvent]:
    return [event.model_copy(update={"identities": Identities(user_id=user)}) for event in _emails(6, opens_each=2)]


def _one(kind: str, number: int, user: str, **props: Any) -> LeadEvent:
    return LeadEvent(event_id=f"{kind}-{number}", source="segment", type=kind, identities=Identities(user_id=user),
                     occurred_at=NOW + timedelta(minutes=number), properties=props)  # fmt: skip


def _busy_lead(user: str) -> tuple[DynamoStorage, Any, list[LeadEvent], str]:
    """A lead with six emails, each opened twice and clicked: its memory item holds them."""
    storage = DynamoStorage(TABLE)
    svc = use_cases(storage, lambda: RULES)
    history = _lead(user)
    svc.ingestion.ingest(ParsedDelivery(events=history), NOW)
    lead_id = svc.lead_views.find_lead_id(f"user:{user}")
    key = {"pk": {"S": lead_pk(lead_id)}, "sk": {"S": MEMORY_SK}}
    assert "Item" in storage.table.client.get_item(TableName=TABLE, Key=key)
    return storage, svc, history, lead_id


def _assert_scored_as_a_rescore(storage: DynamoStorage, lead_id: str, events: list[LeadEvent], at) -> None:
    card = storage.leads.get_lead(lead_id).card
    assert card == score(Profile(), events, RULES, at).model_copy(update={"scored_at": card.scored_at})


def test_a_page_view_leaves_the_memory_alone_and_an_email_event_reads_and_writes_it(aws) -> None:
    storage, svc, history, lead_id = _busy_lead("busy")
    requests = Requests(storage.table.client)
    view = _one("page_view", 1, "busy", url="https://example.com/pricing")
    svc.ingestion.ingest(ParsedDelivery(events=[view]), NOW + timedelta(minutes=1))
    assert MEMORY_SK not in requests.keys("BatchGetItem") and MEMORY_SK not in requests.keys("TransactWriteItems")
    assert "LEAD" in requests.keys("TransactWriteItems")  # folded, not stored apart for a rescore
    _assert_scored_as_a_rescore(storage, lead_id, [*history, view], NOW + timedelta(minutes=1))

    requests.made.clear()
    opened = _one("email_open", 2, "busy", message_id="m3")
    svc.ingestion.ingest(ParsedDelivery(events=[opened]), NOW + timedelta(minutes=2))
    assert MEMORY_SK in requests.keys("BatchGetItem") and MEMORY_SK in requests.keys("TransactWriteItems")
    assert not [name for name, _ in requests.made if name == "Query"]  # folded: the events were not read
    _assert_scored_as_a_rescore(storage, lead_id, [*history, view, opened], NOW + timedelta(minutes=2))
    card = storage.leads.get_lead(lead_id).card
    open_rule = next(c for c in card.contributions if c.rule == "email_open")
    assert open_rule.count == 13  # the third open of m3 earns the repeat's points, as the memory says


def test_a_memory_from_another_save_is_not_used(aws) -> None:
    storage, svc, history, lead_id = _busy_lead("raced")
    # What a concurrent save could have left beside this basis: a memory with another stamp.
    other = packed('{"messages":{},"stamp":"another save"}')
    key = {"pk": {"S": lead_pk(lead_id)}, "sk": {"S": MEMORY_SK}}
    storage.table.client.put_item(TableName=TABLE, Item={**key, "memory": other})
    requests = Requests(storage.table.client)
    opened = _one("email_open", 5, "raced", message_id="m1")
    svc.ingestion.ingest(ParsedDelivery(events=[opened]), NOW + timedelta(minutes=5))
    assert [name for name, _ in requests.made].count("Query") >= 1  # rescored from its events
    _assert_scored_as_a_rescore(storage, lead_id, [*history, opened], NOW + timedelta(minutes=5))
