"""`python -m chalicelib.cli crm setup hubspot` against a local HubSpot stand-in: idempotent."""

from __future__ import annotations

from werkzeug import Request, Response

from chalicelib.bootstrap import Container
from chalicelib.cli import main as cli
from chalicelib.settings import Settings


def test_setup_creates_the_group_and_properties_once(httpserver, monkeypatch, capsys) -> None:
    created: set[str] = set()

    def create(request: Request) -> Response:
        name = request.get_json()["name"]
        if name in created:
            return Response('{"category": "OBJECT_ALREADY_EXISTS"}', status=409, content_type="application/json")
        created.add(name)
        return Response("{}", status=201, content_type="application/json")

    httpserver.expect_request("/crm/v3/properties/contacts/groups", method="POST").respond_with_handler(create)
    httpserver.expect_request("/crm/v3/properties/contacts", method="POST").respond_with_handler(create)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    parts = Container(Settings.from_env())
    assert cli(["crm", "setup", "hubspot"], parts) == 0
    first = capsys.readouterr().out
    assert cli(["crm", "setup", "hubspot"], parts) == 0
    second = capsys.readouterr().out
    assert created == {"leadscore", "lead_score", "lead_score_fit", "lead_score_engagement", "lead_tier",
                       "lead_grade", "lead_tier_changed_at"}  # fmt: skip
    assert first.count("created") == 7 and second.count("already exists") == 7


def test_setup_needs_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    assert cli(["crm", "setup", "hubspot"], Container(Settings.from_env())) == 2
    assert "HUBSPOT_ACCESS_TOKEN" in capsys.readouterr().err
