"""Events stored before the activity index had no time attribute: the upkeep gives them one, once
per table and resumably, and from then on the lead's activity lists them."""

from __future__ import annotations

import boto3

from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.items import event_sk, lead_pk
from tests.conftest import TABLE
from tests.helpers import NOW, use_cases


def test_the_upkeep_gives_old_events_their_time_once(aws) -> None:
    storage = DynamoStorage(TABLE)
    parts = use_cases(storage)
    new = LeadEvent(event_id="new", source="segment", type="Demo Requested", occurred_at=NOW,
                    identities=Identities(user_id="u-old"))  # fmt: skip
    parts.ingestion.ingest(ParsedDelivery(events=[new]), NOW)
    [lead_id] = storage.leads.resolve(["user:u-old"]).values()
    # Two events as a release before the index wrote them: no feed keys.
    dynamodb = boto3.client("dynamodb")
    for hours in (1, 2):
        old = LeadEvent(event_id=f"old-{hours}", source="segment", type="Page Viewed", identities=Identities(),
                        occurred_at=NOW.replace(hour=NOW.hour - hours))  # fmt: skip
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": lead_pk(lead_id)}, "sk": {"S": event_sk(old)},
                                                 "data": {"S": old.model_dump_json()}})  # fmt: skip
    assert [e.event_id for e in storage.events.page(lead_id, 10, None, NOW).events] == ["new"]

    first = parts.upkeep.run(NOW)
    assert first.activity_backfill == {"done": True, "events": 2}
    assert [e.event_id for e in storage.events.page(lead_id, 10, None, NOW).events] == ["new", "old-1", "old-2"]
    assert parts.upkeep.run(NOW).activity_backfill == {"done": True, "events": 2}  # nothing more to do
    assert parts.upkeep.run(NOW, dry_run=True).activity_backfill["done"]
