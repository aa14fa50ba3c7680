"""Salesforce engagement: outbound messages on Task, Event and CampaignMember (the envelope of a
captured Lead outbound message, tests/fixtures/salesforce, with the object's own fields), and the
REST query API's records (`records`, `done`, `nextRecordsUrl`, relationship fields nested as
objects with `attributes`), as Salesforce documents them, through HTTP and storage (each
message on its own: tests/unit/sources/test_salesforce_activity.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug import Request, Response

from chalicelib.storage.memory import InMemoryStorage
from tests.conftest import use_container
from tests.e2e.test_salesforce import PATH, XML_HEADERS, is_ack
from tests.integration.crm_fakes import Worker
from tests.payloads import envelope, notification

NOW = datetime.now(UTC).replace(microsecond=0)
QUERY = "/services/data/v60.0/query"


def sf_time(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def post(client, *notifications: str) -> Any:
    response = client.http.post(PATH, body=envelope(*notifications), headers=XML_HEADERS)
    assert response.status_code == 200 and is_ack(response.body.decode()), response.body
    return response


def engagement(parts: Any, record_id: str) -> dict[str, float]:
    lead = parts.lead_views.lead(f"salesforce:{record_id}", NOW)
    if lead is None:
        return {}
    return {c["rule"]: c["points_now"] for c in lead["card"]["contributions"] if c["kind"] == "engagement"}


def test_a_redelivered_task_is_one_event(client) -> None:
    from chalicelib.bootstrap import container

    task = {"WhoId": "00Q5g00000L2", "TaskSubtype": "Call", "Status": "Completed", "CompletedDateTime": sf_time(1)}
    post(client, notification("04la", "00T5g00000T9", "Task", **task))
    post(client, notification("04lb", "00T5g00000T9", "Task", **task))  # a new notification, the same task
    assert engagement(container(), "00Q5g00000L2") == {"sales_call": 15}


class FakeSalesforceOrg:
    """The REST query API over a few objects' records; pages of `page_size` with nextRecordsUrl."""

    def __init__(self, httpserver: Any, records: dict[str, list[dict[str, Any]]], page_size: int = 2) -> None:
        self.records, self.page_size, self.queries = records, page_size, []
        self.cursors: dict[str, tuple[str, int]] = {}
        httpserver.expect_request(re.compile(f"^{QUERY}.*"), method="GET").respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        if request.path not in (QUERY, f"{QUERY}All"):  # a nextRecordsUrl
            sobject, start = self.cursors[request.path.rsplit("/", 1)[-1]]
            return self._page(sobject, start)
        soql = request.args["q"]
        self.queries.append(soql)
        sobject = re.search(r"FROM (\w+)", soql).group(1)
        if "SELECT COUNT()" in soql:
            return Response(json.dumps({"totalSize": len(self.records.get(sobject, [])), "done": True, "records": []}))
        if "IsDeleted = true" in soql or "IsConverted = true" in soql:
            # queryAll alone returns deleted (merged-away) records; query returns converted Leads.
            flag = "IsDeleted" if "IsDeleted = true" in soql else "IsConverted"
            found = [record for record in self.records.get(sobject, []) if record.get(flag) is True
                     and (flag == "IsConverted" or request.path.endswith("queryAll"))]  # fmt: skip
            return Response(json.dumps({"totalSize": len(found), "done": True, "records": found}))
        ids = re.findall(r"'(\w+)'", soql)
        if ids:
            found = [record for record in self.records.get(sobject, []) if record["Id"] in ids]
            return Response(json.dumps({"totalSize": len(found), "done": True, "records": found}))
        return self._page(sobject, 0)

    def _page(self, sobject: str, start: int) -> Response:
        rows = self.records.get(sobject, [])
        page = rows[start : start + self.page_size]
        body: dict[str, Any] = {"totalSize": len(rows), "done": start + self.page_size >= len(rows), "records": page}
        if not body["done"]:
            token = f"01gD0000002HU6K{sobject}-{start + self.page_size}"
            self.cursors[token] = (sobject, start + self.page_size)
            body["nextRecordsUrl"] = f"{QUERY}/{token}"
        return Response(json.dumps(body), content_type="application/json")


def member(member_id: str, lead: str, campaign_type: str, status: str, responded: bool) -> dict[str, Any]:
    return {
        "attributes": {"type": "CampaignMember", "url": f"/services/data/v60.0/sobjects/CampaignMember/{member_id}"},
        "Id": member_id, "CampaignId": "7015g000000W1", "LeadId": lead, "ContactId": None,
        "Campaign": {"attributes": {"type": "Campaign", "url": "/services/data/v60.0/sobjects/Campaign/7015g000000W1"},
                     "Type": campaign_type},
        "Status": status, "HasResponded": responded, "FirstRespondedDate": sf_time(3)[:10] if responded else None,
        "CreatedDate": sf_time(5), "LastModifiedDate": sf_time(3),
    }  # fmt: skip


@pytest.fixture
def org(aws, httpserver, monkeypatch) -> Any:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00D!session")
    return httpserver


def test_a_campaign_member_is_read_with_its_campaign_type_off_the_webhook(org, client) -> None:
    """An outbound message holds the member's own fields only: the campaign's Type is read with the
    member (`Campaign.Type`) from the queue, never inside Salesforce's request."""
    fake = FakeSalesforceOrg(
        org, {"CampaignMember": [member("00v5g00000M1", "00Q5g00000L7", "Webinar", "Attended", True)]}
    )
    parts = use_container()
    post(client, notification("04lm", "00v5g00000M1", "CampaignMember", LeadId="00Q5g00000L7", Status="Attended",
                              CampaignId="7015g000000W1", HasResponded="true"))  # fmt: skip
    assert fake.queries == []  # nothing outbound in the webhook
    Worker().drain()
    assert any("FROM CampaignMember WHERE Id IN ('00v5g00000M1')" in soql for soql in fake.queries)
    assert engagement(parts, "00Q5g00000L7") == {"webinar_attended": 25}


def lead_record(n: int, title: str) -> dict[str, Any]:
    return {
        "attributes": {"type": "Lead"},
        "Id": f"00Q5g0000{n:05d}",
        "Email": f"l{n}@acme.io",
        "Title": title,
        "NumberOfEmployees": 250,
        "LastModifiedDate": sf_time(10),
        "IsConverted": False,
    }


def test_import_reads_leads_contacts_members_tasks_and_events_page_by_page(org) -> None:
    task = {
        "attributes": {"type": "Task"},
        "Id": "00T5g00000TT",
        "WhoId": "00Q5g000000002",
        "TaskSubtype": "Call",
        "Status": "Completed",
        "IsClosed": True,
        "CompletedDateTime": sf_time(2),
        "LastModifiedDate": sf_time(2),
    }
    event = {
        "attributes": {"type": "Event"},
        "Id": "00U5g00000EE",
        "WhoId": "0035g00000C9",
        "Type": "Meeting",
        "StartDateTime": sf_time(1),
        "LastModifiedDate": sf_time(1),
    }
    contact = {
        "attributes": {"type": "Contact"},
        "Id": "0035g00000C9",
        "Email": "c9@acme.io",
        "Title": "CTO",
        "LastModifiedDate": sf_time(9),
    }
    records = {
        "Lead": [lead_record(n, "VP Sales" if n % 2 else "Engineer") for n in range(5)],
        "Contact": [contact],
        "CampaignMember": [member("00v5g00000M2", "00Q5g000000001", "Webinar", "Registered", False)],
        "Task": [task],
        "Event": [event],
    }  # fmt: skip
    fake = FakeSalesforceOrg(org, records)
    parts = use_container(storage=InMemoryStorage())
    reader = parts.record_readers["salesforce"]
    assert reader.total(None) == 6
    report = parts.crm_import.run(reader, NOW)
    assert report.done and report.records == 6
    # One query per object, then nextRecordsUrl, and converted Leads; the import reads no deleted records.
    assert len([q for q in fake.queries if "COUNT()" not in q]) == 6
    assert reader.calls_made == 2 + 3 + 1 + 1 + 1 + 1 + 1  # two counts, three pages of leads, one of each other
    assert engagement(parts, "00Q5g000000001") == {"webinar_registered": 10}
    assert engagement(parts, "00Q5g000000002") == {"sales_call": 15}
    assert engagement(parts, "0035g00000C9") == {"meeting_booked": 40}
    assert parts.lead_views.lead("salesforce:00Q5g000000001", NOW)["fit"] == 35  # VP, 250 employees
    again = parts.crm_import.run(reader, NOW, restart=True)
    assert (again.accepted, again.changed) == (0, 0)


def test_the_reconciliation_unites_merged_and_converted_records(org) -> None:
    """Salesforce deletes a merge's losers and sets their MasterRecordId (read with queryAll), and a
    converted Lead names its Contact: each unites the records' leads under the one that remains."""
    loser = {**lead_record(7, "VP Sales"), "Id": "00Q5g0000LOSER", "Email": "old@acme.io"}
    winner = {**lead_record(8, "VP Sales"), "Id": "00Q5g0000WINNR", "Email": "new@acme.io"}
    task = {"attributes": {"type": "Task"}, "Id": "00T5g00000T7", "WhoId": "00Q5g0000LOSER", "TaskSubtype": "Call",
            "Status": "Completed", "IsClosed": True, "CompletedDateTime": sf_time(2),
            "LastModifiedDate": sf_time(2)}  # fmt: skip
    fake = FakeSalesforceOrg(org, {"Lead": [loser, winner], "Task": [task]})
    parts = use_container(storage=InMemoryStorage())
    reader = parts.record_readers["salesforce"]
    parts.crm_import.run(reader, NOW)
    views = parts.lead_views
    assert views.find_lead_id("salesforce:00Q5g0000LOSER") != views.find_lead_id("salesforce:00Q5g0000WINNR")

    fake.records["Lead"] = [winner, {"attributes": {"type": "Lead"}, "Id": "00Q5g0000LOSER", "IsDeleted": True,
                                     "MasterRecordId": "00Q5g0000WINNR", "LastModifiedDate": sf_time(0.5)},
                            {**winner, "IsConverted": True, "ConvertedContactId": "0035g0000CONV",
                             "ConvertedDate": sf_time(0.2)[:10]}]  # fmt: skip
    fake.records["Task"] = []
    parts.crm_import.reconcile(reader, NOW)
    assert any("FROM Lead WHERE IsDeleted = true AND MasterRecordId != null" in q for q in fake.queries)
    survivor = views.find_lead_id("salesforce:0035g0000CONV")
    assert (
        views.find_lead_id("salesforce:00Q5g0000LOSER") == views.find_lead_id("salesforce:00Q5g0000WINNR") == survivor
    )
    lead = views.lead("salesforce:0035g0000CONV", NOW)
    assert lead is not None and lead["engagement"] == 15  # the loser's call, counted once on the survivor
