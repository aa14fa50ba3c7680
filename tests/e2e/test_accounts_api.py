"""The accounts API through the real HTTP path (Segment deliveries in, the task queue drained as
SQS would): `GET /accounts` is a leaderboard paged by cursor from an index (never a Scan),
`GET /accounts/{key}` an account's card with its contacts, and every lead names its account's
score and tier. A Segment `group` call links a lead to an account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests import signing
from tests.conftest import SECRETS, json_body
from tests.integration.crm_fakes import Worker


def get(client: Any, path: str, key: str = "VIEWER_API_KEY") -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {SECRETS[key]}"})


def _deliver(client: Any) -> None:
    """Three people at acme.io (two engaged), one at globex.io, one on gmail.com (no account), and
    one linked to the group `grp-1` by a group call."""
    at = datetime.now(UTC) - timedelta(hours=2)
    people = [("a1", "ada@acme.io", ["Demo Requested", "Webinar Attended"]), ("a2", "bob@ACME.io", ["Trial Started"]),
              ("a3", "cy@acme.io", []), ("g1", "gil@globex.io", ["Webinar Registered"]),
              ("f1", "fay@gmail.com", ["Demo Requested"]), ("u1", None, ["Quote Requested"])]  # fmt: skip
    batch: list[dict[str, Any]] = []
    for user, email, events in people:
        if email:
            batch.append({"type": "identify", "userId": user, "messageId": f"id-{user}", "timestamp": at.isoformat(),
                          "traits": {"email": email, "firstName": email.split("@")[0].title(), "company": "Acme"
                                     if "acme" in email.lower() else None}})  # fmt: skip
        for step, name in enumerate(events):
            batch.append({"type": "track", "userId": user, "event": name, "messageId": f"ev-{user}-{step}",
                          "timestamp": (at + timedelta(minutes=step)).isoformat()})  # fmt: skip
    batch.append({"type": "group", "userId": "u1", "groupId": "grp-1", "messageId": "grp-u1",
                  "traits": {"name": "Umbrella Corp", "employees": 5000}, "timestamp": at.isoformat()})  # fmt: skip
    reply = client.http.post("/v1/batch", body=json.dumps({"batch": batch}), headers=signing.basic())
    assert reply.status_code == 200, reply.body
    Worker().drain()


def test_the_leaderboard_pages_by_cursor_highest_first_and_never_scans(client: Any, scans: list[str]) -> None:
    _deliver(client)
    rows, cursor, pages = [], None, 0
    while True:
        body = json_body(get(client, "/accounts?limit=1" + (f"&cursor={cursor}" if cursor else "")))
        rows += body["accounts"]
        pages += 1
        cursor = body["cursor"]
        if not cursor:
            break
    assert [row["key"] for row in rows] == ["domain:acme.io", "group:grp-1", "domain:globex.io"]
    assert pages >= 3 and scans == []
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    acme = rows[0]
    assert (acme["name"], acme["via"], acme["engaged_contacts"], acme["tier"]) == ("Acme", "email domain", 2, "warm")
    assert acme["engagement"] == 105 and acme["breadth"] == 10  # demo 50 + webinar 25, trial 30; one beyond the first
    assert acme["reasons"][0].startswith("Ada (+75): Requested a demo")
    assert json_body(get(client, "/accounts?tier=warm"))["accounts"][0]["key"] == "domain:acme.io"
    refused = get(client, "/accounts?tier=lukewarm")
    assert refused.status_code == 400 and json_body(refused)["field"] == "tier"
    assert get(client, "/accounts?cursor=nonsense").status_code == 400


def test_an_account_shows_its_card_and_its_contacts_most_engaged_first(client: Any, scans: list[str]) -> None:
    _deliver(client)
    body = json_body(get(client, "/accounts/domain:ACME.io"))  # a domain's case does not matter
    assert body["key"] == "domain:acme.io" and body["card"]["score"] == body["score"]
    assert [contact["email"] for contact in body["contacts"]] == ["ada@acme.io", "bob@acme.io", "cy@acme.io"]
    first = body["contacts"][0]
    assert first["score"] > 0 and first["tier"] and first["last_active_at"].endswith("Z")
    kinds = {item["kind"] for item in body["card"]["contributions"]}
    assert kinds == {"contact", "breadth"}  # no company size or industry known for acme.io
    paged = json_body(get(client, "/accounts/domain:acme.io?limit=2"))
    rest = json_body(get(client, f"/accounts/domain:acme.io?limit=2&cursor={paged['cursor']}"))
    assert [c["email"] for c in paged["contacts"] + rest["contacts"]] == ["ada@acme.io", "bob@acme.io", "cy@acme.io"]
    assert rest["cursor"] is None and scans == []

    grouped = json_body(get(client, "/accounts/group:grp-1"))
    assert grouped["name"] == "Umbrella Corp" and grouped["fit"] == 30  # the group call's traits: 5,000 employees
    assert grouped["via"] == "Segment group"

    lead = json_body(get(client, "/leads/user:a1"))
    assert lead["account"] == {"key": "domain:acme.io", "id": "acme.io", "name": "Acme", "via": "email domain",
                               "score": body["score"], "tier": body["tier"]}  # fmt: skip
    assert json_body(get(client, "/leads/user:f1"))["account"] is None  # free mail: no account
    # The leads list names each lead's account with its score and tier (one batch read a page).
    rows = {row["email"]: row["account"] for row in json_body(get(client, "/leads?status=all"))["leads"]}
    expected = {"key": "domain:acme.io", "name": "Acme", "score": body["score"], "tier": body["tier"]}
    assert rows["ada@acme.io"] == expected
    assert rows["fay@gmail.com"] is None and scans == []


def test_a_key_of_no_kind_is_a_400_and_an_unknown_account_a_404(client: Any) -> None:
    _deliver(client)
    bad = get(client, "/accounts/acme.io")
    assert bad.status_code == 400 and json_body(bad)["field"] == "key"
    missing = get(client, "/accounts/domain:nowhere.example")
    assert missing.status_code == 404 and json_body(missing)["message"] == "no such account"
    assert client.http.get("/accounts").status_code == 401
