"""The leads list as reps work it: closed leads (won, lost, disqualified) hidden unless asked for
(`status=open|closed|all`), "my leads" (`owner=`), each page reading a bounded number of leads."""

from __future__ import annotations

from tests.conftest import SECRETS, admin_get, json_body
from tests.payloads import envelope, notification

PATH = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
SAM, KIM = "0055g00000SAMSAMSA", "0055g00000KIMKIMKI"


def _deliver(client, *notifications: str) -> None:
    reply = client.http.post(PATH, body=envelope(*notifications), headers={"Content-Type": "text/xml"})
    assert reply.status_code == 200, reply.body


def _listed(client, query: str = "") -> list[str]:
    reply = admin_get(client, f"/leads{query}")
    assert reply.status_code == 200, reply.body
    return sorted(row["email"] for row in json_body(reply)["leads"])


def test_closed_leads_are_hidden_by_default_and_owner_filters_to_my_leads(client) -> None:
    _deliver(
        client,
        notification("n1", "00Q5g00000OPEN1AAA", Email="open@acme.com", Title="VP Sales", OwnerId=SAM),
        notification("n2", "00Q5g00000WON01AAA", Email="won@acme.com", Title="VP Sales", OwnerId=SAM,
                     Status="Closed - Converted"),
        notification("n3", "00Q5g00000KIM01AAA", Email="kim@acme.com", Title="CTO", OwnerId=KIM),
    )  # fmt: skip
    assert _listed(client) == ["kim@acme.com", "open@acme.com"]
    assert _listed(client, "?status=closed") == ["won@acme.com"]
    assert _listed(client, "?status=all") == ["kim@acme.com", "open@acme.com", "won@acme.com"]
    assert _listed(client, f"?owner={SAM}") == ["open@acme.com"]
    assert _listed(client, f"?owner=salesforce:{SAM}&status=all") == ["open@acme.com", "won@acme.com"]
    assert _listed(client, "?owner=hubspot:1") == []
    won = json_body(admin_get(client, "/leads?status=closed"))["leads"][0]
    assert won["outcome"]["state"] == "won" and won["owner"]["id"] == SAM
    assert json_body(admin_get(client, "/leads?status=shut"))["field"] == "status"


def test_a_rare_match_pages_in_bounded_reads_never_a_read_of_every_lead(client) -> None:
    closed = [
        notification(f"c{n}", f"00Q5g0000C{n:03d}AAAAA", Email=f"c{n}@acme.com", Status="Closed - Converted")
        for n in range(30)
    ]
    _deliver(client, *closed, notification("o1", "00Q5g00000LAST1AAA", Email="last@acme.com"))
    found, cursor, pages = [], None, 0
    while True:
        page = json_body(admin_get(client, "/leads?limit=2" + (f"&cursor={cursor}" if cursor else "")))
        assert len(page["leads"]) <= 2
        found += [row["email"] for row in page["leads"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert found == ["last@acme.com"] and pages >= 2  # each page read at most 20 leads, then said where to go on


def test_new_mqls_lists_who_entered_mql_newest_first(client) -> None:
    import json

    from tests import signing

    def track(user: str, event: str, message: str) -> None:
        body = json.dumps({"userId": user, "event": event, "messageId": message,
                           "context": {"traits": {"email": f"{user}@hooli.com"}}})  # fmt: skip
        assert client.http.post("/v1/track", body=body, headers=signing.basic()).status_code == 200

    track("first", "Demo Requested", "m1")  # warm
    track("first", "Quote Requested", "m2")  # hot: entered MQL
    track("browser", "Page Viewed", "m3")  # stays cold: never MQL
    track("second", "Demo Requested", "m4")
    track("second", "Quote Requested", "m5")  # entered MQL
    track("second", "Trial Started", "m6")  # already MQL: still entered once
    rows = json_body(admin_get(client, "/leads?view=new_mqls&days=7"))["leads"]
    assert [row["email"] for row in rows] == ["second@hooli.com", "first@hooli.com"]
    assert rows[1]["entered_mql"]["from"] == "warm" and rows[1]["entered_mql"]["to"] in ("hot", "super_hot")
    assert rows[0]["entered_mql"]["at"] >= rows[1]["entered_mql"]["at"] and rows[0]["entered_mql"]["at"].endswith("Z")
    assert json_body(admin_get(client, "/leads?view=new_mqls&days=0"))["field"] == "days"


def test_sorted_by_change_since_yesterday_by_latest_activity_and_found_by_name(client) -> None:
    """Yesterday's work stored as the pipeline stores it; today's through the API. Risers first,
    biggest first, then who did not move, then who fell; each row says by how much."""
    import json
    from datetime import UTC, datetime, timedelta

    from chalicelib.domain import Identities, LeadEvent
    from chalicelib.service_layer.commands import ParsedDelivery
    from chalicelib.storage.dynamodb import DynamoStorage
    from tests import signing
    from tests.conftest import TABLE
    from tests.helpers import use_cases

    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)

    def earlier(user: str, *kinds: str) -> None:
        who = Identities(user_id=user, email=f"{user}@hooli.com")
        events = [LeadEvent(event_id=f"{user}-{kind}", source="segment", type=kind, occurred_at=yesterday,
                            identities=who) for kind in kinds]  # fmt: skip
        use_cases(DynamoStorage(TABLE)).ingestion.ingest(ParsedDelivery(events=events), yesterday)

    def track(user: str, event: str, **traits: str) -> None:
        body = json.dumps({"userId": user, "event": event, "messageId": f"{user}-{event}-today",
                           "context": {"traits": {"email": f"{user}@hooli.com", **traits}}})  # fmt: skip
        assert client.http.post("/v1/track", body=body, headers=signing.basic()).status_code == 200

    earlier("faller", "Demo Requested", "Quote Requested")
    earlier("riser", "Demo Requested")
    earlier("still", "Trial Started")
    track("riser", "Quote Requested", firstName="Ada", lastName="Lovelace")
    track("faller", "Unsubscribed")
    user_of = {lead_id: key.removeprefix("user:") for key, lead_id in
               DynamoStorage(TABLE).leads.resolve(["user:riser", "user:still", "user:faller"]).items()}  # fmt: skip
    rows = json_body(admin_get(client, "/leads?sort=change&status=all"))["leads"]
    assert [user_of[row["lead_id"]] for row in rows] == ["riser", "still", "faller"]
    riser, still, faller = rows
    assert riser["change_1d"] > 0 and still["change_1d"] == 0 and faller["change_1d"] < 0
    assert riser["change_7d"] == riser["score"]  # new this week: it started the week at nothing
    lead = json_body(admin_get(client, f"/leads/{riser['lead_id']}"))
    assert (lead["change_1d"], lead["change_7d"]) == (riser["change_1d"], riser["change_7d"])
    by_activity = json_body(admin_get(client, "/leads?sort=last_active&status=all"))["leads"]
    assert user_of[by_activity[0]["lead_id"]] in ("riser", "faller")  # today's, before yesterday's
    assert user_of[by_activity[-1]["lead_id"]] == "still"
    assert [row["name"] for row in json_body(admin_get(client, "/leads?q=lovelace"))["leads"]] == ["Ada Lovelace"]
    assert [row["name"] for row in json_body(admin_get(client, "/leads?q=ada+l"))["leads"]] == ["Ada Lovelace"]
    assert json_body(admin_get(client, "/leads?sort=mood"))["field"] == "sort"
    cursor = json_body(admin_get(client, "/leads?sort=change&limit=1"))["next_cursor"]
    assert admin_get(client, f"/leads?sort=score&limit=1&cursor={cursor}").status_code == 400  # another order's
