"""Outcomes from the CRM, stored with the card sales saw, and the conversion report by tier."""

from __future__ import annotations

from tests.conftest import SECRETS, admin_get, json_body
from tests.e2e.test_hubspot import change, post
from tests.e2e.test_salesforce import PATH as SF_PATH
from tests.e2e.test_salesforce import XML_HEADERS, envelope, notification


def lead(client, key: str) -> dict:
    return json_body(admin_get(client, f"/leads/{key}"))


def test_a_hubspot_customer_is_won_with_the_score_it_had_then(client) -> None:
    post(client, [change(1, 701, "email", "cto@bigco.com"), change(2, 701, "jobtitle", "CTO")])
    before = lead(client, "hubspot:701")
    assert before["outcome"] is None

    post(client, [change(3, 701, "lifecyclestage", "customer")])

    outcome = lead(client, "hubspot:701")["outcome"]
    assert outcome["state"] == "won"
    assert (outcome["score"], outcome["tier"], outcome["grade"]) == (before["score"], before["tier"], before["grade"])
    assert outcome["lifecycle_stage"] == "customer" and outcome["days"] is not None


def test_not_a_fit_disqualifies_until_sales_changes_the_status(client) -> None:
    post(client, [change(11, 702, "email", "vp@bigco.com"), change(12, 702, "jobtitle", "VP Marketing")])
    tier_before = lead(client, "hubspot:702")["tier"]

    post(client, [change(13, 702, "hs_lead_status", "UNQUALIFIED")])
    lost = lead(client, "hubspot:702")
    assert lost["tier"] == "disqualified"
    assert lost["outcome"]["state"] == "lost" and lost["outcome"]["tier"] == tier_before

    post(client, [change(14, 702, "hs_lead_status", "IN_PROGRESS")])
    reopened = lead(client, "hubspot:702")
    assert reopened["tier"] == tier_before
    assert reopened["outcome"]["state"] == "open"


def test_salesforce_is_converted_is_won(client) -> None:
    client.http.post(
        SF_PATH, body=envelope(notification("04w1", "00Q5g00000W1", Email="a@acme.io")), headers=XML_HEADERS
    )
    body = envelope(notification("04w2", "00Q5g00000W1", Email="a@acme.io", IsConverted="true"))
    assert client.http.post(SF_PATH, body=body, headers=XML_HEADERS).status_code == 200
    assert lead(client, "salesforce:00Q5g00000W1")["outcome"]["state"] == "won"


def test_tier_report_counts_conversions_by_the_tier_at_the_outcome(client) -> None:
    # Two strong leads that become customers, two weak ones that sales marks unqualified, one open.
    post(
        client,
        [
            change(21, 801, "jobtitle", "CEO"),
            change(22, 801, "numemployees", "500"),
            change(23, 801, "industry", "Software"),
        ],
    )
    post(client, [change(24, 802, "jobtitle", "Director"), change(25, 802, "numemployees", "200")])
    post(client, [change(26, 803, "jobtitle", "Student")])
    post(client, [change(27, 804, "jobtitle", "Intern")])
    post(client, [change(28, 805, "jobtitle", "Analyst")])
    grades = {key: lead(client, f"hubspot:{key}")["grade"] for key in (801, 802, 803, 804)}
    post(client, [change(31, 801, "lifecyclestage", "customer"), change(32, 802, "lifecyclestage", "customer")])
    post(client, [change(33, 803, "hs_lead_status", "UNQUALIFIED"), change(34, 804, "hs_lead_status", "BAD_TIMING")])

    assert client.http.get("/reports/tiers").status_code == 401
    report = json_body(
        client.http.get("/reports/tiers", headers={"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"})
    )

    assert (report["leads"], report["resolved"], report["conversions"]) == (5, 4, 2)
    assert report["auc"] == 1.0  # both customers outscored both lost leads
    assert report["tiers"]["disqualified"]["leads"] == 0  # counted in the tier sales saw, not after
    assert sum(row["leads"] for row in report["tiers"].values()) == 5
    won_grades = [grades[801], grades[802]]
    for grade in set(won_grades):
        row = report["grades"][grade]
        assert row["conversions"] == won_grades.count(grade)
        assert row["median_days_to_convert"] is not None
    cold = report["tiers"]["cold"]
    assert cold["conversion_rate"] == round(cold["conversions"] / cold["leads"], 4)


def test_the_exceptions_report_lists_cold_wins_and_hot_losses_with_their_reasons(client) -> None:
    """The monthly review: a won lead that scored in the lowest tier, a lost one that scored MQL,
    each with the reasons it had when sales acted."""
    from tests.e2e.test_leads_api import _leads, get

    _leads(client)  # six Segment leads, user:u5 the most engaged
    hot = lead(client, "user:u5")
    assert hot["card"]["mql"], hot["tier"]
    (row,) = json_body(get(client, "/leads?q=p5@lead5.io"))["leads"]
    post(client, [change(41, 901, "email", "p5@lead5.io"), change(42, 901, "hs_lead_status", "UNQUALIFIED")])
    post(client, [change(43, 902, "jobtitle", "Student"), change(44, 902, "lifecyclestage", "customer")])
    cold = lead(client, "hubspot:902")
    assert cold["outcome"]["state"] == "won" and cold["outcome"]["tier"] == "cold"

    assert client.http.get("/reports/exceptions").status_code == 401
    reply = get(client, "/reports/exceptions?limit=5", "VIEWER_API_KEY")
    assert reply.status_code == 200, reply.body
    report = json_body(reply)

    (won,) = report["won_scored_low"]["leads"]
    assert (won["lead_id"], won["tier"], won["state"]) == (cold["lead_id"], "cold", "won")
    (lost,) = report["lost_scored_high"]["leads"]
    assert (lost["lead_id"], lost["state"], lost["score"]) == (hot["lead_id"], "lost", hot["score"])
    assert lost["tier"] == hot["tier"] and lost["reasons"] == row["reasons"]  # its reasons then
    assert report["won_scored_low"]["count"] == 1 and report["lost_scored_high"]["tiers_from"] == "hot"
    assert get(client, "/reports/exceptions?limit=0").status_code == 400
