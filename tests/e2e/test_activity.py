"""`GET /leads/{key}/activity`: what a lead did, newest first, a page at a time, each line naming
the thing (the form, the page, the email) with its points now or why it earns none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests import signing
from tests.conftest import SECRETS, admin_get, json_body
from tests.payloads import typeform_payload


def _batch(client, messages: list[dict]) -> None:
    reply = client.http.post("/v1/batch", body=json.dumps({"batch": messages}), headers=signing.basic())
    assert reply.status_code == 200, reply.body


def test_a_form_submission_shows_the_forms_name_and_the_newest_comes_first(client) -> None:
    body, headers = signing.typeform(typeform_payload(title="Book a demo"))
    assert client.http.post("/webhooks/forms/typeform", body=body, headers=headers).status_code == 200
    reply = admin_get(client, "/leads/email:lena@hooli.com/activity")
    assert reply.status_code == 200, reply.body
    [line] = json_body(reply)["activity"]
    assert "'Book a demo'" in line["title"] and line["source"] == "typeform"
    assert line["at"].endswith("Z") and line["rule"] and line["points_now"] > 0


def test_pages_walk_every_event_once_newest_first_with_titles_and_reasons(client) -> None:
    now = datetime.now(UTC)
    messages = [
        {"type": "page", "userId": "u-act", "messageId": f"pv-{n}", "name": "Pricing",
         "properties": {"url": f"https://acme.example/pricing?n={n}", "title": "Pricing"},
         "timestamp": (now - timedelta(hours=n + 1)).isoformat()}
        for n in range(30)
    ]  # fmt: skip
    messages.append({"type": "track", "userId": "u-act", "event": "Invented Thing", "messageId": "odd",
                     "timestamp": now.isoformat()})  # fmt: skip
    _batch(client, messages)
    seen, cursor = [], None
    while True:
        path = "/leads/user:u-act/activity?limit=7" + (f"&cursor={cursor}" if cursor else "")
        reply = admin_get(client, path)
        assert reply.status_code == 200, reply.body
        page = json_body(reply)
        assert len(page["activity"]) <= 7
        seen += page["activity"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [line["event_id"] for line in seen] == ["odd"] + [f"pv-{n}" for n in range(30)]
    assert seen[0]["note"] == "no rule scores 'Invented Thing'" and seen[0]["points_now"] == 0
    assert seen[1]["title"] == "Viewed 'Pricing' (/pricing)"
    times = [line["at"] for line in seen]
    assert times == sorted(times, reverse=True)


def test_the_viewer_key_reads_it_and_bad_input_is_a_4xx(client) -> None:
    _batch(client, [{"type": "track", "userId": "u-v", "event": "Demo Requested", "messageId": "d1"}])
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}
    assert client.http.get("/leads/user:u-v/activity", headers=viewer).status_code == 200
    assert admin_get(client, "/leads/user:nobody/activity").status_code == 404
    tampered = admin_get(client, "/leads/user:u-v/activity?cursor=eyJ1IjogIngifQ")
    assert tampered.status_code == 400 and json_body(tampered)["field"] == "cursor"
    assert json_body(admin_get(client, "/leads/user:u-v/activity?limit=0"))["field"] == "limit"
    assert json_body(admin_get(client, "/leads/user:u-v/activity?sort=x"))["code"] == "bad_request"
