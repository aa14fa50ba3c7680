"""A lead's CRM links, owner and stage from its keys and profile."""

from __future__ import annotations

from chalicelib.domain.crm_context import CrmPlaces, crm_links, owner_of, stage_of
from chalicelib.domain.profile import Profile

PLACES = CrmPlaces(hubspot_portal_id="", salesforce_url="")


def test_a_lead_in_both_crms_has_one_link_each() -> None:
    profile = Profile(hubspot_portal_id="62515", salesforce_url="https://acme.my.salesforce.com")
    keys = [
        "email:a@b.io",
        "hubspot:12",
        "hubspot:13",
        "salesforce:00Q5g00000A1AAAAAA",
        "salesforce:0035g00000B2BBBBBB",
    ]
    assert crm_links(keys, profile, PLACES) == {
        "hubspot": "https://app.hubspot.com/contacts/62515/record/0-1/12",
        "salesforce": "https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000A1AAAAAA/view",
    }
    contact = crm_links(["salesforce:0035g00000B2BBBBBB"], profile, PLACES)
    assert contact == {"salesforce": "https://acme.my.salesforce.com/lightning/r/Contact/0035g00000B2BBBBBB/view"}


def test_without_an_address_there_is_no_link_and_a_hostile_one_is_never_used() -> None:
    assert crm_links(["hubspot:12", "salesforce:00Q5g00000A1AAAAAA"], Profile(), PLACES) == {}
    hostile = CrmPlaces(salesforce_url="javascript:alert(1)//x.salesforce.com")
    assert crm_links(["salesforce:00Q5g00000A1AAAAAA"], Profile(), hostile) == {}
    assert crm_links(["hubspot:12'><script>"], Profile(hubspot_portal_id="1"), PLACES) == {}


def test_owner_and_stage_as_the_crm_says_them() -> None:
    profile = Profile(hubspot_owner_id="101", lifecycle_stage="some_custom_stage", lead_status="OPEN")
    assert owner_of(profile, {}) == {"crm": "hubspot", "id": "101", "name": None}
    assert owner_of(profile, {("hubspot", "101"): "Ada"})["name"] == "Ada"
    assert owner_of(Profile(), {}) is None
    assert stage_of(profile) == "some_custom_stage" and stage_of(Profile(lead_status="Open")) == "Open"
