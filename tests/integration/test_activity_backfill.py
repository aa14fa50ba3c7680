"""Events stored before the activity index had no time attribute, lead items no place by last
activity or name: the upkeep gives them those, once per table and resumably, and from then on the
lead's activity, the list by latest activity and the name search find them."""

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
    parts.upkeep.run(NOW)  # the first run's work (a fresh table's rules rescore) done
    # Two events as a release before the index wrote them: no feed keys.
    dynamodb = boto3.client("dynamodb")
    for hours in (1, 2):
        old = LeadEvent(event_id=f"old-{hours}", source="segment", type="Page Viewed", identities=Identities(),
                        occurred_at=NOW.replace(hour=NOW.hour - hours))  # fmt: skip
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": lead_pk(lead_id)}, "sk": {"S": event_sk(old)},
                                                 "data": {"S": old.model_dump_json()}})  # fmt: skip
    # The lead item as a release before the last-activity and name indexes left it.
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": lead_pk(lead_id)}, "sk": {"S": "LEAD"}},
                         UpdateExpression="SET #name = :name REMOVE feed, feed_at",
                         ExpressionAttributeNames={"#name": "name"},
                         ExpressionAttributeValues={":name": {"S": "Ada Lovelace"}})  # fmt: skip
    assert [e.event_id for e in storage.events.page(lead_id, 10, None, NOW).events] == ["new"]
    assert storage.listing.search("lovelace", 10) == []
    assert (
        storage.listing.leads_page(["hot", "warm", "cold"], None, 10, None, None, "last_active", NOW.date()).rows == []
    )

    # ... and the upkeep of that release had not run this backfill yet.
    storage.jobs.save_job_state("activity_backfill:2", {"start_key": None, "done": False, "items": 0})
    first = parts.upkeep.run(NOW)
    assert first.activity_backfill == {"done": True, "items": 2 + 1 + 2}  # events, the lead item, its name twice
    assert [e.event_id for e in storage.events.page(lead_id, 10, None, NOW).events] == ["new", "old-1", "old-2"]
    assert [row.lead_id for row in storage.listing.search("lovelace", 10)] == [lead_id]
    by_activity = storage.listing.leads_page(["hot", "warm", "cold"], None, 10, None, None, "last_active", NOW.date())
    assert by_activity.rows[0].lead_id == lead_id and by_activity.rows[0].last_active_at
    assert parts.upkeep.run(NOW).activity_backfill == {"done": True, "items": 5}  # nothing more to do
    assert parts.upkeep.run(NOW, dry_run=True).activity_backfill["done"]
