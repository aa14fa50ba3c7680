"""Lifecycle moves (the rules file's `crm_actions`): a lead entering MQL moves forward in the CRM
(HubSpot's lifecycle stage, a Salesforce Lead's Status from the statuses listed), never backwards,
in the same batch call as its score; recorded on the lead's write-back history. Against local
HTTP servers that answer as HubSpot's and Salesforce's APIs do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.rules import RuleProblems
from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import use_container
from tests.integration.crm_fakes import FakeHubSpot, FakeSalesforce, Worker

NOW = datetime.now(UTC)
ACTIONS = """
crm_actions:
  on_mql:
    hubspot: {lifecyclestage: marketingqualifiedlead}
    salesforce: {Status: Marketing Qualified, from: [Open - Not Contacted, Working - Contacted]}
"""
RULES = parse_rules(DEFAULT_RULES_PATH.read_text(encoding="utf-8") + ACTIONS)


def _events(user: str, *, mql: bool = True, **profile: str) -> list[LeadEvent]:
    who = Identities(**{key: value for key, value in profile.items() if key in ("hubspot_id", "salesforce_id")})
    known = {key: value for key, value in profile.items() if key not in ("hubspot_id", "salesforce_id")}
    kinds = ["Demo Requested", "Quote Requested"] if mql else ["Demo Requested"]
    return [
        LeadEvent(event_id=f"{user}-p", source="segment", type="profile_updated", occurred_at=NOW - timedelta(hours=1),
                  identities=who, properties={"profile": known}),
        *(LeadEvent(event_id=f"{user}-{n}", source="segment", type=kind, occurred_at=NOW - timedelta(minutes=5),
                    identities=who) for n, kind in enumerate(kinds)),
    ]  # fmt: skip


def _ingest(events: list[LeadEvent]) -> None:
    container().ingestion.ingest(ParsedDelivery(events=events), NOW)


def test_hubspot_moves_forward_to_mql_and_never_back(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container(rules=lambda: RULES)
    hubspot = FakeHubSpot(httpserver)
    for contact in ("201", "202", "203", "204"):
        hubspot.add(contact)
    _ingest(_events("a", hubspot_id="201", lifecycle_stage="lead"))
    _ingest(_events("b", hubspot_id="202", lifecycle_stage="customer"))  # a customer stays a customer
    _ingest(_events("c", hubspot_id="203", lifecycle_stage="lead", mql=False))  # warm: not yet
    _ingest(_events("d", hubspot_id="204", lifecycle_stage="other"))  # outside the order: left alone
    Worker().poll()
    [call] = hubspot.calls  # one batch call: the moves ride along with the scores
    sent = {item["id"]: item["properties"] for item in call["inputs"]}
    assert sent["201"]["lifecyclestage"] == "marketingqualifiedlead" and "lead_score" in sent["201"]
    assert all("lifecyclestage" not in sent[contact] for contact in ("202", "203", "204"))
    lead = container().lead_views.lead("hubspot:201", NOW)
    assert lead["write_back"]["last"]["moves"] == {"hubspot": {"lifecyclestage": "marketingqualifiedlead"}}
    assert container().lead_views.lead("hubspot:202", NOW)["write_back"]["last"]["moves"] == {}

    # HubSpot's echo of the move: the stage is now MQL, so nothing is moved again.
    echo = LeadEvent(event_id="a-echo", source="hubspot", type="profile_updated", occurred_at=NOW,
                     identities=Identities(hubspot_id="201"),
                     properties={"profile": {"lifecycle_stage": "marketingqualifiedlead"}})  # fmt: skip
    _ingest([echo, LeadEvent(event_id="a-more", source="segment", type="Meeting Booked", occurred_at=NOW,
                             identities=Identities(hubspot_id="201"))])  # fmt: skip
    Worker().poll()
    assert "lifecyclestage" not in hubspot.calls[-1]["inputs"][0]["properties"]


def test_a_salesforce_lead_moves_only_from_the_statuses_listed(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for(""))
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "token-1")
    use_container(rules=lambda: RULES)
    salesforce = FakeSalesforce(httpserver)
    salesforce.add("00Q000000000001AAA", "open@lead.io")
    salesforce.add("00Q000000000002AAA", "nurture@lead.io")
    salesforce.add("0030000000000003AA", "contact@acme.io")
    _ingest(_events("a", salesforce_id="00Q000000000001AAA", lead_status="Open - Not Contacted"))
    _ingest(_events("b", salesforce_id="00Q000000000002AAA", lead_status="Nurturing"))
    _ingest(_events("c", salesforce_id="0030000000000003AA", lead_status="Open - Not Contacted"))  # a Contact
    Worker().poll()
    records = {record["id"]: record for call in salesforce.calls for record in call["records"]}
    assert records["00Q000000000001AAA"]["Status"] == "Marketing Qualified"
    assert "Status" not in records["00Q000000000002AAA"] and "Status" not in records["0030000000000003AA"]
    assert salesforce.records["00Q000000000001AAA"]["Status"] == "Marketing Qualified"


def test_an_unknown_stage_in_the_rules_file_is_an_error_naming_its_line() -> None:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8") + ACTIONS.replace("marketingqualifiedlead", "mql")
    with pytest.raises((RulesError, RuleProblems)) as raised:
        parse_rules(text)
    line = text.splitlines().index("    hubspot: {lifecyclestage: mql}") + 1
    assert f"line {line}" in str(raised.value) and "not a HubSpot lifecycle stage: 'mql'" in str(raised.value)


def test_the_moves_change_no_score_so_no_lead_is_rescored_for_them() -> None:
    default = parse_rules(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    assert RULES.fingerprint == default.fingerprint
