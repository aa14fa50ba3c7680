"""HubSpot contact merges (the webhook's `primaryObjectId` and `mergedObjectIds`, sometimes a
`newObjectId`): the leads of the merged contacts become one, each event counted once, the write-back
goes to the contact that remains and never to a merged-away one, a late event of a merged-away id
joins the lead, and a merge delivered twice (or of contacts leadscore never saw) is harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery, RecordMerge
from tests.integration.crm_fakes import FakeHubSpot, Worker, hubspot_with

NOW = datetime.now(UTC)


def _event(event_id: str, kind: str, contact: str) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=NOW - timedelta(minutes=10),
                     identities=Identities(hubspot_id=contact))  # fmt: skip


def _ingest(delivery: ParsedDelivery) -> None:
    container().ingestion.ingest(delivery, NOW)


def _merge(winner: str, *losers: str) -> ParsedDelivery:
    return ParsedDelivery(merges=[RecordMerge("hubspot", winner, losers, NOW - timedelta(minutes=1))])


@pytest.fixture
def hubspot(aws: Any, httpserver: Any, monkeypatch: Any) -> FakeHubSpot:
    return hubspot_with(httpserver, monkeypatch, "501", "502", "503")


def test_a_merge_unites_the_leads_counts_once_and_writes_only_to_the_survivor(hubspot: FakeHubSpot) -> None:
    _ingest(ParsedDelivery(events=[_event("demo", "Demo Requested", "501"), _event("web", "Webinar Attended", "502"),
                                   _event("demo-again", "Demo Requested", "502")]))  # fmt: skip
    Worker().drain()
    views = container().lead_views
    assert views.find_lead_id("hubspot:501") != views.find_lead_id("hubspot:502")
    hubspot.calls.clear()

    _ingest(_merge("501", "502"))
    survivor = views.find_lead_id("hubspot:501")
    assert views.find_lead_id("hubspot:502") == survivor  # the merged-away id still finds it
    lead = views.lead("hubspot:501", NOW)
    assert lead is not None and lead["engagement"] == 75  # one demo (capped at once) and the webinar
    assert "hubspot:502" not in lead["identities"]
    assert lead["tier_changes"][0]["reason"] == "merged in HubSpot: 502 into 501"
    activity = views.activity("hubspot:501", views_query(), NOW)
    assert activity is not None and activity["activity"][0]["title"] == "Merged in HubSpot: 502 into 501"

    Worker().drain()
    written = [item["id"] for call in hubspot.calls for item in call["inputs"]]
    assert written == ["501"] and hubspot.contacts["501"]["lead_score"] == "75"

    # A late event of the merged-away id joins the survivor; nothing is written to it ever.
    _ingest(ParsedDelivery(events=[_event("late", "Webinar Registered", "502")]))
    Worker().drain()
    assert views.find_lead_id("hubspot:502") == survivor
    assert all(item["id"] != "502" for call in hubspot.calls for item in call["inputs"])

    # Delivered again: the same one lead, the same score.
    before = views.lead("hubspot:501", NOW)
    _ingest(_merge("501", "502"))
    after = views.lead("hubspot:501", NOW)
    assert after is not None and before is not None and after["score"] == before["score"]


def test_a_merge_into_a_new_record_and_a_merge_of_unknown_contacts(hubspot: FakeHubSpot) -> None:
    _ingest(ParsedDelivery(events=[_event("d", "Demo Requested", "503")]))
    Worker().drain()
    hubspot.add("900")
    _ingest(_merge("900", "503"))  # HubSpot made a new contact 900 of 503 (newObjectId)
    Worker().drain()
    assert hubspot.contacts["900"]["lead_score"] == "50"
    views = container().lead_views
    assert views.find_lead_id("hubspot:503") == views.find_lead_id("hubspot:900")

    _ingest(_merge("7001", "7002"))  # never seen: a lead holding both ids, so their events join it
    _ingest(ParsedDelivery(events=[_event("d2", "Demo Requested", "7002")]))
    assert views.find_lead_id("hubspot:7001") == views.find_lead_id("hubspot:7002")


def test_the_losers_deletion_and_a_restore_after_a_merge_lose_nothing(hubspot: FakeHubSpot) -> None:
    """HubSpot may report the merged-away contact deleted, and a contact can be restored: the united
    lead keeps every event through both."""
    from chalicelib.service_layer.commands import Deletion, ProfileRef

    _ingest(ParsedDelivery(events=[_event("d1", "Demo Requested", "501"), _event("w1", "Webinar Attended", "502")]))
    _ingest(_merge("501", "502"))
    views = container().lead_views
    survivor = views.find_lead_id("hubspot:501")
    _ingest(ParsedDelivery(deletions=[Deletion(Identities(hubspot_id="502"), "contact.deletion")]))
    lead = views.lead("hubspot:501", NOW)
    assert lead is not None and lead["lead_id"] == survivor and lead["engagement"] == 75
    # contact.restore of the merged-away id: read again, joined to the same lead, nothing lost.
    restore = ParsedDelivery(events=[LeadEvent(event_id="r1", source="hubspot", type="profile_updated",
                                               occurred_at=NOW, identities=Identities(hubspot_id="502"),
                                               properties={"profile": {}})],
                             profiles_to_fetch=[ProfileRef("hubspot", "502")])  # fmt: skip
    _ingest(restore)
    Worker().drain()
    after = views.lead("hubspot:502", NOW)
    assert after is not None and after["lead_id"] == survivor and after["engagement"] == 75
    # The survivor's own deletion still deletes (a real deletion, not a merge).
    _ingest(ParsedDelivery(deletions=[Deletion(Identities(hubspot_id="501"), "contact.deletion")]))
    assert views.lead("hubspot:501", NOW) is None


def test_hubspot_contact_restore_is_read_like_a_creation() -> None:
    import json

    from chalicelib.sources.base import IncomingRequest
    from chalicelib.sources.hubspot import parse

    body = json.dumps([{"eventId": 7, "subscriptionId": 1, "portalId": 62515, "appId": 1, "occurredAt": 1764583200000,
                        "subscriptionType": "contact.restore", "attemptNumber": 0, "objectId": 502,
                        "changeSource": "CRM_UI"}]).encode()  # fmt: skip
    request = IncomingRequest("POST", "http://localhost/webhooks/hubspot", {}, body, {}, NOW)
    delivery = parse(request)
    assert [event.identities.as_keys() for event in delivery.events] == [["hubspot:502"]]
    assert [ref.record_id for ref in delivery.profiles_to_fetch] == ["502"]


def views_query() -> Any:
    from chalicelib.service_layer.lead_views import ActivityQuery

    return ActivityQuery.model_validate({})
