"""Segment-style tracking: the unmodified Segment Python SDK, pointed at the app served over real
HTTP (chalice's local server), must just work; identify links earlier anonymous events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from segment.analytics.client import Client as SegmentClient
from segment.analytics.request import APIError

from tests import signing
from tests.conftest import SECRETS, admin_get, json_body


@pytest.fixture
def live_url(aws: Any) -> Iterator[str]:
    from chalice.config import Config
    from chalice.local import LocalChalice, LocalDevServer, create_local_server

    from app import app

    config = Config.create(chalice_stage="dev", app_name="leadscore")
    # create_local_server makes the app thread-safe for the local server by changing its class, once.
    if isinstance(app, LocalChalice):
        server = LocalDevServer(app, config, "127.0.0.1", 0)
    else:
        server = create_local_server(app, config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def sdk(url: str, write_key: str | None = None, errors: list | None = None) -> SegmentClient:
    return SegmentClient(
        write_key or SECRETS["EVENTS_WRITE_KEY"],
        host=url,
        sync_mode=True,
        max_retries=0,
        on_error=(lambda error, batch: errors.append(error)) if errors is not None else None,
    )


def test_the_segment_sdk_tracks_pages_and_events_that_score(live_url: str, client) -> None:
    errors: list = []
    analytics = sdk(live_url, errors=errors)
    analytics.page(anonymous_id="anon-42", name="Pricing", properties={"url": "https://acme.example/pricing"})
    analytics.track(anonymous_id="anon-42", event="Demo Requested")
    analytics.track(anonymous_id="anon-42", event="Email Opened", properties={"email_id": "m-1"})
    analytics.flush()
    assert errors == []
    lead = json_body(admin_get(client, "/leads/anon:anon-42"))
    assert lead["engagement"] == 75


def test_identify_links_earlier_anonymous_events_to_the_known_lead(live_url: str, client) -> None:
    analytics = sdk(live_url)
    analytics.page(anonymous_id="anon-7", properties={"url": "https://acme.example/pricing"})
    analytics.track(anonymous_id="anon-7", event="Webinar Attended")
    # A form fills in who they are, under the email
    body, headers = signing.standard_webhook({"form": "Contact", "fields": {"Email": "ana@acme.io"}}, "msg_ana")
    client.http.post("/webhooks/forms/generic", body=body, headers=headers)
    analytics.identify(
        user_id="user-7",
        anonymous_id="anon-7",
        traits={"email": "Ana@Acme.io", "title": "CTO", "company": {"name": "Acme", "employee_count": 300}},
    )
    analytics.track(user_id="user-7", event="Trial Started")  # later calls carry only the userId
    analytics.flush()
    by_email = json_body(admin_get(client, "/leads/email:ana@acme.io"))
    assert json_body(admin_get(client, "/leads/anon:anon-7"))["lead_id"] == by_email["lead_id"]
    assert json_body(admin_get(client, "/leads/user:user-7"))["lead_id"] == by_email["lead_id"]
    assert by_email["engagement"] == 20 + 25 + 30
    assert by_email["fit"] == 35
    assert {"anon:anon-7", "email:ana@acme.io", "user:user-7"} <= set(by_email["identities"])


def test_a_wrong_write_key_is_rejected(live_url: str, client) -> None:
    analytics = sdk(live_url, write_key="not-the-key")
    with pytest.raises(APIError) as rejected:
        analytics.track(anonymous_id="anon-9", event="Demo Requested")
    assert (rejected.value.status, rejected.value.code) == (401, "unauthorized")
    assert admin_get(client, "/leads/anon:anon-9").status_code == 404


def test_single_message_routes_and_clock_skew(client) -> None:
    message = {
        "type": "track",
        "event": "Quote Requested",
        "userId": "u-100",
        "messageId": "msg-100",
        # the device clock is an hour ahead: timestamp and sentAt are both skewed, the difference is real
        "timestamp": "2030-01-01T11:00:00Z",
        "sentAt": "2030-01-01T11:00:05Z",
    }
    response = client.http.post("/v1/track", body=signing.json_dumps(message), headers=signing.basic())
    assert response.status_code == 200
    card = json_body(admin_get(client, "/leads/user:u-100"))["card"]
    assert card["engagement"] == 30
    (contribution,) = [c for c in card["contributions"] if c["rule"] == "quote_request"]
    assert contribution["event_ids"] == ["msg-100"]
    page = {"userId": "u-100", "messageId": "p-1", "properties": {"path": "/docs/setup", "duration_seconds": 1000}}
    assert client.http.post("/v1/page", body=signing.json_dumps(page), headers=signing.basic()).status_code == 200
    identify = {"userId": "u-100", "messageId": "i-1", "traits": {"email": "u100@acme.io", "title": "VP"}}
    assert (
        client.http.post("/v1/identify", body=signing.json_dumps(identify), headers=signing.basic()).status_code == 200
    )
    lead = json_body(admin_get(client, "/leads/email:u100@acme.io"))
    assert (lead["fit"], lead["engagement"]) == (15, 65)


def test_a_malformed_tracking_call_is_400_naming_the_field(client) -> None:
    """Each malformed call and the field it names: tests/unit/sources/test_segment.py."""
    body = signing.json_dumps({"userId": "u", "event": "X", "timestamp": "soon"})
    response = client.http.post("/v1/track", body=body, headers=signing.basic())
    assert response.status_code == 400
    assert json_body(response)["field"] == "timestamp"


def test_a_batch_repeating_one_message_counts_every_copy(client) -> None:
    """accepted + duplicates + rejected = the messages sent, in the answer and the Events metric."""
    copy = {"type": "track", "event": "Demo Requested", "userId": "u-rep", "messageId": "rep-1"}
    body = signing.json_dumps({"batch": [copy] * 5 + [{"type": "track", "event": "X"}]})
    response = client.http.post("/v1/batch", body=body, headers=signing.basic())
    counts = json_body(response)
    assert (counts["accepted"], counts["duplicates"], len(counts["rejected"])) == (1, 4, 1)


def test_a_batch_stores_its_valid_messages_and_reports_the_invalid_ones(client) -> None:
    """As Segment's own API does: 200, each bad message named in `rejected`, the rest stored."""
    batch = [
        {"type": "track", "event": "X"},
        {"type": "track", "event": "Demo Requested", "userId": "u-ok", "messageId": "ok-1"},
        {"type": "track", "event": "X", "userId": "u", "timestamp": "soon"},
        {"type": "identify", "userId": "u" * 3000, "traits": {"email": "long@acme.io"}},
    ]
    response = client.http.post("/v1/batch", body=signing.json_dumps({"batch": batch}), headers=signing.basic())
    assert response.status_code == 200
    body = json_body(response)
    assert body["accepted"] == 1
    assert [item["field"] for item in body["rejected"]] == ["batch[0].userId", "batch[2].timestamp", "batch[3].userId"]
    assert json_body(admin_get(client, "/leads/user:u-ok"))["engagement"] == 50


def test_missing_auth_is_401_with_a_basic_challenge(client) -> None:
    body = signing.json_dumps({"userId": "u", "event": "X"})
    response = client.http.post("/v1/track", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_gzip_bodies_behind_api_gateway(aws) -> None:
    """API Gateway hands a binary media type to Lambda base64-encoded (isBase64Encoded); the
    handler inflates the gzip body and the write key still verifies."""
    import base64
    import gzip

    from app import app

    message = {"type": "track", "userId": "u-gz", "event": "Demo Requested", "messageId": "gz-1"}
    body = base64.b64encode(gzip.compress(json.dumps({"batch": [message]}).encode())).decode()
    proxy_event = {
        "resource": "/v1/batch",
        "path": "/v1/batch",
        "httpMethod": "POST",
        "headers": {**signing.basic(), "Content-Type": "application/json", "Content-Encoding": "gzip", "Host": "x"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/v1/batch", "httpMethod": "POST", "path": "/api/v1/batch",
                           "requestId": "req-gz", "stage": "api"},
        "body": body,
        "isBase64Encoded": True,
    }  # fmt: skip
    response = app(proxy_event, None)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["accepted"] == 1, response["body"]
    assert not response.get("isBase64Encoded")  # the reply is plain JSON text


def test_gzip_that_inflates_past_the_limit_is_413(client) -> None:
    import gzip

    bomb = gzip.compress(b'{"batch": [' + b" " * (8 * 1024 * 1024) + b"]}")
    response = client.http.post("/v1/batch", body=bomb, headers={**signing.basic(), "Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_the_rudderstack_sdk_unmodified_gzips_and_its_traits_count(live_url: str, client) -> None:
    """rudder-sdk-python as it ships: gzip bodies to /v1/batch, identify traits in context.traits."""
    from rudderstack.analytics.client import Client as RudderClient

    errors: list = []
    rudder = RudderClient(
        SECRETS["EVENTS_WRITE_KEY"], host=live_url, sync_mode=True, max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )  # fmt: skip
    assert rudder.gzip  # the SDK's default
    rudder.page(anonymous_id="anon-r1", name="Pricing", properties={"url": "https://acme.example/pricing"})
    rudder.track(anonymous_id="anon-r1", event="Demo Requested")
    rudder.identify(
        user_id="user-r1",
        anonymous_id="anon-r1",
        traits={"email": "rita@initech.com", "name": "Rita Moss", "title": "VP Marketing", "employees": 250},
    )
    assert errors == []
    rita = json_body(admin_get(client, "/leads/email:rita@initech.com"))
    assert rita["lead_id"] == json_body(admin_get(client, "/leads/anon:anon-r1"))["lead_id"]
    assert (rita["profile"]["first_name"], rita["profile"]["last_name"]) == ("Rita", "Moss")
    assert rita["profile"]["job_title"] == "VP Marketing" and rita["fit"] > 0
    assert rita["engagement"] >= 50


def test_the_rudderstack_sdk_batches_several_calls(live_url: str, client) -> None:
    from rudderstack.analytics.client import Client as RudderClient

    errors: list = []
    rudder = RudderClient(
        SECRETS["EVENTS_WRITE_KEY"], host=live_url, max_retries=0, upload_size=10, upload_interval=0.1,
        on_error=lambda error, batch: errors.append(error),
    )  # fmt: skip
    for number in range(5):
        rudder.track(user_id="user-r2", event="Email Opened", properties={"email_id": f"m-{number}"})
    rudder.flush()
    rudder.join()
    assert errors == []
    assert json_body(admin_get(client, "/leads/user:user-r2"))["card"]["contributions"][0]["count"] == 5


@pytest.mark.parametrize("vendor", ["segment", "rudderstack"])
def test_the_sdks_send_the_b2b_saas_spec_and_it_scores_the_same(live_url: str, client, vendor: str) -> None:
    """Segment's B2B SaaS spec sent with each vendor's SDK: the sign-up's properties fill the
    profile, the group call and context.groupId link the account, and the spec events score."""
    from rudderstack.analytics.client import Client as RudderClient

    errors: list = []
    user = f"{vendor}-u1"
    if vendor == "segment":
        sender: Any = sdk(live_url, errors=errors)
    else:
        sender = RudderClient(
            SECRETS["EVENTS_WRITE_KEY"], host=live_url, sync_mode=True, max_retries=0,
            on_error=lambda error, batch: errors.append(error),
        )  # fmt: skip
    account = {"groupId": "acct_9"}
    sender.track(user_id=user, event="Signed Up", context=account, properties={
        "type": "organic", "first_name": "Ada", "last_name": "Byron", "email": f"ada@{vendor}.example",
        "title": "VP Engineering",
    })  # fmt: skip
    sender.group(user_id=user, group_id="acct_9", traits={"name": "Analytical Engines", "employees": 250})
    sender.track(user_id=user, event="Invite Sent", context=account, properties={"invitee_email": "c@x.example"})
    sender.track(user_id=user, event="Video Playback Completed", properties={"session_id": "s1", "position": 60})
    sender.track(user_id=user, event="Live Chat Conversation Started", properties={"conversation_id": "c1"})
    sender.flush()
    assert errors == []
    lead = json_body(admin_get(client, f"/leads/user:{user}"))
    assert lead["account"] == {
        "key": "group:acct_9",
        "id": "acct_9",
        "name": "Analytical Engines",
        "via": "Segment group",
        "score": None,  # not rolled up yet: that is the task queue's
        "tier": None,
    }
    profile = lead["profile"]
    assert (profile["first_name"], profile["email"], profile["job_title"], profile["company_size"]) == (
        "Ada", f"ada@{vendor}.example", "VP Engineering", 250
    )  # fmt: skip
    earned = {c["rule"]: c["points_now"] for c in lead["card"]["contributions"] if c["points_now"]}
    assert {name: earned[name] for name in ("product_signup", "invite_sent", "video_completed", "live_chat")} == {
        "product_signup": 30, "invite_sent": 30, "video_completed": 10, "live_chat": 15
    }  # fmt: skip


def test_invisible_direction_controls_never_reach_a_display_field(client) -> None:
    """A company "Acme\u202egnp.exe\u202c Corp" would read "Acmeexe.png Corp": every stored display
    field (name, company, title, event name, page title) loses bidirectional and invisible controls."""
    rlo, pdf, zwsp = "\u202e", "\u202c", "\u200b"
    identify = {"userId": "u-bidi", "messageId": "b-1", "traits": {
        "email": "bidi@acme.io", "firstName": f"Ev{rlo}e", "company": f"Acme{rlo}gnp.exe{pdf} Corp",
        "title": f"V{zwsp}P"}}  # fmt: skip
    page = {"userId": "u-bidi", "messageId": "b-2", "name": f"Pri{rlo}cing", "properties": {"path": "/pricing"}}
    track = {"userId": "u-bidi", "messageId": "b-3", "event": f"Demo{rlo} Requested"}
    for path, body in (("/v1/identify", identify), ("/v1/page", page), ("/v1/track", track)):
        assert client.http.post(path, body=signing.json_dumps(body), headers=signing.basic()).status_code == 200
    reply = admin_get(client, "/leads/user:u-bidi")
    text = reply.body.decode()
    assert not any(mark in text for mark in (rlo, pdf, zwsp, "\\u202e", "\\u202c", "\\u200b"))
    profile = json_body(reply)["profile"]
    assert (profile["company"], profile["first_name"], profile["job_title"]) == ("Acmegnp.exe Corp", "Eve", "VP")
    assert json_body(reply)["engagement"] >= 50  # "Demo Requested" still means a demo request
