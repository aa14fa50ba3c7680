"""Day one: a HubSpot portal's 1,000 existing contacts (300 with conversions, email opens, visits
or meetings) are imported through the CRM API as HubSpot serves it (a real local HTTP server),
every contact is scored, the 300 get engagement, and the write-back goes in full batches.

The 1,000-contact runs keep leads in the storage port's in-memory implementation (the queue is
moto's SQS): moto copies the whole table for every item of every DynamoDB transaction, which
makes a thousand transactions take minutes. What the import costs in DynamoDB is measured
against moto on a smaller portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.cli import main as cli
from chalicelib.storage.memory import InMemoryStorage
from tests.conftest import use_container
from tests.e2e.test_hubspot import change, post
from tests.integration.crm_fakes import FakeHubSpotPortal, Worker

NOW = datetime.now(UTC).replace(microsecond=0)
LIST = "/crm/v3/objects/contacts"
ACTIVITY = ("conversion", "open", "visit", "meeting")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def portal_contacts(count: int = 1000, active: int = 300) -> list[dict[str, Any]]:
    """Contacts as the v3 API returns them (every value a string, datetimes ISO 8601 with ms and Z)."""
    contacts = []
    for n in range(1, count + 1):
        properties = {"email": f"person{n}@company{n % 37}.com", "jobtitle": "Engineer", "numemployees": "20"}
        if n <= active:
            days_ago = NOW - timedelta(days=1 + n % 20)
            kind = ACTIVITY[n % 4]
            if kind == "conversion":
                properties |= {"recent_conversion_event_name": "Download the ebook", "num_conversion_events": "1",
                               "recent_conversion_date": iso(days_ago)}  # fmt: skip
            elif kind == "open":
                properties |= {"hs_email_last_open_date": iso(days_ago), "hs_email_last_email_name": "Newsletter 12"}
            elif kind == "visit":
                properties |= {"hs_analytics_last_visit_timestamp": iso(days_ago),
                               "hs_analytics_last_url": "https://www.example.com/pricing"}  # fmt: skip
            else:
                properties |= {"engagements_last_meeting_booked": iso(days_ago)}
        updated = NOW - timedelta(days=30) + timedelta(seconds=n)
        contacts.append({"id": str(n), "properties": properties, "updatedAt": iso(updated)})
    return contacts


class FakeTime:
    """The rate limiter's clock and sleep: waiting advances time, nothing really sleeps."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def serve_portal(httpserver, monkeypatch, contacts: list[dict[str, Any]], **parts: Any) -> Any:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test-token")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    fake = FakeHubSpotPortal(httpserver, contacts)
    parts = use_container(**parts)
    fake.time = FakeTime()
    limit = parts.record_readers["hubspot"].calls.limit
    limit.clock, limit.sleep = fake.time.clock, fake.time.sleep
    search = parts.record_readers["hubspot"].search_limit
    search.clock, search.sleep = fake.time.clock, fake.time.sleep
    fake.parts = parts
    return fake


@pytest.fixture
def portal(aws, httpserver, monkeypatch) -> Any:
    return serve_portal(httpserver, monkeypatch, portal_contacts(), storage=InMemoryStorage())


@pytest.fixture
def small_portal(aws, httpserver, monkeypatch) -> Any:
    """Five pages of contacts: enough for cursors, retries and limits."""
    return serve_portal(httpserver, monkeypatch, portal_contacts(500, 150), storage=InMemoryStorage())


def scored(parts: Any) -> dict[str, dict[str, Any]]:
    rows = {}
    for row in parts.storage.listing.report_rows():
        rows[row["lead_id"]] = row
    return rows


def test_an_import_costs_at_most_two_dynamodb_requests_per_contact(aws, httpserver, monkeypatch) -> None:
    portal = serve_portal(httpserver, monkeypatch, portal_contacts(count=150, active=45))
    parts = portal.parts
    aws.reset()
    report = parts.crm_import.run(parts.record_readers["hubspot"], NOW)
    assert report.records == 150 and len(scored(parts)) == 150
    assert aws.count / 150 <= 2, f"{aws.count} DynamoDB requests for 150 contacts: {sorted(set(aws.calls))}"
    aws.reset()
    again = parts.crm_import.run(parts.record_readers["hubspot"], NOW, restart=True)
    assert (again.accepted, again.changed) == (0, 0)
    assert aws.count / 150 <= 2


def test_every_existing_contact_is_scored_and_written_back_in_full_batches(portal, client, capsys) -> None:
    parts = portal.parts
    assert cli(["import", "hubspot"], parts) == 0
    out, err = capsys.readouterr()
    assert "imported 1000 records in 10 pages" in out
    assert "hubspot API calls: 11" in out  # 10 pages + 1 search for the total (the ETA)
    assert "1000/1000" in err  # the progress bar: count, rate and ETA
    assert portal.count(LIST) == 10

    assert len(scored(parts)) == 1000
    engaged = {n: parts.lead_views.lead(f"hubspot:{n}", NOW)["engagement"] for n in range(1, 301)}
    assert all(points > 0 for points in engaged.values()), [n for n, points in engaged.items() if not points]
    assert {parts.lead_views.lead(f"hubspot:{n}", NOW)["engagement"] for n in range(301, 1001, 37)} == {0}
    meeting = parts.lead_views.lead("hubspot:3", NOW)  # ACTIVITY[3 % 4]: a meeting booked
    assert [item["rule"] for item in meeting["card"]["contributions"] if item["kind"] == "engagement"] == [
        "meeting_booked"
    ]

    Worker().drain()
    assert 10 <= len(portal.updates) <= 20
    assert sum(len(call["inputs"]) for call in portal.updates) == 1000
    assert portal.contacts["3"]["properties"]["lead_score"] == str(meeting["score"])

    # A form conversion afterwards, by webhook: one lead's tier moves.
    before = parts.lead_views.lead("hubspot:999", NOW)
    when = str(int((NOW - timedelta(hours=1)).timestamp() * 1000))
    payload = [
        change(1, 999, "recent_conversion_event_name", "Book a demo"),
        change(2, 999, "recent_conversion_date", when),
    ]
    assert post(client, payload).status_code == 200
    after = parts.lead_views.lead("hubspot:999", NOW)
    assert (before["tier"], after["tier"]) == ("cold", "warm") and after["score"] == before["score"] + 50


def test_a_rerun_adds_nothing_and_changes_nothing(small_portal) -> None:
    portal = small_portal
    parts = portal.parts
    first = parts.crm_import.run(parts.record_readers["hubspot"], NOW)
    Worker().drain()
    updates = len(portal.updates)
    again = parts.crm_import.run(parts.record_readers["hubspot"], NOW, restart=True)
    assert (first.records, first.changed) == (500, 500)
    assert (again.records, again.accepted, again.changed) == (500, 0, 0)
    Worker().drain()
    assert len(portal.updates) == updates  # nothing queued: nothing written


def test_a_429_is_waited_out_as_retry_after_says(small_portal) -> None:
    portal = small_portal
    parts = portal.parts
    portal.fail(LIST, "pass", "429")
    report = parts.crm_import.run(parts.record_readers["hubspot"], NOW)
    assert report.done and report.records == 500
    assert 2.0 in portal.time.slept  # Retry-After: 2
    assert portal.count(LIST) == 6  # the refused page, asked again


def test_the_rate_limit_is_kept_on_our_side(small_portal) -> None:
    portal = small_portal
    parts = portal.parts
    reader = parts.record_readers["hubspot"]
    reader.calls.limit.calls = 2  # a portal allowed 2 requests per 10 seconds
    parts.crm_import.run(reader, NOW)
    assert portal.count(LIST) == 5
    assert sum(portal.time.slept) >= 20  # 5 calls at 2 per 10 s: at least two full waits


def test_the_daily_limit_stops_the_import_and_a_rerun_resumes_it(small_portal) -> None:
    portal = small_portal
    parts = portal.parts
    reader = parts.record_readers["hubspot"]
    portal.fail(LIST, "pass", "pass", "daily")
    stopped = parts.crm_import.run(reader, NOW)
    assert not stopped.done and "daily" in (stopped.stopped or "") and stopped.records == 200
    resumed = parts.crm_import.run(reader, NOW)
    assert resumed.resumed and resumed.done and resumed.records == 500
    assert portal.count(LIST) == 3 + 3  # the 3rd page asked again, then pages 4 and 5
    assert len(scored(parts)) == 500


def test_since_uses_search_and_reconciliation_reads_what_changed(small_portal) -> None:
    portal = small_portal
    parts = portal.parts
    reader = parts.record_readers["hubspot"]
    since = (NOW - timedelta(days=30) + timedelta(seconds=401)).isoformat()  # contacts 401..500
    report = parts.crm_import.run(reader, NOW, since=since)
    assert report.records == 100 and portal.count("/crm/v3/objects/contacts/search") == 1
    assert len(scored(parts)) == 100

    # reconciliation: the first run reads the last day; nothing changed in it
    first = parts.crm_import.reconcile(reader, NOW)
    assert first.done and first.records == 0
    # a contact changes (its webhook was lost); the next run, an hour later, scores it
    contact = portal.contacts["5"]
    before = parts.lead_views.lead("hubspot:5", NOW)
    contact["properties"] |= {"recent_conversion_event_name": "Book a demo",
                              "recent_conversion_date": iso(NOW + timedelta(minutes=20))}  # fmt: skip
    contact["updatedAt"] = iso(NOW + timedelta(minutes=20))
    later = parts.crm_import.reconcile(reader, NOW + timedelta(hours=1))
    assert later.records == 1 and later.changed == 1
    assert before is None  # contact 5 was not modified since the import's date
    assert parts.lead_views.lead("hubspot:5", NOW)["engagement"] == 5 + 50  # its email open and the demo
