"""Pipedrive webhooks on their own: HTTP Basic credentials (Pipedrive does not sign), the v2 bodies
in the shape of Pipedrive's webhooks v2 migration guide examples (tests/fixtures/pipedrive) and v1
bodies in the documented v1 shape: a person is a profile under `pipedrive:ID`, an organization an
account, a done activity and a created lead or deal engagement, a deal won an outcome, a merge
(delete with `merged_to_id`, change with `merged_from_id`, v1 `merged.person`) a RecordMerge; a
retry counts once; ids as strings in `meta` and numbers (or UUIDs) in `data`."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.service_layer.commands import RecordMerge
from chalicelib.service_layer.errors import ClientError
from tests import signing
from tests.unit.sources.conftest import fixture, receive, refused, understood

PATH = "/webhooks/pipedrive"


def delivered(payload: Any) -> Any:
    body, headers = signing.pipedrive(payload)
    return receive("pipedrive", PATH, body, headers)


def test_a_v2_person_is_a_profile_under_its_pipedrive_key() -> None:
    events = delivered(fixture("pipedrive/v2-person-create.json")).events
    lead = understood(events)
    assert lead["identities"] == ["email:maria@globex.example", "pipedrive:42"]
    assert lead["profile"] == {"email": "maria@globex.example", "first_name": "Maria", "last_name": "Lopez",
                               "phone": "+34 600 000 000", "pipedrive_org_id": "7",
                               "pipedrive_owner_id": "18820001"}  # fmt: skip


def test_a_retry_is_the_same_event_and_a_change_of_nothing_read_is_ignored() -> None:
    first = json.loads(fixture("pipedrive/v2-person-create.json"))
    retry = json.loads(fixture("pipedrive/v2-person-create.json"))
    retry["meta"]["attempt"] = 3
    assert [e.event_id for e in delivered(first).events] == [e.event_id for e in delivered(retry).events]
    ours = json.loads(fixture("pipedrive/v2-person-create.json"))
    ours["meta"].update(action="change", id="1b2c3d4e-0000-4000-8000-000000000001", change_source="api")
    ours["data"]["custom_fields"] = {"a1b2c3": {"type": "double", "value": 75}}
    ours["previous"] = {"custom_fields": {"a1b2c3": None}, "update_time": "2026-12-01T09:00:00Z"}
    assert delivered(ours).ignored == 1  # our own write-back, come back as a change


def test_activities_leads_deals_and_outcomes() -> None:
    call = delivered(fixture("pipedrive/v2-activity-create.json")).events
    assert [(e.event_id, e.type, e.identities.as_keys()) for e in call] == [("activity-301", "call", ["pipedrive:42"])]
    not_done = json.loads(fixture("pipedrive/v2-activity-create.json"))
    not_done["data"]["done"] = False
    assert delivered(not_done).ignored == 1  # a planned call is not a call
    lead = delivered(fixture("pipedrive/v2-lead-create.json")).events
    assert [(e.type, e.event_id) for e in lead] == [
        ("crm_lead_created", "lead-adf21080-0e10-11eb-879b-05d71fb426ec-created")
    ]
    deal = delivered(fixture("pipedrive/v2-deal-create.json")).events
    assert [(e.type, e.event_id) for e in deal] == [("deal_created", "deal-88-created")]
    won = delivered(fixture("pipedrive/v2-deal-change-won.json")).events
    assert [e.properties["profile"] for e in won] == [{"lead_status": "closed won"}]
    person = delivered(fixture("pipedrive/v2-person-create.json")).events
    scored = understood(person + call + lead + deal)
    assert scored["points"] == {"sales_call": 15, "crm_lead_created": 10, "deal_created": 30}
    other = json.loads(fixture("pipedrive/v2-deal-change-won.json"))
    other["previous"] = {"value": 100}  # a won deal's value edited: no new outcome
    assert delivered(other).ignored == 1


def test_an_organization_is_an_account() -> None:
    companies = delivered(fixture("pipedrive/v2-organization-create.json")).companies
    assert [(c.key, c.profile, c.created) for c in companies] == [("pipedrive:7", {"company": "Globex Iberia"}, True)]


def test_merges_in_v2_and_v1() -> None:
    deleted = delivered(fixture("pipedrive/v2-person-delete-merged.json"))
    changed = delivered(fixture("pipedrive/v2-person-change-merged.json"))
    for delivery in (deleted, changed):
        assert [(m.kind, m.winner, m.losers) for m in delivery.merges] == [("pipedrive", "42", ("43",))]
    assert deleted.deletions == [] and deleted.events == []
    plain = json.loads(fixture("pipedrive/v2-person-delete-merged.json"))
    del plain["meta"]["merged_to_id"]
    assert [d.identities.as_keys() for d in delivered(plain).deletions] == [["pipedrive:43"]]
    v1 = {"v": 1, "event": "merged.person", "retry": 0,
          "meta": {"v": 1, "action": "merged", "object": "person", "id": 42, "timestamp": 1764763201,
                   "timestamp_micro": 1764763201000100, "company_id": 9301234, "user_id": 18820001},
          "current": {"id": 42, "name": "Maria Lopez", "first_name": "Maria", "last_name": "Lopez",
                      "email": [{"value": "maria@globex.example", "primary": True}], "org_id": 7},
          "previous": {"id": 43, "name": "Maria Lopez",
                       "email": [{"value": "maria.lopez@gmail.example", "primary": True}]}}  # fmt: skip
    assert delivered(v1).merges == [RecordMerge("pipedrive", "42", ("43",), delivered(v1).merges[0].at)]


def test_the_v1_updated_person_shape() -> None:
    """The v1 body (`current`/`previous` whole records, `email` list, `org_name`, ids as numbers)."""
    v1 = {"v": 1, "event": "updated.person", "retry": 1,
          "meta": {"v": 1, "action": "updated", "object": "person", "id": 11, "timestamp": 1764580000,
                   "timestamp_micro": 1764580000123456, "company_id": 9301234, "user_id": 18820001,
                   "host": "northwind.pipedrive.com"},
          "current": {"id": 11, "name": "Ola Nordmann", "first_name": "Ola", "last_name": "Nordmann",
                      "email": [{"value": "ola@fjord.example", "primary": True}],
                      "phone": [{"value": "", "primary": True}], "org_id": {"value": 5, "name": "Fjord AS"},
                      "org_name": "Fjord AS", "owner_id": {"id": 18820001, "value": 18820001},
                      "job_title": "CTO", "update_time": "2026-12-01 10:00:00"},
          "previous": {"id": 11, "name": "Ola Nordmann", "first_name": "Ola", "last_name": "Nordmann",
                       "email": [{"value": "ola@fjord.example", "primary": True}], "org_id": None, "job_title": None,
                       "update_time": "2026-11-30 10:00:00"}}  # fmt: skip
    lead = understood(delivered(v1).events)
    assert lead["identities"] == ["email:ola@fjord.example", "pipedrive:11"]
    assert {k: lead["profile"][k] for k in ("company", "job_title", "pipedrive_org_id")} == {
        "company": "Fjord AS", "job_title": "CTO", "pipedrive_org_id": "5"}  # fmt: skip


def test_credentials() -> None:
    body = fixture("pipedrive/v2-person-create.json")
    for user, password in (("leadscore-pipedrive", "wrong"), ("someone", "pipedrive-password-0123456789")):
        _, headers = signing.pipedrive(body, user, password)
        assert refused("pipedrive", PATH, body, headers=headers).status == 401
    for header in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer pipedrive-password-0123456789"}):
        assert refused("pipedrive", PATH, body, headers=header).status == 401


def test_bad_bodies_are_400s_and_other_objects_are_ignored() -> None:
    for payload, field in (({"data": {}}, "meta"), ({"meta": {"action": "create"}}, "meta.entity"),
                           ({"meta": {"action": "create", "entity": "person"}, "data": [1]}, "data")):  # fmt: skip
        body, headers = signing.pipedrive(payload)
        assert refused("pipedrive", PATH, body, headers=headers).field == field
    note = {"meta": {"action": "create", "entity": "note", "entity_id": "1", "id": "n1"}, "data": {"id": 1}}
    assert delivered(note).ignored == 1


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12),
       st.sampled_from(["person", "organization", "activity", "deal", "lead"]),
       st.sampled_from(["create", "change", "delete"]))  # fmt: skip
def test_any_record_is_a_delivery_or_a_400(data: Any, entity: str, action: str) -> None:
    body, headers = signing.pipedrive({"meta": {"action": action, "entity": entity, "entity_id": "9", "id": "x"},
                                       "data": data, "previous": data if isinstance(data, dict) else None})  # fmt: skip
    try:
        receive("pipedrive", PATH, body, headers)
    except ClientError as exc:
        assert exc.status == 400
