"""Hostile input through every route, correctly signed: lone UTF-16 surrogates, huge arrays and
objects, JSON nested hundreds deep, over-long keys and values where identities, ids and
properties go, gzip bombs, UTF-16 XML with a DTD. Whatever arrives, the answer is a 2xx or a 4xx
naming the problem, never a 5xx (a 503 would have the vendor retry a poison delivery for days),
and a refused delivery stores nothing."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import signing
from tests.conftest import SECRETS, TABLE

HOSTILE = settings(
    max_examples=int(os.environ.get("FUZZ_HOSTILE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d"])
LONG_TEXT = st.sampled_from([3_000, 20_000, 900_000]).map(lambda size: "x" * size + "@acme.io")
HOSTILE_TEXT = SURROGATES | LONG_TEXT | st.text(max_size=5).map(lambda s: s + "\ud800")


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value] if depth % 2 else {"k": value}
    return value


HOSTILE_VALUES = (
    HOSTILE_TEXT
    | st.just(list(range(50_000)))
    | st.just({f"k{index}": index for index in range(20_000)})
    | st.sampled_from([40, 900]).map(deep)
)


def item_count() -> int:
    return int(boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"])


def check(response: Any, before: int) -> None:
    assert response.status_code < 500, response.body[:300]
    if response.status_code >= 400:
        assert item_count() == before  # nothing stored from a refused delivery


# Where in each vendor's body a hostile value goes: identities, ids, keys and plain properties.
def hubspot_body(slot: str, value: Any) -> Any:
    event: dict[str, Any] = {
        "eventId": 1,
        "subscriptionType": "contact.propertyChange",
        "objectId": 7,
        "occurredAt": 1_700_000_000_000,
        "propertyName": "email",
        "propertyValue": "a@b.co",
    }
    if slot == "key":
        return {"properties": {str(value)[:5000] if not isinstance(value, str) else value: "x"}, "objectId": 1}
    event[{"identity": "propertyValue", "id": "eventId", "object": "objectId", "property": "propertyValue"}[slot]] = (
        value
    )
    return [event]


def segment_body(slot: str, value: Any) -> Any:
    message: dict[str, Any] = {"type": "track", "event": "Demo Requested", "userId": "u-1", "messageId": "m-1"}
    if slot == "identity":
        message["userId"] = value
    elif slot == "id":
        message["messageId"] = value
    elif slot == "key":
        message["properties"] = {value if isinstance(value, str) else "k": 1}
    else:
        message["properties"] = {"payload": value}
    return {"batch": [message, {"type": "track", "event": "Email Opened", "userId": "u-2", "messageId": "m-2"}]}


def form_body(slot: str, value: Any) -> Any:
    fields: dict[str, Any] = {"Email": "jo@acme.io", "Job title": "VP"}
    if slot == "identity":
        fields["Email"] = value
    elif slot == "key":
        fields[value if isinstance(value, str) else "k"] = "v"
    else:
        fields["Notes"] = value
    return {"form": "Book a demo", "fields": fields}


@HOSTILE
@given(slot=st.sampled_from(["identity", "id", "object", "property", "key"]), value=HOSTILE_VALUES)
def test_hubspot_hostile_values(client, slot: str, value: Any) -> None:
    before = item_count()
    body, headers = signing.hubspot_v3("/webhooks/hubspot", json.dumps(hubspot_body(slot, value)))
    check(client.http.post("/webhooks/hubspot", body=body, headers=headers), before)


@HOSTILE
@given(slot=st.sampled_from(["identity", "id", "key", "property"]), value=HOSTILE_VALUES, gzipped=st.booleans())
def test_tracking_hostile_values(client, slot: str, value: Any, gzipped: bool) -> None:
    before = item_count()
    raw = json.dumps(segment_body(slot, value)).encode()
    headers = signing.basic()
    if gzipped:
        raw, headers = gzip.compress(raw), {**headers, "Content-Encoding": "gzip"}
    response = client.http.post("/v1/batch", body=raw, headers=headers)
    check(response, before)
    if response.status_code == 200:  # one bad message never costs the batch its good one (stored, or already)
        answer = json.loads(response.body)
        assert answer["accepted"] + answer["duplicates"] >= 1


@HOSTILE
@given(slot=st.sampled_from(["identity", "key", "property"]), value=HOSTILE_VALUES, message_id=HOSTILE_TEXT)
def test_generic_form_hostile_values(client, slot: str, value: Any, message_id: str) -> None:
    before = item_count()
    body, headers = signing.standard_webhook(json.dumps(form_body(slot, value)), "msg-1")
    check(client.http.post("/webhooks/forms/generic", body=body, headers=headers), before)
    # the delivery's own id (webhook-id) over-long or not text: still never a 5xx
    text_id = message_id.encode("utf-8", "replace").decode()[:5000].replace(".", "_")
    body, headers = signing.standard_webhook(json.dumps(form_body("property", "ok")), text_id or "m")
    check(client.http.post("/webhooks/forms/generic", body=body, headers=headers), item_count())


@HOSTILE
@given(value=HOSTILE_TEXT.filter(lambda text: len(text) < 100_000), field=st.sampled_from(["Id", "Email", "note"]))
def test_salesforce_hostile_values(client, value: str, field: str) -> None:
    from xml.sax.saxutils import escape

    from tests.e2e.test_salesforce import XML_HEADERS, envelope, notification

    before = item_count()
    text = escape(value.encode("utf-8", "replace").decode())
    if field == "note":
        cell = notification(text, "00Q5g00000HOST")  # an over-long notification id
    else:
        cell = notification("04l-hostile", text if field == "Id" else "00Q5g00000HOST", Email=text)
    path = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
    check(client.http.post(path, body=envelope(cell), headers=XML_HEADERS), before)


@HOSTILE
@given(encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8", "utf-32"]), entities=st.integers(1, 50))
def test_xml_with_a_dtd_is_refused_in_any_encoding(client, encoding: str, entities: int) -> None:
    from tests.e2e.test_salesforce import XML_HEADERS

    declared = "utf-16" if encoding.startswith("utf-16") else encoding
    bomb = "".join(f'<!ENTITY e{n} "{"&e" + str(n - 1) + ";" * 10 if n else "boom"}">' for n in range(entities))
    text = f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE x [{bomb}]><x>&e{entities - 1};</x>'
    before = item_count()
    path = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
    response = client.http.post(path, body=text.encode(encoding), headers=XML_HEADERS)
    assert response.status_code == 400 and b"soapenv:Fault" in response.body
    assert item_count() == before


@HOSTILE
@given(size=st.sampled_from([2 * 1024 * 1024, 64 * 1024 * 1024]), truncate=st.booleans())
def test_a_gzip_bomb_or_broken_gzip_is_refused(client, size: int, truncate: bool) -> None:
    bomb = gzip.compress(b"[" + b" " * size + b"]")
    body = bomb[: len(bomb) // 2] if truncate else bomb
    response = client.http.post("/v1/batch", body=body, headers={**signing.basic(), "Content-Encoding": "gzip"})
    assert response.status_code in (400, 413), response.body
