"""Every lead carries where it lives in the CRMs: a link that opens its record (HubSpot from the
delivery's portalId, Salesforce from the outbound message's EnterpriseUrl), its owner's name (read
by the CRM sync at most once an hour from the owners APIs, never in a webhook), its stage and its
outcome; on the lead and on every leads-list row. HubSpot and Salesforce are local HTTP servers
answering as their APIs are documented: HubSpot's `GET /crm/v3/owners` a CollectionResponse of
PublicOwner (`id`, `email`, `firstName`, `lastName`, `userId`, `archived`) with `paging.next.after`
(HubSpot's OpenAPI, as generated into damianh/HubSpot src/HubSpot.Crm.Owners/docs/OwnersApi.md);
Salesforce's REST query result (`totalSize`, `done`, `nextRecordsUrl`, `records` with
`attributes`), as the record reader's tests serve it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug import Request, Response

from chalicelib.entrypoints.schedule import run_crm_sync
from tests import signing
from tests.conftest import SECRETS, admin_get, json_body, use_container
from tests.payloads import envelope, notification

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
SF_PATH = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"


def _json(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def _change(event_id: int, name: str, value: str) -> dict[str, Any]:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": 62515, "appId": 1, "attemptNumber": 0,
            "occurredAt": int(time.time() * 1000) - 60_000, "subscriptionType": "contact.propertyChange",
            "objectId": 901, "changeSource": "CRM", "propertyName": name, "propertyValue": value}  # fmt: skip


def test_hubspot_link_owner_and_stage_on_the_lead_and_its_row(client, httpserver, monkeypatch) -> None:
    calls: list[str] = []

    def owners(request: Request) -> Response:
        calls.append(request.full_path)
        query = parse_qs(urlsplit(request.full_path).query)
        if query["archived"] == ["true"]:
            return _json({"results": [{"id": "77", "firstName": "Gone", "lastName": "Owner", "archived": True}]})
        if "after" not in query:
            return _json({"results": [{"id": "101", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@x.io"}],
                          "paging": {"next": {"after": "101", "link": "..."}}})  # fmt: skip
        return _json({"results": [{"id": "102", "firstName": "", "lastName": "", "email": "grace@x.io"}]})

    httpserver.expect_request("/crm/v3/owners", method="GET").respond_with_handler(owners)
    httpserver.expect_request("/crm/v3/objects/contacts/search", method="POST").respond_with_json(
        {"total": 0, "results": []}
    )
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container()

    events = [_change(1, "email", "kim@hooli.com"), _change(2, "hubspot_owner_id", "101"),
              _change(3, "lifecyclestage", "salesqualifiedlead")]  # fmt: skip
    body, headers = signing.hubspot_v3("/webhooks/hubspot", events)
    assert client.http.post("/webhooks/hubspot", body=body, headers=headers).status_code == 200
    assert calls == []  # no CRM call inside the webhook

    before = json_body(admin_get(client, "/leads/hubspot:901"))
    assert before["owner"] == {"crm": "hubspot", "id": "101", "name": None}  # not read yet: shown by its id
    run_crm_sync(lambda: 600.0, lambda: NOW)
    assert len(calls) == 3  # two pages of owners, one of archived owners
    run_crm_sync(lambda: 600.0, lambda: NOW + timedelta(minutes=59))
    assert len(calls) == 3  # at most once an hour
    lead = json_body(admin_get(client, "/leads/hubspot:901"))
    assert lead["crm_links"] == {"hubspot": "https://app.hubspot.com/contacts/62515/record/0-1/901"}
    assert lead["owner"] == {"crm": "hubspot", "id": "101", "name": "Ada Lovelace"}
    assert lead["stage"] == "salesqualifiedlead" and lead["outcome"] is None
    [row] = json_body(admin_get(client, "/leads"))["leads"]
    assert {name: row[name] for name in ("crm_links", "owner", "stage", "outcome")} == {
        name: lead[name] for name in ("crm_links", "owner", "stage", "outcome")
    }
    assert "profile_json" not in row and "keys" not in row

    run_crm_sync(lambda: 600.0, lambda: NOW + timedelta(minutes=61))
    assert len(calls) == 6
    # An owner the CRM no longer lists, or never did: shown by its id, never an error.
    body, headers = signing.hubspot_v3("/webhooks/hubspot", [_change(4, "hubspot_owner_id", "999")])
    assert client.http.post("/webhooks/hubspot", body=body, headers=headers).status_code == 200
    assert json_body(admin_get(client, "/leads/hubspot:901"))["owner"] == {"crm": "hubspot", "id": "999", "name": None}


def test_hubspot_portal_from_the_environment_when_no_delivery_named_it(client, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "4411")
    monkeypatch.setenv("HUBSPOT_APP_URL", "https://app-eu1.hubspot.com")
    use_container()
    event = {**_change(1, "email", "eu@hooli.com"), "portalId": None}
    body, headers = signing.hubspot_v3("/webhooks/hubspot", [event])
    assert client.http.post("/webhooks/hubspot", body=body, headers=headers).status_code == 200
    lead = json_body(admin_get(client, "/leads/hubspot:901"))
    assert lead["crm_links"] == {"hubspot": "https://app-eu1.hubspot.com/contacts/4411/record/0-1/901"}
    assert lead["owner"] is None and lead["stage"] is None


def _records(kind: str, *people: tuple[str, str], following: str | None = None) -> Response:
    records = [{"attributes": {"type": kind}, "Id": owner, "Name": name} for owner, name in people]
    page = {"totalSize": len(records), "done": following is None, "records": records}
    return _json({**page, "nextRecordsUrl": following} if following else page)


def test_salesforce_link_owner_queue_and_status(client, httpserver, monkeypatch) -> None:
    queries: list[str] = []
    next_page = "/services/data/v60.0/query/01g-2000"

    def query(request: Request) -> Response:
        soql = parse_qs(urlsplit(request.full_path).query).get("q", [""])[0]
        queries.append(soql)
        if "FROM User" in soql:
            return _records("User", ("0055g00000AAAAAAAA", "Sam Rep"), following=next_page)
        if "FROM Group" in soql:
            return _records("Group", ("00G5g00000QQQQQQQQ", "EMEA queue"))
        return _records("Lead")

    def second_page(request: Request) -> Response:
        queries.append("page 2")
        return _records("User", ("0055g00000BBBBBBBB", "Former Rep"))

    httpserver.expect_request("/services/data/v60.0/query", method="GET").respond_with_handler(query)
    httpserver.expect_request(next_page, method="GET").respond_with_handler(second_page)
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00D-session")
    use_container()

    body = envelope(
        notification("04l1", "00Q5g00000A1AAAAAA", Email="ann@umbrella.com", Status="Working - Contacted",
                     OwnerId="0055g00000AAAAAAAA"),
        notification("04l2", "00Q5g00000A2AAAAAA", Email="joe@umbrella.com", OwnerId="00G5g00000QQQQQQQQ"),
    )  # fmt: skip
    assert client.http.post(SF_PATH, body=body, headers={"Content-Type": "text/xml"}).status_code == 200
    run_crm_sync(lambda: 600.0, lambda: NOW)
    assert sum(1 for soql in queries if "FROM User" in soql or "FROM Group" in soql) == 2 and "page 2" in queries

    ann = json_body(admin_get(client, "/leads/salesforce:00Q5g00000A1AAAAAA"))
    assert ann["crm_links"] == {"salesforce": "https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000A1AAAAAA/view"}
    assert ann["owner"] == {"crm": "salesforce", "id": "0055g00000AAAAAAAA", "name": "Sam Rep"}
    assert ann["stage"] == "Working - Contacted"
    joe = json_body(admin_get(client, "/leads/salesforce:00Q5g00000A2AAAAAA"))
    assert joe["owner"]["name"] == "EMEA queue"
