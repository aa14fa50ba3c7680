"""What a table or a queue of an earlier release still holds is read as it was meant: a lead item
whose write-back state names each CRM's `outcomes` (now `statuses`), and a dead letter of kind
`sync` or `enrich` (now `write_back` and `read_records`) redriven onto the task queue."""

from __future__ import annotations

from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.messages import ReadRecords, WriteBack, decode
from chalicelib.storage.memory import InMemoryStorage
from tests.helpers import NOW, track, use_cases


def test_a_write_back_noted_before_the_rename_shows_its_statuses() -> None:
    parts = use_cases(InMemoryStorage())
    parts.ingestion.ingest(ParsedDelivery(events=[track("e1", "Demo Requested", user_id="u1")]), NOW)
    lead_id = parts.lead_views.find_lead_id("user:u1")
    record = parts.storage.leads.get_lead(lead_id)
    assert record is not None and record.card is not None
    earlier = {"visible": list(record.card.visible), "version": record.version, "at": NOW.isoformat(),
               "outcomes": {"hubspot": "written"}, "reasons": {}}  # fmt: skip
    assert parts.storage.outbox.mark_written(lead_id, record.version, earlier)
    assert parts.lead_views.lead("user:u1", NOW)["write_back"]["last"]["statuses"] == {"hubspot": "written"}


def test_dead_letters_of_an_earlier_release_decode_as_the_tasks_they_were() -> None:
    assert decode({"kind": "sync", "lead_id": "ld_1", "version": 3}) == WriteBack("ld_1", 3)
    assert decode({"kind": "enrich", "directory": "hubspot", "record_ids": ["7"]}) == ReadRecords("hubspot", ("7",))
    assert decode({"kind": "write_back", "lead_id": "ld_1"}) == WriteBack("ld_1", 0)
    assert decode({"kind": "nothing of ours", "lead_id": "ld_1"}) is None
