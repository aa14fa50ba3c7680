"""The red-team pass's cases that are not fuzzing (those are in test_fuzz_hostile.py, the hostile
rules files in test_rules_preview_hostile.py, the console's injection in test_console_browser.py):
the key matrix over every route, and signature replay and downgrade on every signed source. A
refusal is a 401/403 in our error shape and stores nothing."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests import signing
from tests.conftest import SECRETS, TABLE, json_body

ADMIN, VIEWER, WRITE = SECRETS["ADMIN_API_KEY"], SECRETS["VIEWER_API_KEY"], SECRETS["EVENTS_WRITE_KEY"]

# Who may call each route. A new route must be added here, or the first test fails.
ACCESS = {
    ("/health", "GET"): "public",
    ("/console", "GET"): "public",
    ("/console/{name}", "GET"): "public",
    ("/webhooks/hubspot", "POST"): "signed",
    ("/webhooks/salesforce", "POST"): "signed",
    ("/webhooks/forms/{provider}", "POST"): "signed",
    ("/webhooks/calendly", "POST"): "signed",
    ("/webhooks/pipedrive", "POST"): "signed",
    ("/webhooks/calcom", "POST"): "signed",
    **{(f"/v1/{kind}", "POST"): "write_key" for kind in ("batch", "track", "page", "identify", "screen", "group",
                                                          "alias")},
    ("/leads", "GET"): "readable",
    ("/leads/{key}", "GET"): "readable",
    ("/leads/{key}/timeline", "GET"): "readable",
    ("/leads/{key}/activity", "GET"): "readable",
    ("/rules", "GET"): "readable",
    ("/reports/tiers", "GET"): "readable",
    ("/reports/exceptions", "GET"): "readable",
    ("/reports/unscored", "GET"): "readable",
    ("/reports/shadow", "GET"): "readable",
    ("/accounts", "GET"): "readable",
    ("/accounts/{key}", "GET"): "readable",
    ("/reports/health", "GET"): "readable",
    ("/rules/preview", "POST"): "admin",
    ("/rules/versions", "GET"): "readable",
    ("/rules/versions", "POST"): "admin",
    ("/rules/versions/{number}", "GET"): "readable",
    ("/leads/{key}/recycle", "POST"): "admin",
}  # fmt: skip
CONCRETE = {"{key}": "email:someone@acme.io", "{name}": "console.js", "{provider}": "generic"}


def _concrete(path: str) -> str:
    for placeholder, value in CONCRETE.items():
        path = path.replace(placeholder, value)
    return path


def _stored() -> int:
    return int(boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"])


def test_every_route_is_in_the_access_table() -> None:
    from app import app

    routes = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert routes == set(ACCESS)


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


# (Authorization header, what it is) -> the status for a readable and for an admin-only route.
CREDENTIALS = [
    (None, 401, 401),
    (f"Bearer {ADMIN}x", 401, 401),
    (f"Bearer {ADMIN[:-1]}", 401, 401),
    (f"Bearer {WRITE}", 401, 401),  # the write key is for tracking only
    (_basic(ADMIN), 401, 401),  # the right key in the wrong scheme
    (f"Token {ADMIN}", 401, 401),
    ("Bearer ", 401, 401),
    (f"Bearer {VIEWER}", 200, 403),
    (f"bearer {ADMIN}", 200, 200),  # the scheme is case-insensitive (RFC 9110)
    (f"Bearer {ADMIN}", 200, 200),
]


@pytest.mark.parametrize(
    ("route", "method"), [key for key, access in ACCESS.items() if access in ("readable", "admin")]
)
@pytest.mark.parametrize(("authorization", "readable_status", "admin_status"), CREDENTIALS)
def test_the_key_matrix(client, route, method, authorization, readable_status, admin_status) -> None:
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
    body = json.dumps({"rules": "name: x"}) if method == "POST" else None
    reply = client.http.request(method, _concrete(route), headers=headers, body=body)
    expected = admin_status if ACCESS[(route, method)] == "admin" else readable_status
    if expected == 200:
        assert reply.status_code not in (401, 403), reply.body  # let in: what follows is the route's own answer
        return
    assert reply.status_code == expected, reply.body
    answer = json_body(reply)
    assert answer["code"] == ("unauthorized" if expected == 401 else "forbidden")
    if expected == 401:
        assert reply.headers.get("WWW-Authenticate") == "Bearer"
    assert ADMIN not in json.dumps(answer) and VIEWER not in json.dumps(answer)


def test_a_key_in_the_query_string_is_not_a_key(client) -> None:
    for name in ("key", "api_key", "access_token", "token"):
        assert client.http.get(f"/leads?{name}={ADMIN}").status_code == 401
        assert client.http.get(f"/leads/email:a@b.io?{name}={ADMIN}").status_code == 401


@pytest.mark.parametrize(
    ("route", "method"), [key for key, access in ACCESS.items() if access in ("signed", "write_key")]
)
def test_api_keys_do_not_open_the_delivery_routes(client, route, method) -> None:
    body = json.dumps({"type": "track", "userId": "u-red", "event": "Demo Requested", "messageId": "red-1"})
    kind = "text/xml" if route == "/webhooks/salesforce" else "application/json"
    for authorization in (f"Bearer {ADMIN}", _basic(ADMIN), _basic(VIEWER), f"Bearer {WRITE}"):
        headers = {"Content-Type": kind, "Authorization": authorization}
        reply = client.http.request(method, _concrete(route), body=body, headers=headers)
        assert reply.status_code == 401, (authorization, reply.body)
    assert _stored() == 0


def _hubspot_event(event_id: int) -> list[dict[str, Any]]:
    return [{"eventId": event_id, "subscriptionId": 1, "portalId": 62515, "appId": 1, "attemptNumber": 0,
             "occurredAt": int(time.time() * 1000) - 60_000, "subscriptionType": "contact.creation",
             "objectId": 901, "changeSource": "CRM"}]  # fmt: skip


def test_hubspot_replay_and_downgrade_are_refused(client) -> None:
    path = "/webhooks/hubspot"
    payload = _hubspot_event(1)
    stale = int((time.time() - 6 * 60) * 1000)
    body, headers = signing.hubspot_v3(path, payload, timestamp_ms=stale)
    assert client.http.post(path, body=body, headers=headers).status_code == 401  # captured 6 minutes ago

    body, headers = signing.hubspot_v3("/webhooks/forms/generic", payload)
    assert client.http.post(path, body=body, headers=headers).status_code == 401  # signed for another URL

    body, headers = signing.hubspot_v3(path, payload)
    later = str(int(headers["X-HubSpot-Request-Timestamp"]) + 1000)
    assert (
        client.http.post(path, body=body, headers={**headers, "X-HubSpot-Request-Timestamp": later}).status_code == 401
    )

    # Downgrade: a valid legacy signature does not rescue a v3 signature that does not match.
    _, legacy = signing.hubspot_legacy(path, payload, "v1")
    forged = {**headers, "X-HubSpot-Signature-v3": "A" * 44, **legacy}
    assert client.http.post(path, body=body, headers=forged).status_code == 401
    unknown_version = {**legacy, "X-HubSpot-Signature-Version": "v0"}
    assert client.http.post(path, body=body, headers=unknown_version).status_code == 401
    assert _stored() == 0

    # A delivery replayed within the window is a duplicate: counted once.
    first = client.http.post(path, body=body, headers=headers)
    again = client.http.post(path, body=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert json_body(again)["duplicates"] == 1 and json_body(again)["accepted"] == 0


def test_standard_webhooks_and_webflow_replays_are_refused(client) -> None:
    contact = {"type": "contact.created", "timestamp": "2022-11-03T20:26:10.344522Z",
               "data": {"email": "replay@acme.io", "name": "Ada"}}  # fmt: skip
    stale = datetime.now(UTC) - timedelta(minutes=6)
    body, headers = signing.standard_webhook(contact, "msg_red_1", when=stale)
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 401
    future = datetime.now(UTC) + timedelta(minutes=6)
    body, headers = signing.standard_webhook(contact, "msg_red_2", when=future)
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 401
    body, headers = signing.standard_webhook(contact, "msg_red_3")
    swapped = {**headers, "webhook-id": "msg_red_4"}  # the id is signed: a replay under a new id fails
    assert client.http.post("/webhooks/forms/generic", body=body, headers=swapped).status_code == 401

    submission = {"triggerType": "form_submission", "payload": {"name": "Contact", "id": "f1",
                  "data": {"Email": "replay@acme.io"}, "submittedAt": "2026-12-05T10:00:00.000Z"}}  # fmt: skip
    body, headers = signing.webflow(submission, timestamp_ms=int((time.time() - 6 * 60) * 1000))
    assert client.http.post("/webhooks/forms/webflow", body=body, headers=headers).status_code == 401
    assert _stored() == 0

    body, headers = signing.standard_webhook(contact, "msg_red_5")
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 200
    again = client.http.post("/webhooks/forms/generic", body=body, headers=headers)
    assert again.status_code == 200, again.body
    assert json_body(again)["accepted"] == 0 and json_body(again)["duplicates"] >= 1, json_body(again)


def test_calendly_replays_and_calcom_forgeries_are_refused(client) -> None:
    invitee = {"email": "replay@acme.io", "uri": "https://api.calendly.com/scheduled_events/E/invitees/I"}
    booking = {"event": "invitee.created", "created_at": "2026-12-05T10:00:00Z", "payload": invitee}
    body, headers = signing.calendly(booking, timestamp=int(time.time()) - 6 * 60)
    assert client.http.post("/webhooks/calendly", body=body, headers=headers).status_code == 401
    body, headers = signing.calendly(booking, timestamp=int(time.time()) + 6 * 60)
    assert client.http.post("/webhooks/calendly", body=body, headers=headers).status_code == 401
    body, headers = signing.calendly(booking)
    resigned = headers["Calendly-Webhook-Signature"].replace("t=", "t=1")  # the timestamp is signed
    assert (
        client.http.post(
            "/webhooks/calendly", body=body, headers={**headers, "Calendly-Webhook-Signature": resigned}
        ).status_code
        == 401
    )
    booked = {"triggerEvent": "BOOKING_CREATED", "payload": {"uid": "u1", "attendees": [{"email": "replay@acme.io"}]}}
    body, headers = signing.calcom(booked, secret="guessed")
    assert client.http.post("/webhooks/calcom", body=body, headers=headers).status_code == 401
    assert _stored() == 0
    body, headers = signing.calcom(booked)
    assert client.http.post("/webhooks/calcom", body=body + " ", headers=headers).status_code == 401  # body changed
    assert _stored() == 0


@pytest.mark.parametrize("route", ["/webhooks/pipedrive", "/webhooks/calendly", "/webhooks/calcom"])
def test_a_body_over_a_mebibyte_is_413_before_any_check(client, route) -> None:
    body = json.dumps({"meta": {}, "padding": "x" * (1024 * 1024)})
    headers = {"Content-Type": "application/json", **signing.pipedrive(body)[1]}
    reply = client.http.post(route, body=body, headers=headers)
    assert reply.status_code == 413, reply.body
    assert _stored() == 0
