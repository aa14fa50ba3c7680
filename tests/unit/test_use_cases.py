"""The use cases over the in-memory storage port: ingestion, merges, deletion, profile fetches,
what gets published, and the scheduled job. No AWS, no moto: milliseconds per test. The same
behaviour against DynamoDB is tested in tests/integration (and the two storages are held to one
contract in tests/integration/test_storage_contract.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.service_layer.commands import Deletion, ParsedDelivery, ProfileRef
from chalicelib.service_layer.messages import Notify, ReadRecords, Task, WriteBack
from chalicelib.service_layer.rescoring import score_lead
from chalicelib.settings import Settings
from chalicelib.storage.memory import InMemoryStorage
from tests.helpers import NOW, track

DAY = timedelta(days=1)


class Sent:
    """A message sink that keeps what it was given (our own port, standing in for SQS)."""

    def __init__(self) -> None:
        self.messages: list[Task] = []

    def send(self, messages: Sequence[Task]) -> None:
        self.messages += messages


class Contacts:
    """A profile directory answering from a dict, counting its batch reads."""

    def __init__(self, contacts: dict[str, dict[str, Any]]) -> None:
        self.contacts = contacts
        self.reads: list[list[str]] = []

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]:
        self.reads.append(list(record_ids))
        return [
            LeadEvent(
                event_id=f"contact-{record_id}",
                source="hubspot",
                type=PROFILE_EVENT,
                occurred_at=NOW - DAY,
                identities=Identities(hubspot_id=record_id, email=self.contacts[record_id].get("email")),
                properties={"profile": self.contacts[record_id]},
            )
            for record_id in record_ids
            if record_id in self.contacts
        ]


@pytest.fixture
def parts() -> Container:
    return Container(Settings(), storage=InMemoryStorage(), queue=Sent(), directories={}, backoff=lambda _: None)


def ingest(parts: Container, *events: LeadEvent, deletions: Sequence[Deletion] = ()) -> Any:
    return parts.ingestion.ingest(ParsedDelivery(events=list(events), deletions=list(deletions)), NOW)


def sent(parts: Container) -> list[Task]:
    queue = parts.queue
    assert isinstance(queue, Sent)
    return queue.messages


def test_an_event_is_stored_once_and_a_redelivery_is_a_duplicate(parts: Container) -> None:
    first = ingest(parts, track("e1", "Demo Requested", user_id="u1"))
    again = ingest(parts, track("e1", "Demo Requested", user_id="u1"))
    assert (first.accepted, first.duplicates) == (1, 0)
    assert (again.accepted, again.duplicates) == (0, 1)
    lead = parts.lead_views.lead("user:u1", NOW)
    assert lead is not None and lead["engagement"] == 50 and lead["tier"] == "warm"


def test_an_identify_merges_the_anonymous_lead_into_the_known_one(parts: Container) -> None:
    ingest(parts, track("a1", "Email Opened", anonymous_id="anon-1"))
    ingest(parts, track("b1", "Demo Requested", email="jo@acme.io"))
    ingest(parts, track("link", "identify", anonymous_id="anon-1", email="jo@acme.io"))
    service = parts
    assert service.lead_views.find_lead_id("anon:anon-1") == service.lead_views.find_lead_id("email:jo@acme.io")
    lead = service.lead_views.lead("anon:anon-1", NOW)
    assert lead is not None and lead["engagement"] == 5 + 50


def test_a_deletion_removes_the_lead_and_its_identities(parts: Container) -> None:
    ingest(parts, track("e1", "Demo Requested", hubspot_id="42", email="jo@acme.io"))
    result = ingest(parts, deletions=[Deletion(Identities(hubspot_id="42"), "contact.privacyDeletion")])
    assert result.deleted == 1
    assert parts.lead_views.lead("hubspot:42", NOW) is None
    assert parts.lead_views.lead("email:jo@acme.io", NOW) is None


def test_records_named_without_properties_are_read_later_in_one_batch_per_directory() -> None:
    contacts = Contacts({"7": {"email": "cto@initech.com", "job_title": "CTO", "company_size": 200}, "8": {}})
    queue = Sent()
    parts = Container(Settings(), storage=InMemoryStorage(), queue=queue, directories={"hubspot": contacts})
    profile_only = LeadEvent(
        event_id="c7",
        source="hubspot",
        type=PROFILE_EVENT,
        occurred_at=NOW,
        identities=Identities(hubspot_id="7"),
        properties={"profile": {}},
    )
    delivery = ParsedDelivery(events=[profile_only], profiles_to_fetch=[ProfileRef("hubspot", "8")])
    parts.ingestion.ingest(delivery, NOW)
    assert contacts.reads == []  # never inside the delivery
    (enrich,) = [message for message in queue.messages if isinstance(message, ReadRecords)]
    assert enrich == ReadRecords("hubspot", ("7", "8"))
    parts.enrichment.read(enrich.directory, enrich.record_ids, NOW)  # what the queue consumer does
    assert contacts.reads == [["7", "8"]]
    lead = parts.lead_views.lead("email:cto@initech.com", NOW)
    assert lead is not None and lead["identities"] == ["email:cto@initech.com", "hubspot:7"]
    assert lead["profile"]["job_title"] == "CTO"
    queue.messages.clear()
    ingest(parts, LeadEvent(**{**profile_only.model_dump(), "event_id": "c7-again"}))
    assert not any(isinstance(message, ReadRecords) for message in queue.messages)  # known now: not read again


def test_a_visible_change_is_published_and_entering_mql_is_announced(parts: Container) -> None:
    ingest(parts, track("e1", "Demo Requested", user_id="u1"))
    lead_id = parts.lead_views.find_lead_id("user:u1")
    assert lead_id is not None
    assert sent(parts) == [WriteBack(lead_id, 1)]
    sent(parts).clear()
    ingest(parts, track("e2", "Quote Requested", user_id="u1"))
    sync, notify = sent(parts)
    assert sync == WriteBack(lead_id, 2)
    assert isinstance(notify, Notify)
    assert (notify.from_tier, notify.to, notify.mql, notify.score) == ("warm", "hot", True, 80)
    sent(parts).clear()
    ingest(parts, track("e2", "Quote Requested", user_id="u1"))  # a redelivery changes nothing
    assert sent(parts) == []


def test_decay_from_the_basis_equals_a_full_rescore_and_nothing_is_due_twice(parts: Container) -> None:
    for index in range(6):
        ingest(parts, track(f"o{index}", "Email Opened", 29 * DAY, user_id=f"u{index}"))
    later = NOW + 2 * DAY
    report = parts.upkeep.run(later)
    assert report.due == 6 and report.full_rescores == 0 and len(report.changed) == 6
    for item in report.changed:
        record = parts.storage.leads.load(item.lead_id, later)
        assert record is not None and record.card == score_lead(record, parts.rules(), later)[2]
    assert parts.upkeep.run(later).due == 0


def test_a_lost_write_back_message_is_queued_again_by_the_job() -> None:
    storage = InMemoryStorage()
    lost = Container(Settings(), storage=storage, queue=None, backoff=lambda _: None)
    ingest(lost, track("e1", "Demo Requested", user_id="u1"))  # no queue: the message is lost
    lead_id = lost.lead_views.find_lead_id("user:u1")
    queue = Sent()
    parts = Container(Settings(), storage=storage, queue=queue, backoff=lambda _: None)
    assert parts.upkeep.run(NOW + timedelta(minutes=5)).requeued == 0  # within the grace period
    report = parts.upkeep.run(NOW + timedelta(minutes=20))
    assert report.requeued == 1 and queue.messages == [WriteBack(str(lead_id))]


def test_a_rules_change_rescores_every_lead(parts: Container, tmp_path: Any) -> None:
    from chalicelib.rules import DEFAULT_RULES_PATH, rules_loader

    for index in range(5):
        ingest(parts, track(f"i{index}", "identify", user_id=f"u{index}"))
    parts.upkeep.run(NOW)
    edited = tmp_path / "rules.yaml"
    text = DEFAULT_RULES_PATH.read_text()
    edited.write_text(text.replace("    email_sent:", "    identify: []\n    email_sent:").replace(
        "  rules:\n", "  rules:\n    - {name: identified, event: identify, points: 7}\n", 1))  # fmt: skip
    redeployed = Container(Settings(), storage=parts.storage, queue=Sent(), rules=rules_loader(edited))
    report = redeployed.upkeep.run(NOW)
    assert report.rules_sweep["done"] and report.rules_sweep["rescored"] == 5
    assert all((lead := redeployed.lead_views.lead(f"user:u{i}", NOW)) and lead["engagement"] == 7 for i in range(5))
