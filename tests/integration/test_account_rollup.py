"""Accounts rolled up from their contacts (DynamoDB through moto, the task queue, a HubSpot stand-in
over real HTTP): two contacts of one company engage, the account's score counts both with their
reasons, and one companies/batch/update carries it; a contact who changes company leaves the old
account's roll-up; a roll-up reads a bounded page whatever the account's size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import use_container
from tests.integration.crm_fakes import FakeHubSpot, Worker, hubspot_with

NOW = datetime.now(UTC)


def _event(event_id: str, kind: str, contact: str, **properties: Any) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind,
                     occurred_at=NOW - timedelta(minutes=5), identities=Identities(hubspot_id=contact),
                     properties=properties)  # fmt: skip


def _contact(contact: str, company: str | None, first_name: str, at: int = 0) -> LeadEvent:
    profile = {"first_name": first_name, "last_name": "Doe", "email": f"{first_name.lower()}@initech.com",
               "company": "Initech", "company_size": "250", "industry": "Software",
               "hubspot_company_id": company}  # fmt: skip
    return _event(f"profile-{contact}-{at}", "profile_updated", contact, profile=profile)


def _ingest(*events: LeadEvent) -> None:
    container().ingestion.ingest(ParsedDelivery(events=list(events)), NOW)


@pytest.fixture
def hubspot(aws: Any, httpserver: Any, monkeypatch: Any) -> FakeHubSpot:
    fake = hubspot_with(httpserver, monkeypatch, "101", "102", "103")
    fake.companies["555"] = {}
    return fake


def test_two_engaged_contacts_roll_up_into_their_company_and_its_hubspot_record(hubspot: FakeHubSpot) -> None:
    _ingest(_contact("101", "555", "Ada"), _contact("102", "555", "Grace"),
            _event("demo-101", "Demo Requested", "101"), _event("webinar-102", "Webinar Attended", "102"))  # fmt: skip
    assert hubspot.company_calls == []  # nothing inside the webhook request
    Worker().drain()

    account = container().storage.accounts.get("hubspot:555")
    assert account is not None and account.card is not None
    card = account.card
    assert account.name == "Initech"
    assert card.fit == 30  # 100-999 employees, a target industry: the contacts' profiles say so
    assert card.engagement == 75  # Ada's demo (50) and Grace's webinar (25)
    assert card.engaged_contacts == 2 and card.breadth == 10
    assert card.score == 115 and card.tier == "warm"
    named = [item.line() for item in card.contributions if item.kind == "contact"]
    assert named[0].startswith("Ada Doe (+50): Requested a demo") and named[1].startswith("Grace Doe (+25): Attended a")
    assert len(hubspot.company_calls) == 1
    assert hubspot.companies["555"] == {
        "account_score": "115",
        "account_tier": "warm",
        "account_engaged_contacts": "2",
        "account_score_reasons": card.reasons_line(),
    }
    assert account.crm is not None and account.crm["statuses"] == {"hubspot": "written"}

    # Nothing visible changes on a second roll-up: no second call to the CRM.
    Worker().drain()
    _ingest(_event("visit-101", "Page Viewed", "101", path="/blog/x"))
    Worker().drain()
    assert container().storage.accounts.get("hubspot:555").card.engagement > 75  # type: ignore[union-attr]
    assert len(hubspot.company_calls) == 2  # the visit moved the score: one more batch call


def test_a_contact_who_changes_company_leaves_the_old_accounts_roll_up(hubspot: FakeHubSpot) -> None:
    hubspot.companies["777"] = {}
    _ingest(_contact("101", "555", "Ada"), _contact("102", "555", "Grace"),
            _event("demo-101", "Demo Requested", "101"), _event("demo-102", "Demo Requested", "102"))  # fmt: skip
    Worker().drain()
    assert container().storage.accounts.get("hubspot:555").card.engaged_contacts == 2  # type: ignore[union-attr]

    _ingest(_contact("102", "777", "Grace", at=1))  # Grace moved to another company
    Worker().drain()
    old = container().storage.accounts.get("hubspot:555")
    new = container().storage.accounts.get("hubspot:777")
    assert old is not None and old.card is not None and new is not None and new.card is not None
    assert (old.card.engaged_contacts, old.card.engagement) == (1, 50)
    assert (new.card.engaged_contacts, new.card.engagement) == (1, 50)
    assert hubspot.companies["555"]["account_engaged_contacts"] == "1"
    assert hubspot.companies["777"]["account_engaged_contacts"] == "1"
    lead = container().lead_views.lead("hubspot:102", NOW)
    assert lead is not None and lead["account"]["key"] == "hubspot:777"


def test_a_group_call_or_a_business_domain_makes_an_account_with_no_crm_record(hubspot: FakeHubSpot) -> None:
    grouped = LeadEvent(event_id="g1", source="segment", type="profile_updated", occurred_at=NOW - timedelta(hours=1),
                        identities=Identities(user_id="u1"),
                        properties={"profile": {"account_id": "grp-9"}})  # fmt: skip
    _ingest(grouped, LeadEvent(event_id="d1", source="segment", type="Demo Requested", occurred_at=NOW,
                               identities=Identities(user_id="u1")))  # fmt: skip
    Worker().drain()
    account = container().storage.accounts.get("group:grp-9")
    assert account is not None and account.card is not None and account.card.engagement == 50
    assert hubspot.company_calls == []  # a Segment group is no HubSpot company
    assert account.crm is not None and account.crm["statuses"] == {}


def test_a_roll_up_reads_a_bounded_page_whatever_the_accounts_size(hubspot: FakeHubSpot) -> None:
    storage = container().storage
    contacts = [(f"c{index}", f"Person{index}") for index in range(70)]
    company = {"hubspot_company_id": "900"}
    profiles = [_event(f"p{index}", "profile_updated", contact, profile={**company, "first_name": name})
                for index, (contact, name) in enumerate(contacts)]  # fmt: skip
    visits = [_event(f"v{index}", "Webinar Attended", contact) for index, (contact, _) in enumerate(contacts)]
    _ingest(*profiles, *visits)
    read: list[int] = []

    def count(parsed: dict[str, Any], **_: Any) -> None:
        read.append(len(parsed.get("Items", [])))

    client = storage.table.client  # type: ignore[attr-defined]
    client.meta.events.register("after-call.dynamodb.Query", count)
    state = container().account_rollups.roll_up("hubspot:900", NOW)
    client.meta.events.unregister("after-call.dynamodb.Query", count)
    assert read == [52]  # one Query: the account item, the 50 a roll-up reads, one to know there are more
    assert state is not None and state.card is not None
    assert state.card.engaged_contacts == 50 and state.card.engaged_more
    assert state.card.breadth == 40 and state.card.engagement == 75


def test_a_salesforce_contacts_account_is_written_to_its_account_record(aws: Any, httpserver: Any,
                                                                         monkeypatch: Any) -> None:  # fmt: skip
    from tests.integration.crm_fakes import FakeSalesforce

    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for(""))
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "token-1")
    use_container()
    salesforce = FakeSalesforce(httpserver)
    account_id = "0015g00000XyZabAAB"
    salesforce.records[account_id] = {"Name": "Initech"}
    for index, contact in enumerate(("0035g00000Aaaa1AAB", "0035g00000Aaaa2AAB")):
        salesforce.add(contact, f"p{index}@initech.com")
    _ingest(*(LeadEvent(event_id=f"sf-{contact}", source="salesforce", type="profile_updated",
                        occurred_at=NOW - timedelta(hours=1), identities=Identities(salesforce_id=contact),
                        properties={"profile": {"salesforce_account_id": account_id, "salesforce_object": "Contact",
                                                "email": f"p{index}@initech.com"}})
              for index, contact in enumerate(("0035g00000Aaaa1AAB", "0035g00000Aaaa2AAB"))),
            *(LeadEvent(event_id=f"demo-{contact}", source="segment", type="Demo Requested", occurred_at=NOW,
                        identities=Identities(salesforce_id=contact))
              for contact in ("0035g00000Aaaa1AAB", "0035g00000Aaaa2AAB")))  # fmt: skip
    Worker().drain()
    account_calls = [call for call in salesforce.calls if call["records"][0]["attributes"]["type"] == "Account"]
    assert len(account_calls) == 1  # one composite call carries the account
    record = salesforce.records[account_id]
    assert record["Account_Score__c"] == 110 and record["Account_Tier__c"] == "warm"  # 50 + 50, 10 for breadth
    assert record["Account_Engaged_Contacts__c"] == 2
    reasons = record["Account_Score_Reasons__c"]
    assert "p0@initech.com (+50): Requested a demo" in reasons and "2 engaged contacts (+10)" in reasons


def test_a_deleted_contact_leaves_its_accounts_roll_up(hubspot: FakeHubSpot) -> None:
    from chalicelib.service_layer.commands import Deletion

    _ingest(_contact("101", "555", "Ada"), _contact("102", "555", "Grace"),
            _event("demo-101", "Demo Requested", "101"), _event("demo-102", "Demo Requested", "102"))  # fmt: skip
    Worker().drain()
    assert container().storage.accounts.get("hubspot:555").card.engaged_contacts == 2  # type: ignore[union-attr]
    gone = ParsedDelivery(deletions=[Deletion(Identities(hubspot_id="102"), reason="contact.privacyDeletion")])
    container().ingestion.ingest(gone, NOW)
    Worker().drain()
    account = container().storage.accounts.get("hubspot:555")
    assert account is not None and account.card is not None
    assert (account.card.engaged_contacts, account.card.engagement) == (1, 50)
    assert hubspot.companies["555"]["account_engaged_contacts"] == "1"
