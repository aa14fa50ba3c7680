"""One error shape and one timestamp format on every route, through the real HTTP path: every
refusal is {"error", "code", "message", "field"?} (error == code), Chalice's own 405 and 415
included; every timestamp in a response, and in what is sent to NOTIFY_URL, is UTC with `Z`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.rules import DEFAULT_RULES_PATH
from tests import signing
from tests.conftest import SECRETS, json_body
from tests.e2e.test_leads_api import _leads, _preview, get
from tests.integration.crm_fakes import Worker

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
ADMIN = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"}
VIEWER = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}


def timestamps(value: Any) -> list[str]:
    """Every string in a JSON document that looks like a date and time."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in timestamps(item)]
    if isinstance(value, list):
        return [found for item in value for found in timestamps(item)]
    return [value] if isinstance(value, str) and TIMESTAMP.match(value) else []


REFUSALS = [
    ("GET", "/leads", {}, None, 401, "unauthorized", None),
    ("GET", "/leads", {"Authorization": "Bearer wrong"}, None, 401, "unauthorized", None),
    ("POST", "/rules/preview", VIEWER, "{}", 403, "forbidden", None),
    ("GET", "/leads?tier=Z", ADMIN, None, 400, "bad_request", "tier"),
    ("GET", "/leads?grade=Q", ADMIN, None, 400, "bad_request", "grade"),
    ("GET", "/leads?limit=0", ADMIN, None, 400, "bad_request", "limit"),
    ("GET", "/leads?bogus=1", ADMIN, None, 400, "bad_request", "bogus"),
    ("GET", "/leads/email:nobody@example.com", ADMIN, None, 404, "not_found", None),
    ("GET", "/leads/email:nobody@example.com/timeline", ADMIN, None, 404, "not_found", None),
    ("GET", "/console/nothing.js", {}, None, 404, "not_found", None),
    ("POST", "/webhooks/forms/jotform", {"Content-Type": "application/json"}, "{}", 404, "not_found", None),
    ("POST", "/webhooks/hubspot", {"Content-Type": "application/json"}, "[]", 401, "unauthorized", None),
    ("POST", "/v1/track", signing.basic(), '{"userId": "u"', 400, "bad_payload", None),
    (
        "POST",
        "/rules/preview",
        {**ADMIN, "Content-Type": "application/json"},
        '{"rules": "tiers: ["}',
        400,
        "invalid_rules",
        None,
    ),
    ("DELETE", "/leads", ADMIN, None, 405, "method_not_allowed", None),
    ("POST", "/v1/track", {**signing.basic(), "Content-Type": "image/png"}, "x", 415, "unsupported_media_type", None),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "code", "field"), REFUSALS)
def test_every_refusal_has_one_shape(client, method, path, headers, body, status, code, field) -> None:
    reply = client.http.request(method, path, headers=headers, body=body)
    assert reply.status_code == status, reply.body
    answer = json_body(reply)
    assert {"error", "code", "message"} <= set(answer) <= {"error", "code", "message", "field", "issues"}
    assert answer["error"] == answer["code"] == code
    assert isinstance(answer["message"], str) and answer["message"]
    assert answer.get("field") == field


def test_every_timestamp_in_every_response_is_utc_with_z(client, monkeypatch) -> None:
    _leads(client)
    parts = container()
    parts.upkeep.run(datetime.now(UTC) + timedelta(days=3))  # decay: tier changes, next changes
    Worker().drain()  # the write-back state: last written, when
    listing = json_body(get(client, "/leads?limit=10"))
    key = "user:u5"
    preview = _preview(client, DEFAULT_RULES_PATH.read_text())
    bodies = {
        "/leads": listing,
        "/leads/{key}": json_body(get(client, f"/leads/{key}")),
        "/leads/{key}/timeline": json_body(get(client, f"/leads/{key}/timeline")),
        "/rules": json_body(get(client, "/rules")),
        "/reports/tiers": json_body(get(client, "/reports/tiers")),
        "/rules/preview": json_body(preview),
    }
    found = {route: timestamps(body) for route, body in bodies.items()}
    assert found["/leads"] and found["/leads/{key}"] and found["/leads/{key}/timeline"]
    for route, values in found.items():
        assert all(ISO_Z.fullmatch(value) for value in values), (route, [v for v in values if not ISO_Z.fullmatch(v)])


def test_what_notify_url_receives_is_stamped_with_z(aws) -> None:
    from chalicelib.domain import Identities, LeadEvent
    from chalicelib.service_layer.commands import ParsedDelivery

    sent: list[Any] = []

    class Sink:
        def send(self, messages: list[Any]) -> None:
            sent.extend(message.to_json() for message in messages)

    parts = container()
    parts.publisher.sink = Sink()
    now = datetime.now(UTC)
    events = [
        LeadEvent(event_id=f"n{i}", source="segment", type=kind, occurred_at=now - timedelta(minutes=i),
                  identities=Identities(email="mql@example.com"))
        for i, kind in enumerate(["Demo Requested", "Quote Requested", "Meeting Booked", "Trial Started"])
    ]  # fmt: skip
    parts.ingestion.ingest(ParsedDelivery(events=events), now)
    notices = [message for message in sent if message["kind"] == "notify"]
    assert notices and all(ISO_Z.fullmatch(message["at"]) for message in notices)
