"""The leads API behind the console, through the real HTTP path: the admin or the read-only viewer
key, a leads list paged by cursor (never a Scan), filters and search, labelled fields and one
timestamp format."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import signing
from tests.conftest import SECRETS, json_body

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
COMPANIES = ["Acme, Inc.", "Acmé Labs", "Globex", "Initech", "Umbrella Corp", "Hooli"]
INTENT = ["Demo Requested", "Quote Requested", "Meeting Booked", "Trial Started", "Webinar Registered"]


def get(client: Any, path: str, key: str = "ADMIN_API_KEY") -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {SECRETS[key]}"})


def _leads(client: Any) -> None:
    """Six leads through Segment: identify (name, email, company) and 0 to 5 intent events: the n-th
    lead scores more than the one before."""
    at = datetime.now(UTC) - timedelta(hours=2)
    batch: list[dict[str, Any]] = []
    for number, company in enumerate(COMPANIES):
        user = f"u{number}"
        traits = {
            "email": f"p{number}@lead{number}.io",
            "firstName": "Pat",
            "lastName": f"Lee{number}",
            "company": company,
        }
        batch.append({"type": "identify", "userId": user, "messageId": f"id-{number}", "traits": traits,
                      "timestamp": at.isoformat()})  # fmt: skip
        for step in range(number):
            batch.append({
                "type": "track", "userId": user, "event": INTENT[step],
                "messageId": f"ev-{number}-{step}", "timestamp": (at + timedelta(minutes=step)).isoformat(),
            })  # fmt: skip
    reply = client.http.post("/v1/batch", body=json.dumps({"batch": batch}), headers=signing.basic())
    assert reply.status_code == 200, reply.body


def test_the_viewer_key_reads_and_a_wrong_key_is_refused(client) -> None:
    _leads(client)
    assert get(client, "/leads", "VIEWER_API_KEY").status_code == 200
    assert get(client, "/reports/tiers", "VIEWER_API_KEY").status_code == 200
    refused = client.http.get("/leads", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert json_body(refused)["code"] == json_body(refused)["error"] == "unauthorized"
    assert client.http.get("/leads").status_code == 401


def test_the_list_pages_by_cursor_with_labelled_columns_and_no_scan(client, scans) -> None:
    _leads(client)
    rows, cursor, pages = [], None, 0
    while True:
        body = json_body(get(client, "/leads?limit=4" + (f"&cursor={cursor}" if cursor else ""), "VIEWER_API_KEY"))
        rows += body["leads"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 2 and len(rows) == 6 and scans == []
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    top = rows[0]
    assert (top["name"], top["email"], top["company"]) == ("Pat Lee5", "p5@lead5.io", "Hooli")
    assert set(top) >= {"lead_id", "name", "company", "score", "fit", "engagement", "tier", "grade",
                        "last_active_at", "next_change_at", "reasons", "updated_at"}  # fmt: skip
    assert ISO_Z.fullmatch(top["last_active_at"]) and ISO_Z.fullmatch(top["updated_at"])
    assert top["next_change_at"] is None or ISO_Z.fullmatch(top["next_change_at"])


def test_filters_and_search_by_email_crm_id_and_company(client, scans) -> None:
    _leads(client)
    everyone = json_body(get(client, "/leads"))["leads"]
    tier = everyone[0]["tier"]
    assert {row["tier"] for row in json_body(get(client, f"/leads?tier={tier}"))["leads"]} == {tier}
    grade = everyone[0]["grade"]
    assert {row["grade"] for row in json_body(get(client, f"/leads?grade={grade}"))["leads"]} == {grade}
    by_email = json_body(get(client, "/leads?q=P3@LEAD3.IO"))["leads"]
    assert [row["company"] for row in by_email] == ["Initech"]
    by_user = json_body(get(client, "/leads?q=user:u2"))["leads"]
    assert [row["company"] for row in by_user] == ["Globex"]
    by_company = json_body(get(client, "/leads?q=acme"))["leads"]
    assert sorted(row["company"] for row in by_company) == ["Acme, Inc.", "Acmé Labs"]
    assert json_body(get(client, "/leads?q=nobody@nowhere.io"))["leads"] == []
    assert scans == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("tier=lukewarm", "tier"), ("grade=Z", "grade"), ("cursor=garbage", "cursor"), ("q=a", "q"), ("limit=0", "limit")],
)
def test_bad_parameters_are_400_naming_the_field(client, query, field) -> None:
    reply = get(client, f"/leads?{query}")
    assert reply.status_code == 400
    assert json_body(reply)["field"] == field and json_body(reply)["code"] in ("bad_request", "bad_payload")


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": "LEAD#ld_x"}, "sk": {"S": "LEAD"}, "tier": {"S": "hot"}, "score": {"N": "not-a-number"}},
        {"pk": {"S": "LEAD#ld_x"}, "sk": {"S": "LEAD"}, "tier": {"N": "1"}, "score": {"N": "10"}},
    ],
    ids=["score not a number", "tier not a string"],
)
def test_a_well_formed_but_altered_cursor_is_400_naming_it(client, key) -> None:
    """A cursor is opaque, but it can be decoded and re-encoded: DynamoDB must never see a key it refuses."""
    import base64

    raw = json.dumps({"t": 0, "k": key}, separators=(",", ":")).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    reply = get(client, f"/leads?cursor={cursor}")
    assert reply.status_code == 400 and json_body(reply)["field"] == "cursor"


def test_one_lead_reads_with_labelled_fields_and_one_timestamp_format(client) -> None:
    _leads(client)
    reply = get(client, "/leads/user:u5", "VIEWER_API_KEY")
    assert reply.status_code == 200
    assert "+00:00" not in reply.body.decode()  # every time is ISO 8601 UTC with Z
    lead = json_body(reply)
    assert lead["tier_changes"] and all(ISO_Z.fullmatch(change["at"]) for change in lead["tier_changes"])
    assert set(lead["write_back"]) == {"pending_since", "last", "last_failed_attempt"}
    assert ISO_Z.fullmatch(lead["card"]["scored_at"])


def test_the_timeline_has_a_point_a_day_ending_at_the_current_score(client) -> None:
    _leads(client)
    lead = json_body(get(client, "/leads/user:u4", "VIEWER_API_KEY"))
    timeline = json_body(get(client, "/leads/user:u4/timeline", "VIEWER_API_KEY"))
    past = [point for point in timeline["points"] if not point["projected"]]
    future = [point for point in timeline["points"] if point["projected"]]
    assert (len(past), len(future)) == (91, 90)
    days = [datetime.fromisoformat(point["at"]) for point in timeline["points"]]
    assert all(later - earlier == timedelta(days=1) for earlier, later in itertools.pairwise(days))
    assert all(ISO_Z.fullmatch(point["at"]) for point in timeline["points"])
    assert past[-1]["score"] == lead["score"] and past[0]["score"] == 0  # nothing happened 90 days ago
    assert [band["name"] for band in timeline["tiers"]] == ["cold", "warm", "hot", "super_hot"]
    assert timeline["change_1d"] == past[-1]["score"] - past[-2]["score"]  # against this time yesterday
    assert timeline["change_7d"] == past[-1]["score"] - past[-8]["score"]
    assert get(client, "/leads/user:nobody/timeline").status_code == 404


def test_the_rules_in_force_read_section_by_section(client) -> None:
    rules = json_body(get(client, "/rules", "VIEWER_API_KEY"))
    assert rules["name"] == "seed-model" and re.fullmatch(r"[0-9a-f]{16}", rules["fingerprint"])
    demo = next(rule for rule in rules["engagement"] if rule["name"] == "demo_request")
    assert (demo["points"], demo["cap"], demo["decay"]) == (50, 50, "buying_intent")
    assert rules["lists"]["disposable_email_domains"]["entries"] > 1000
    assert len(rules["lists"]["disposable_email_domains"]["sample"]) == 5
    assert {"fit", "decay", "tiers", "grades", "filters", "event_types"} <= set(rules)


def _preview(client: Any, rules: str, key: str = "ADMIN_API_KEY", **extra: Any) -> Any:
    body = json.dumps({"rules": rules, **extra})
    headers = {"Authorization": f"Bearer {SECRETS[key]}", "Content-Type": "application/json"}
    return client.http.post("/rules/preview", body=body, headers=headers)


@pytest.fixture
def writes(aws: Any) -> list[str]:
    from chalicelib.bootstrap import container

    seen: list[str] = []
    client = container().storage.table.client  # type: ignore[attr-defined]
    for operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
        client.meta.events.register(f"before-call.dynamodb.{operation}", lambda **_: seen.append("write"))
    return seen


def test_a_rules_preview_moves_the_leads_it_says_and_writes_nothing(client, writes) -> None:
    from chalicelib.rules import DEFAULT_RULES_PATH

    _leads(client)
    before = json_body(get(client, "/leads"))["leads"]
    hot = [row for row in before if row["tier"] in ("hot", "super_hot")]
    assert hot  # the fixture has some
    stricter = DEFAULT_RULES_PATH.read_text().replace("{name: hot, min: 61}", "{name: hot, min: 1000}")
    stricter = stricter.replace("{name: super_hot, min: 101}", "{name: super_hot, min: 2000}")
    writes.clear()
    moved, scanned, cursor, pages, total = Counter(), 0, None, 0, None
    while True:
        answer = json_body(_preview(client, stricter, limit=2, **({"cursor": cursor} if cursor else {})))
        total = answer.get("total", total)
        scanned += answer["scanned"]
        for move in answer["moves"]:
            moved[(move["from"], move["to"])] += move["leads"]
        pages += 1
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert (total, scanned) == (6, 6) and pages in (3, 4)  # a last page may find the lower tiers empty
    assert sum(count for (old, new), count in moved.items() if old != new) == len(hot)
    assert all(new == "warm" for (old, new), count in moved.items() if old != new)
    assert writes == []
    after = json_body(get(client, "/leads"))["leads"]
    assert [(row["lead_id"], row["tier"]) for row in after] == [(row["lead_id"], row["tier"]) for row in before]


def test_a_rules_preview_reports_each_named_score(client, writes) -> None:
    from chalicelib.rules import DEFAULT_RULES_PATH

    _leads(client)
    named = DEFAULT_RULES_PATH.read_text() + (
        "\nscores:\n  buying:\n    label: Buying signals\n    when: {event_types: [demo_request, quote_request]}\n"
    )
    writes.clear()
    totals, cursor = Counter(), None
    while True:
        answer = json_body(_preview(client, named, limit=4, **({"cursor": cursor} if cursor else {})))
        for score in answer["named"]:
            assert (score["name"], score["label"]) == ("buying", "Buying signals")
            totals.update({key: value for key, value in score.items() if isinstance(value, int)})
        cursor = answer["next_cursor"]
        if not cursor:
            break
    # Lead n made the first n intent events: a demo (50) from the first, a quote (30) from the second.
    assert totals == {"leads": 6, "total": 50 + 4 * 80, "new": 6, "rose": 0, "fell": 0}
    assert writes == []


def test_a_rules_preview_names_each_problem_with_its_line(client) -> None:
    broken = "name: x\ntiers:\n  bands:\n    - {name: cold, min: -5}\n  mql_from: cold\ngrades:\n  - {grade: A}\n"
    reply = _preview(client, broken)
    assert reply.status_code == 400
    body = json_body(reply)
    assert body["code"] == "invalid_rules" and body["issues"]
    assert any(issue["line"] == 4 for issue in body["issues"])
    assert _preview(client, "tiers: [unclosed").status_code == 400


def test_the_viewer_key_cannot_preview_rules(client) -> None:
    reply = _preview(client, "name: x", key="VIEWER_API_KEY")
    assert reply.status_code == 403 and json_body(reply)["code"] == "forbidden"
    assert (
        client.http.post("/rules/preview", body="{}", headers={"Content-Type": "application/json"}).status_code == 401
    )
