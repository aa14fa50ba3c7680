"""HubSpot's own activity properties, delivered as HubSpot delivers them (a JSON array of
`contact.propertyChange` events, the shape of the Webhooks API documentation's example), become
engagement: form conversions, marketing email, site visits, meetings, opt-outs, through HTTP and
storage (each delivery on its own: tests/unit/sources/test_hubspot_activity.py)."""

from __future__ import annotations

import json
import time

from tests import signing
from tests.conftest import admin_get, json_body
from tests.e2e.test_hubspot import _consume_queue, _hubspot_api, change, post

DAY_MS = 86_400_000


def ms_ago(days: float) -> str:
    return str(int(time.time() * 1000 - days * DAY_MS))


def lead_of(client, contact: int) -> dict:
    return json_body(admin_get(client, f"/leads/hubspot:{contact}"))


def rules_hit(lead: dict) -> dict[str, float]:
    return {item["rule"]: item["points_now"] for item in lead["card"]["contributions"] if item["kind"] == "engagement"}


def test_the_same_conversion_seen_again_is_one_event(client) -> None:
    when = ms_ago(3)
    first = [
        change(10, 7002, "first_conversion_event_name", "Pricing request"),
        change(11, 7002, "first_conversion_date", when),
    ]
    again = [
        change(12, 7002, "recent_conversion_event_name", "Pricing request"),
        change(13, 7002, "recent_conversion_date", when),
    ]
    assert post(client, first).status_code == 200
    assert json_body(post(client, again))["accepted"] == 0  # first and recent conversion: the same date
    assert lead_of(client, 7002)["engagement"] == 30  # quote request, once


def test_email_opens_count_then_plus_n_per_email(client) -> None:
    payload = [
        change(20, 7003, "hs_email_last_email_name", "November newsletter"),
        change(21, 7003, "hs_email_last_open_date", ms_ago(5)),
    ]
    assert post(client, payload).status_code == 200
    assert post(client, [change(22, 7003, "hs_email_last_email_name", "November newsletter"),
                         change(23, 7003, "hs_email_last_open_date", ms_ago(4))]).status_code == 200  # fmt: skip
    assert post(client, [change(24, 7003, "hs_email_last_email_name", "Webinar invite"),
                         change(25, 7003, "hs_email_last_open_date", ms_ago(3))]).status_code == 200  # fmt: skip
    assert rules_hit(lead_of(client, 7003)) == {"email_open": 5 + 2 + 5}


def test_opt_out_and_hard_bounce_count_once(client) -> None:
    assert post(client, [change(40, 7005, "hs_email_optout", "true")]).status_code == 200
    assert post(client, [change(41, 7005, "hs_email_optout", "false")]).status_code == 200
    assert post(client, [change(42, 7005, "hs_email_optout", "true")]).status_code == 200
    assert post(client, [change(43, 7005, "hs_email_hard_bounce_reason_enum", "MAILBOX_FULL")]).status_code == 200
    assert rules_hit(lead_of(client, 7005)) == {"unsubscribe": -20, "hard_bounce": -10}


def test_a_workflow_body_with_activity_properties_yields_the_same_events(client) -> None:
    """A workflow "Send a webhook" body (CRM object JSON) carrying the activity properties: the
    events it records are the webhook's, so the same conversion is stored once."""
    when = ms_ago(2)
    workflow = {
        "id": "7007",
        "properties": {
            "email": "ana@initech.com",
            "recent_conversion_event_name": "Book a demo",
            "recent_conversion_date": when,
            "hs_email_last_email_name": "Onboarding 1",
            "hs_email_last_click_date": ms_ago(1),
            "lastmodifieddate": ms_ago(0.5),
        },
    }
    body, headers = signing.hubspot_v3("/webhooks/hubspot", workflow)
    assert client.http.post("/webhooks/hubspot", body=body, headers=headers).status_code == 200
    assert rules_hit(lead_of(client, 7007)) == {"demo_request": 50, "email_click": 15}
    webhook = [
        change(60, 7007, "recent_conversion_event_name", "Book a demo"),
        change(61, 7007, "recent_conversion_date", when),
    ]
    assert json_body(post(client, webhook))["accepted"] == 0


def test_an_activity_without_its_context_is_read_from_hubspot(client, httpserver, monkeypatch) -> None:
    """An open arrived without the email's name (a separate delivery, or not subscribed): with API
    access the contact is read off the webhook, and the event carries the name."""
    _hubspot_api(httpserver, monkeypatch)
    opened = ms_ago(1)
    response = post(client, [change(70, 7008, "hs_email_last_open_date", opened)])
    assert json_body(response)["accepted"] == 0 and httpserver.log == []  # nothing outbound in the request
    contact = {
        "id": "7008",
        "properties": {"email": "li@globex.com", "hs_email_last_open_date": opened, "hs_email_last_email_name": "Q4"},
        "updatedAt": "2026-11-30T10:00:00Z",
    }
    httpserver.expect_oneshot_request("/crm/v3/objects/contacts/batch/read", method="POST").respond_with_json(
        {"status": "COMPLETE", "results": [contact]}
    )
    assert _consume_queue(httpserver).records_read == 1
    (read,) = [request for request, _ in httpserver.log if request.path.endswith("/batch/read")]
    assert {"hs_email_last_open_date", "hs_email_last_email_name"} <= set(json.loads(read.data)["properties"])
    lead = json_body(admin_get(client, "/leads/email:li@globex.com"))
    assert rules_hit(lead) == {"email_open": 5}


def test_without_api_access_an_activity_without_context_still_counts(client) -> None:
    assert json_body(post(client, [change(80, 7009, "hs_email_last_open_date", ms_ago(1))]))["accepted"] == 1
    assert rules_hit(lead_of(client, 7009)) == {"email_open": 5}


def test_a_counter_that_grew_reads_the_contact(client, httpserver, monkeypatch) -> None:
    _hubspot_api(httpserver, monkeypatch)
    assert post(client, [change(90, 7010, "num_conversion_events", "2")]).status_code == 200
    contact = {
        "id": "7010",
        "properties": {"recent_conversion_event_name": "Download the ebook", "recent_conversion_date": ms_ago(1)},
        "updatedAt": "2026-11-30T10:00:00Z",
    }
    httpserver.expect_oneshot_request("/crm/v3/objects/contacts/batch/read", method="POST").respond_with_json(
        {"status": "COMPLETE", "results": [contact]}
    )
    assert _consume_queue(httpserver).records_read == 1
    assert rules_hit(lead_of(client, 7010)) == {"content_download": 15}
