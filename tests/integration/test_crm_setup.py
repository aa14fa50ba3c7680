"""`python -m chalicelib.cli crm setup hubspot` against a local HubSpot stand-in: idempotent."""

from __future__ import annotations

import json
from typing import Any

from werkzeug import Request, Response

from chalicelib.bootstrap import Container
from chalicelib.cli import main as cli
from chalicelib.settings import Settings


def _creating(created: set[str]) -> Any:
    """HubSpot's answer to creating a property (or group): 201, then 409 for a name it has."""

    def create(request: Request) -> Response:
        name = request.get_json()["name"]
        if name in created:
            return Response('{"category": "OBJECT_ALREADY_EXISTS"}', status=409, content_type="application/json")
        created.add(name)
        return Response("{}", status=201, content_type="application/json")

    return create


def test_setup_creates_the_group_and_properties_once(httpserver, monkeypatch, capsys) -> None:
    created: set[str] = set()
    companies: set[str] = set()
    for objects, names in (("contacts", created), ("companies", companies)):
        for path in (f"/crm/v3/properties/{objects}/groups", f"/crm/v3/properties/{objects}"):
            httpserver.expect_request(path, method="POST").respond_with_handler(_creating(names))
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    parts = Container(Settings.from_env())
    assert cli(["crm", "setup", "hubspot"], parts) == 0
    first = capsys.readouterr().out
    assert cli(["crm", "setup", "hubspot"], parts) == 0
    second = capsys.readouterr().out
    assert created == {"leadscore", "lead_score", "lead_score_fit", "lead_score_engagement", "lead_tier",
                       "lead_grade", "lead_tier_changed_at", "lead_score_reasons", "lead_score_likelihood"}  # fmt: skip
    assert companies == {"leadscore", "account_score", "account_tier", "account_engaged_contacts",
                         "account_score_reasons"}  # fmt: skip
    assert first.count("created") == 14 and second.count("already exists") == 14


def test_setup_needs_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    assert cli(["crm", "setup", "hubspot"], Container(Settings.from_env())) == 2
    assert "HUBSPOT_ACCESS_TOKEN" in capsys.readouterr().err


def test_setup_lists_the_webhook_subscriptions_and_the_project_configuration(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://leads.example.com")
    cli(["crm", "setup", "hubspot"], Container(Settings.from_env()))
    out = capsys.readouterr().out
    assert "  contact.creation\n" in out and "  company.merge\n" in out
    assert "  company.propertyChange numberofemployees\n" in out
    for name in ("recent_conversion_date", "hs_email_last_open_date", "num_conversion_events",
                 "engagements_last_meeting_booked", "jobtitle"):  # fmt: skip
        assert f"  contact.propertyChange {name}\n" in out
    config = json.loads(out[out.index("{") :])
    assert config["config"]["settings"]["targetUrl"] == "https://leads.example.com/webhooks/hubspot"
    assert {"subscriptionType": "contact.deletion", "active": True} in config["config"]["subscriptions"][
        "legacyCrmObjects"
    ]


def test_with_a_developer_key_the_missing_subscriptions_are_created_once(httpserver, monkeypatch, capsys) -> None:
    """A legacy public app: GET and POST /webhooks/v3/{appId}/subscriptions?hapikey= (HubSpot's
    documented example answer for the list: results with eventType and propertyName)."""
    existing = [{"active": True, "createdAt": "2019-10-30T03:30:17.883Z", "eventType": "contact.propertyChange",
                 "id": "12", "propertyName": "email", "updatedAt": "2019-11-30T03:30:17.883Z"}]  # fmt: skip

    def listing(request: Request) -> Response:
        assert request.args["hapikey"] == "dev-key"
        return Response(json.dumps({"results": existing}), content_type="application/json")

    def create(request: Request) -> Response:
        body = request.get_json()
        existing.append({**body, "id": str(len(existing) + 12)})
        return Response(json.dumps(body), status=201, content_type="application/json")

    httpserver.expect_request("/webhooks/v3/4242/subscriptions", method="GET").respond_with_handler(listing)
    httpserver.expect_request("/webhooks/v3/4242/subscriptions", method="POST").respond_with_handler(create)
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    parts = Container(Settings.from_env())
    assert cli(["crm", "setup", "hubspot", "--app-id", "4242", "--developer-api-key", "dev-key"], parts) == 0
    first = capsys.readouterr().out
    assert "subscription contact.propertyChange email: already exists" in first
    assert "subscription contact.propertyChange hs_email_last_open_date: created" in first
    created = first.count(": created")
    assert cli(["crm", "setup", "hubspot", "--app-id", "4242", "--developer-api-key", "dev-key"], parts) == 0
    assert capsys.readouterr().out.count(": created") == 0 and len(existing) == created + 1


def test_a_dry_run_lists_properties_and_subscriptions_without_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    assert cli(["crm", "setup", "hubspot", "--dry-run"], Container(Settings.from_env())) == 0
    out = capsys.readouterr().out
    assert "  contacts.lead_score  number (number)  label 'Lead score'" in out
    assert "  contacts.lead_score_reasons  string (textarea)" in out
    assert "  companies.account_engaged_contacts  number (number)" in out
    assert "  contact.creation\n" in out and "  company.merge\n" in out
    assert "  company.propertyChange numberofemployees\n" in out
    config = json.loads(out[out.index("{") :])
    assert config["config"]["settings"]["targetUrl"].startswith("https://")  # never a bare path


def test_the_webhook_url_is_the_running_make_runs_when_asked_for_local(monkeypatch, capsys, tmp_path) -> None:
    import os

    state = tmp_path / "make-run.json"
    state.write_text(json.dumps({"pid": os.getpid(), "url": "http://127.0.0.1:8123", "aws_endpoint": "http://x",
                                 "resources": {"TABLE_NAME": "t", "TASK_QUEUE": "q", "TASK_DLQ": "d"}}))  # fmt: skip
    monkeypatch.setenv("LEADSCORE_LOCAL_STATE", str(state))
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    cli(["crm", "setup", "hubspot", "--dry-run", "--local"], Container(Settings.from_env()))
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["config"]["settings"]["targetUrl"] == (
        "http://127.0.0.1:8123/webhooks/hubspot"
    )


def test_salesforce_fields_are_listed_or_created_once(httpserver, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("SALESFORCE_INSTANCE_URL", raising=False)
    assert cli(["crm", "setup", "salesforce", "--dry-run"], Container(Settings.from_env())) == 0
    listed = capsys.readouterr().out
    assert "  Lead.Lead_Score__c  Number(4, 0)" in listed and "  Contact.Lead_Score_Reasons__c  Text(255)" in listed
    assert "  Account.Account_Engaged_Contacts__c  Number(6, 0)" in listed

    created: set[str] = set()

    def create(request: Request) -> Response:
        name = request.get_json()["FullName"]
        if name in created:
            body = '[{"message": "Duplicate name", "errorCode": "DUPLICATE_DEVELOPER_NAME", "fields": []}]'
            return Response(body, status=400, content_type="application/json")
        created.add(name)
        return Response('{"id": "00N1", "success": true, "errors": []}', status=201, content_type="application/json")

    httpserver.expect_request("/services/data/v60.0/tooling/sobjects/CustomField", method="POST").respond_with_handler(
        create
    )
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "sf-token")
    parts = Container(Settings.from_env())
    assert cli(["crm", "setup", "salesforce"], parts) == 0
    first = capsys.readouterr().out
    assert cli(["crm", "setup", "salesforce"], parts) == 0
    second = capsys.readouterr().out
    fields = ("Lead_Score__c", "Lead_Tier__c", "Lead_Grade__c", "Lead_Score_Reasons__c")
    accounts = ("Account_Score__c", "Account_Tier__c", "Account_Engaged_Contacts__c", "Account_Score_Reasons__c")
    assert created == {f"{sobject}.{name}" for sobject in ("Lead", "Contact") for name in fields} | {
        f"Account.{name}" for name in accounts
    }
    assert first.count("created") == 12 and second.count("already exists") == 12


def test_a_named_scores_properties_are_in_the_setup(monkeypatch, capsys, tmp_path) -> None:
    from chalicelib.rules import DEFAULT_RULES_PATH

    rules = tmp_path / "named.yaml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text()
        + """
scores:
  product_analytics:
    label: Interest in Analytics
    when: {page_path_prefix: /analytics}
    properties: {hubspot: lead_score_analytics, salesforce: Lead_Score_Analytics__c}
"""
    )
    monkeypatch.setenv("SCORING_RULES", str(rules))
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("SALESFORCE_INSTANCE_URL", raising=False)
    assert cli(["crm", "setup", "hubspot", "--dry-run"], Container(Settings.from_env())) == 0
    assert "  contacts.lead_score_analytics  number (number)  label 'Interest in Analytics'" in capsys.readouterr().out
    assert cli(["crm", "setup", "salesforce", "--dry-run"], Container(Settings.from_env())) == 0
    listed = capsys.readouterr().out
    assert "  Lead.Lead_Score_Analytics__c  Number(4, 0)" in listed
    assert "  Contact.Lead_Score_Analytics__c  Number(4, 0)" in listed
