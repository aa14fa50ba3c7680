"""Fuzzing every route: whatever arrives, correctly signed or not, the answer is never a 500.

Bodies are signed with the real secret, so the fuzzing reaches the parsers, not just the
signature check. Shapes follow each vendor's format with arbitrary values, plus arbitrary JSON
and arbitrary bytes.
"""

from __future__ import annotations

import json
import os
from datetime import UTC

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import signing
from tests.conftest import SECRETS

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def either(valid: st.SearchStrategy, weight_random: bool = True) -> st.SearchStrategy:
    """Mostly values of the right type (so parsing goes deep), sometimes anything at all."""
    return (valid | json_values) if weight_random else valid


def shaped(required: dict, optional: dict | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(required, optional=optional or {})


timestamps = st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()) | st.text(max_size=12)
emails = st.emails() | st.text(max_size=15)
PROPERTY_NAMES = ["url", "path", "email_id", "message_id", "content_type", "action", "sent_at", "campaign_type",
                  "duration_seconds", "email"]  # fmt: skip
TRAIT_NAMES = ["email", "title", "company", "employees", "industry", "country", "address", "firstName"]
props = st.dictionaries(st.sampled_from(PROPERTY_NAMES), json_values, max_size=4)
traits = st.dictionaries(st.sampled_from(TRAIT_NAMES), json_values | emails, max_size=5)

hubspot_event = shaped(
    {
        "eventId": either(st.integers(0, 10**12)),
        "subscriptionType": either(
            st.sampled_from(
                [
                    "contact.creation",
                    "contact.propertyChange",
                    "contact.deletion",
                    "contact.privacyDeletion",
                    "deal.creation",
                ]
            )
        ),
        "objectId": either(st.integers(0, 10**9)),
        "occurredAt": either(st.integers(-(10**15), 10**15)),
    },
    {
        "portalId": st.integers(0, 10**6),
        "propertyName": st.sampled_from(["email", "jobtitle", "numemployees", "lead_score", "phone"]) | st.text(),
        "propertyValue": json_values | emails,
    },
)
workflow_body = shaped({"objectId": either(st.integers(0, 10**6))}, {"properties": st.dictionaries(
    st.sampled_from(["email", "jobtitle", "numemployees", "lastmodifieddate"]), json_values | emails)})  # fmt: skip
hubspot_bodies = st.lists(hubspot_event, max_size=5) | workflow_body | json_values

segment_message = shaped(
    {
        "type": either(st.sampled_from(["track", "page", "identify", "group", "alias", "screen"])),
        "userId": either(st.text(min_size=1, max_size=8)),
    },
    {
        "anonymousId": st.text(max_size=8),
        "messageId": st.text(max_size=8),
        "previousId": st.text(max_size=8),
        "event": either(st.sampled_from(["Email Opened", "Demo Requested", "Page Viewed"]) | st.text(max_size=10)),
        "timestamp": timestamps,
        "sentAt": timestamps,
        "properties": props,
        "traits": traits,
        "context": st.fixed_dictionaries({}, optional={"page": props, "traits": traits}),
    },
)
segment_bodies = shaped({"batch": st.lists(segment_message, max_size=4)}, {"sentAt": timestamps}) | segment_message

answer = shaped(
    {
        "type": st.sampled_from(["email", "text", "choice", "choices", "number", "boolean"]),
        "field": shaped({"id": st.sampled_from(["f1", "f2"])}, {"ref": st.text(max_size=8), "type": st.text()}),
    },
    {"email": emails, "text": json_values, "choice": json_values, "choices": json_values, "number": json_values},
)
typeform_bodies = shaped(
    {
        "event_type": either(st.just("form_response")),
        "form_response": shaped(
            {"form_id": either(st.text(min_size=1)), "token": either(st.text(min_size=1)), "submitted_at": timestamps},
            {"definition": json_values, "answers": st.lists(answer, max_size=4), "hidden": json_values},
        ),
    }
)
tally_field = shaped({"key": st.text(max_size=5)}, {"label": st.text(max_size=12), "type": st.text(max_size=12),
                                                    "value": json_values | emails, "options": json_values})  # fmt: skip
tally_bodies = shaped(
    {
        "eventId": either(st.text(min_size=1)),
        "eventType": either(st.just("FORM_RESPONSE")),
        "data": shaped({"responseId": either(st.text(min_size=1)), "formId": either(st.text(min_size=1))},
                       {"formName": json_values, "createdAt": timestamps, "fields": st.lists(tally_field, max_size=4)}),
    }
)  # fmt: skip
webflow_bodies = shaped({"triggerType": either(st.just("form_submission")), "payload": shaped(
    {"data": either(st.dictionaries(st.sampled_from(["Email", "Name", "Role", "form_type"]), json_values | emails))},
    {"name": json_values, "id": json_values, "submittedAt": timestamps})})  # fmt: skip
generic_bodies = shaped(
    {"fields": either(st.dictionaries(st.sampled_from(["Email", "Job title", "Company size"]), json_values | emails))},
    {"form": json_values, "form_type": json_values, "submitted_at": timestamps, "user_id": json_values},
)


def text(payload) -> str:
    return json.dumps(payload)


raw = st.binary(max_size=200)


STATUSES: dict[str, set[int]] = {}


def assert_no_500(response, route: str = "") -> None:
    STATUSES.setdefault(route, set()).add(response.status_code)
    assert response.status_code < 500, response.body


@FUZZ
@given(body=hubspot_bodies.map(text))
def test_hubspot_route(client, body: str) -> None:
    body, headers = signing.hubspot_v3("/webhooks/hubspot", body)
    assert_no_500(client.http.post("/webhooks/hubspot", body=body, headers=headers), "hubspot")


@FUZZ
@given(body=segment_bodies.map(text), route=st.sampled_from(["batch", "track", "page", "identify"]))
def test_tracking_routes(client, body: str, route: str) -> None:
    assert_no_500(client.http.post(f"/v1/{route}", body=body, headers=signing.basic()), "segment")


@FUZZ
@given(body=typeform_bodies.map(text))
def test_typeform_route(client, body: str) -> None:
    body, headers = signing.typeform(body)
    assert_no_500(client.http.post("/webhooks/forms/typeform", body=body, headers=headers), "typeform")


@FUZZ
@given(body=tally_bodies.map(text))
def test_tally_route(client, body: str) -> None:
    body, headers = signing.tally(body)
    assert_no_500(client.http.post("/webhooks/forms/tally", body=body, headers=headers), "tally")


@FUZZ
@given(body=webflow_bodies.map(text))
def test_webflow_route(client, body: str) -> None:
    body, headers = signing.webflow(body)
    assert_no_500(client.http.post("/webhooks/forms/webflow", body=body, headers=headers), "webflow")


@FUZZ
@given(body=generic_bodies.map(text), message_id=st.text(min_size=1, max_size=20).filter(str.isprintable))
def test_generic_form_route(client, body: str, message_id: str) -> None:
    body, headers = signing.standard_webhook(body, message_id.strip() or "m")
    assert_no_500(client.http.post("/webhooks/forms/generic", body=body, headers=headers), "generic")


fields = st.dictionaries(st.sampled_from(["Id", "Email", "Title", "NumberOfEmployees", "LastModifiedDate", "Status"]),
                         st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=15))  # fmt: skip


@FUZZ
@given(
    notifications=st.lists(st.tuples(st.text(max_size=8), st.sampled_from(["Lead", "Contact", "Account"]), fields),
                           max_size=3),
    garbage=raw,
    use_garbage=st.booleans(),
)  # fmt: skip
def test_salesforce_route(client, notifications, garbage: bytes, use_garbage: bool) -> None:
    from xml.sax.saxutils import escape

    from tests.e2e.test_salesforce import XML_HEADERS, envelope

    cells = [
        f'<Notification><Id>{escape(nid)}</Id><sObject xsi:type="sf:{kind}" '
        f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        + "".join(f"<sf:{name}>{escape(value)}</sf:{name}>" for name, value in f.items())
        + "</sObject></Notification>"
        for nid, kind, f in notifications
    ]
    body = garbage if use_garbage else envelope(*cells).encode()
    path = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
    assert_no_500(client.http.post(path, body=body, headers=XML_HEADERS), "salesforce")


@FUZZ
@given(body=raw, route=st.sampled_from(["/webhooks/hubspot", "/v1/batch", "/webhooks/forms/tally"]))
def test_arbitrary_bytes_anywhere(client, body: bytes, route: str) -> None:
    headers = signing.basic() if route.startswith("/v1") else {"Content-Type": "application/json"}
    assert_no_500(client.http.post(route, body=body, headers=headers))


@FUZZ
@given(key=st.text(max_size=40), tier=st.text(max_size=10), limit=st.text(max_size=6))
def test_admin_routes(client, key: str, tier: str, limit: str) -> None:
    from urllib.parse import quote, urlencode

    headers = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"}
    assert_no_500(client.http.get(f"/leads/{quote(key, safe='') or 'x'}", headers=headers))
    assert_no_500(client.http.get(f"/leads?{urlencode({'tier': tier, 'limit': limit})}", headers=headers))
