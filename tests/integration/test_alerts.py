"""Alerts a rep can act on, sent from the task queue to real local HTTP servers standing in for
Slack's incoming webhooks, a Teams webhook and a JSON receiver: who the lead is, why, and where to
act; once per lead and crossing within the interval; a 4xx dead-lettered with its reason, a 429
or 5xx tried again; a sender's markup shown as text, never a mention.

Slack's messages are checked against Block Kit with slack_sdk's own models (parsed back, each
block validated against Slack's limits), Teams' against the Adaptive Card 1.4 schema's definitions
of the elements it uses (tests/schemas/adaptive_card_subset.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.messages import Notify
from tests.conftest import use_container
from tests.integration.crm_fakes import Worker

NOW = datetime.now(UTC)
SCHEMA = Path(__file__).parents[1] / "schemas" / "adaptive_card_subset.json"


def _event(event_id: str, kind: str, minutes_ago: float = 5, **properties: Any) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=NOW - timedelta(minutes=minutes_ago),
                     identities=Identities(hubspot_id="7301"), properties=properties)  # fmt: skip


def _ada(first: str = "Ada", company: str = "Initech") -> LeadEvent:
    profile = {"first_name": first, "last_name": "Lovelace", "company": company, "job_title": "Analyst",
               "email": "ada@initech.io", "hubspot_owner_id": "101"}  # fmt: skip
    return _event(f"p-{first[:20]}", "profile_updated", 10, profile=profile)


def _unowned_mql() -> list[LeadEvent]:
    """A second lead entering MQL, with no owner and no name."""
    return [LeadEvent(event_id=f"o{n}", source="segment", type=kind, occurred_at=NOW - timedelta(minutes=3),
                      identities=Identities(user_id="unowned")) for n, kind in
            enumerate(["Demo Requested", "Quote Requested"])]  # fmt: skip


def _ingest(*events: LeadEvent, at: datetime = NOW) -> None:
    container().ingestion.ingest(ParsedDelivery(events=list(events)), at)


@pytest.fixture
def slack(aws, httpserver, monkeypatch) -> list[dict[str, Any]]:
    """A Slack incoming webhook: answers `ok` as Slack does; the bodies it took."""
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/services/T000/B000/XXXX"))
    monkeypatch.setenv("NOTIFY_FORMAT", "slack")  # the local server is not hooks.slack.com
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "62515")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://leads.example.com/api")
    use_container()
    taken: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        taken.append(json.loads(request.get_data()))
        return Response("ok", content_type="text/plain")

    httpserver.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_handler(hook)
    return taken


def _block_kit(message: dict[str, Any]) -> list[Any]:
    """The blocks as slack_sdk parses them, each checked against Slack's limits."""
    from slack_sdk.models.blocks import Block

    blocks = [Block.parse(block) for block in message["blocks"]]
    for block in blocks:
        assert block is not None
        block.validate_json()
    return blocks


def test_a_lead_entering_hot_is_announced_once_by_name_with_reasons_and_links(slack) -> None:
    _ingest(_ada(), _event("d1", "Demo Requested", form_name="Book a demo"))  # 50: warm
    Worker().poll()
    assert slack == []  # warm is no MQL
    _ingest(_event("q1", "Quote Requested"))  # 80: hot
    Worker().poll()
    [message] = slack
    blocks = _block_kit(message)
    score = container().lead_views.lead("hubspot:7301", NOW)["score"]
    assert message["text"] == f"Ada Lovelace (Initech) is now hot: score {score}"
    texts = json.dumps(message)
    for expected in ("Analyst", "Initech", "grade", "Requested a demo through 'Book a demo' on", "Why:"):
        assert expected in texts
    buttons = {
        element.text.text: element.url for block in blocks if block.type == "actions" for element in block.elements
    }
    lead_id = container().lead_views.find_lead_id("hubspot:7301")
    assert buttons == {
        "Open in HubSpot": "https://app.hubspot.com/contacts/62515/record/0-1/7301",
        "Open in leadscore": f"https://leads.example.com/api/console#/lead/{lead_id}",
    }
    # It dips below hot and comes back within the day: no second alert.
    _ingest(_event("s1", "email_spam"))  # -50: warm
    assert container().lead_views.lead("hubspot:7301", NOW)["tier"] == "warm"
    _ingest(_event("m1", "Meeting Booked"))  # +40: hot again
    Worker().poll()
    assert len(slack) == 1
    # The next day's crossing is news again.
    tomorrow = NOW + timedelta(hours=25)
    _ingest(_event("u1", "Unsubscribed", minutes_ago=-60 * 24), at=tomorrow)  # -20: warm
    assert container().lead_views.lead("hubspot:7301", tomorrow)["tier"] == "warm"
    _ingest(_event("t1", "Trial Started", minutes_ago=-60 * 24), at=tomorrow)
    Worker().poll()
    assert [message["text"].split(":")[0] for message in slack] == ["Ada Lovelace (Initech) is now hot"] * 2


def test_a_name_with_markup_is_shown_as_text_and_never_pings_a_channel(slack) -> None:
    _ingest(_ada(first="<!channel> @here *Ada*", company="<https://evil.example|Initech>"),
            _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))  # fmt: skip
    Worker().poll()
    [message] = slack
    _block_kit(message)
    assert "<!channel>" not in message["text"] and "&lt;!channel&gt;" in message["text"]
    assert "@here" not in message["text"]  # a word joiner keeps it from linking
    # Every sender's text in the blocks is plain_text: Slack parses no mention or link there.
    for block in message["blocks"]:
        for part in [block.get("text"), *(block.get("fields") or [])]:
            if part:
                assert part["type"] == "plain_text"


def test_a_busy_destination_is_tried_again_as_it_asks(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/hook"))
    use_container()
    answers = [Response("slow down", status=429, headers={"Retry-After": "7"}), Response("oops", status=503),
               Response("ok")]  # fmt: skip
    taken: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        taken.append(json.loads(request.get_data()))
        return answers.pop(0)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    worker = Worker()
    assert worker.poll().retried and worker.delays[-1][1] == 7  # Retry-After, as the destination asked
    worker.release()
    assert worker.poll().retried  # the 503: again later, with backoff
    worker.release()
    worker.poll()
    assert len(taken) == 3 and answers == []  # the same task, sent at last (its claim is its own)
    body = taken[-1]
    assert body["event"] == "lead.entered_mql" and body["lead"]["name"] == "Ada Lovelace"
    assert body["lead"]["company"] == "Initech" and body["lead"]["owner"] == "HubSpot owner 101"
    assert body["at"].endswith("Z") and body["reasons"] and body["text"].startswith("Ada Lovelace (Initech)")


def test_a_destination_that_refuses_is_dead_lettered_with_its_reason(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/removed"))
    use_container()
    # A webhook that was removed: Slack answers 404 "no_service"; it never will take a message.
    httpserver.expect_request("/removed", method="POST").respond_with_data("no_service", status=404)
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    worker = Worker()
    report = worker.poll()
    assert not report.retried and list(report.dead_lettered) == [container().lead_views.find_lead_id("hubspot:7301")]
    [letter] = worker.dead_letters()
    assert letter["kind"] == "notify" and "404" in letter["failure"] and "no_service" in letter["failure"]
    worker.poll()  # the lead's account roll-up, which its write-back asked for
    assert worker.queue_depth() == 0  # the alert acknowledged: never retried for ever
    # The webhook fixed, the dead letter sent again (as `leadscore dlq redrive` does): it goes out.
    httpserver.clear()
    httpserver.expect_request("/removed", method="POST").respond_with_data("ok")
    container().queue.send([Notify(**{name: letter[name] for name in ("lead_id", "to", "at", "score", "mql", "reason")},
                                   from_tier=letter["from"])])  # fmt: skip
    assert worker.poll().statuses[("alert", "sent")] == 1


def test_an_owners_alerts_go_where_the_owner_wants_them(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/team"))
    monkeypatch.setenv("NOTIFY_ROUTES", json.dumps({"hubspot:101": httpserver.url_for("/sam")}))
    use_container()
    for path in ("/team", "/sam"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    _ingest(*_unowned_mql())
    Worker().poll()
    paths = sorted(request.path for request, _ in httpserver.log)
    assert paths == ["/sam", "/team"]


def test_teams_gets_an_adaptive_card_that_matches_the_schema() -> None:
    import jsonschema

    from chalicelib.alerts.teams import teams_message
    from chalicelib.domain.alerts import Alert

    alert = Alert(kind="entered_mql", lead_id="ld_1", name="[Ada](https://evil.example) *L*", title="VP Sales",
                  company="Initech", email=None, score=80, tier="hot", grade="B", from_tier="warm",
                  owner="Sam Rep", reasons=("Requested a demo on Dec 3 (+50)", "- Quote on Dec 4 (+30)"),
                  links=(("Open in HubSpot", "https://app.hubspot.com/contacts/1/record/0-1/2"),),
                  at="2026-12-04T10:00:00Z")  # fmt: skip
    message = teams_message(alert)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    jsonschema.validate(card, json.loads(SCHEMA.read_text(encoding="utf-8")))
    texts = [block.get("text", "") for block in card["body"]]
    assert texts[0].startswith(r"\[Ada\](https://evil.example) \*L\*")  # a link in a name stays text
    assert r"\- Quote on Dec 4 (+30)" in texts  # not a list
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in HubSpot",
                                "url": "https://app.hubspot.com/contacts/1/record/0-1/2"}]  # fmt: skip


def test_the_format_follows_the_url_unless_set() -> None:
    from chalicelib.alerts.sender import format_for

    assert format_for("https://hooks.slack.com/services/T/B/X") == "slack"
    assert format_for("https://acme.webhook.office.com/webhookb2/x") == "teams"
    assert format_for("https://prod-01.westus.logic.azure.com/workflows/x") == "teams"
    assert format_for("https://example.com/hook") == "json"
    assert format_for("https://example.com/hook", "slack") == "slack"
    with pytest.raises(ValueError):
        format_for("https://example.com/hook", "email")


def test_a_daily_digest_holds_the_days_alerts_and_sends_them_in_one_message(slack, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_DIGEST", "true")
    use_container()
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    _ingest(*_unowned_mql())
    Worker().poll()
    assert slack == []  # held for the day's digest
    notifications = container().notifications
    assert notifications.send_digests(NOW)["sent"] == 0  # today's: not before the day is over
    tomorrow = NOW + timedelta(days=1)
    assert notifications.send_digests(tomorrow) == {"sent": 2, "waiting": 0, "refused": 0}
    [message] = slack
    _block_kit(message)
    assert message["text"] == f"2 leads entered MQL ({NOW.date().isoformat()})"
    sections = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
    assert any(text.startswith("Ada Lovelace (Initech) is now hot") for text in sections) and len(sections) == 2
    assert notifications.send_digests(tomorrow)["sent"] == 0  # sent once


def test_the_upkeep_sends_the_digest_only_when_asked(aws, httpserver, monkeypatch) -> None:
    from chalicelib.entrypoints.schedule import run_upkeep

    assert "digests" not in run_upkeep(lambda: 900.0)
    monkeypatch.setenv("NOTIFY_DIGEST", "true")
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/digest"))
    use_container()
    httpserver.expect_request("/digest", method="POST").respond_with_data("ok")
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    Worker().poll()
    summary = run_upkeep(lambda: 900.0, clock=lambda: NOW + timedelta(days=1))
    assert summary["digests"]["sent"] == 1
    [(request, _)] = httpserver.log
    body = request.get_json()
    assert body["event"] == "digest" and body["alerts"][0]["lead"]["name"] == "Ada Lovelace"


def test_teams_receives_its_card_over_http(aws, httpserver, monkeypatch) -> None:
    import jsonschema

    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/webhookb2/teams"))
    monkeypatch.setenv("NOTIFY_FORMAT", "teams")  # the local server is not webhook.office.com
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "62515")
    use_container()
    # Teams' Workflows webhooks answer 202 Accepted.
    httpserver.expect_request("/webhookb2/teams", method="POST").respond_with_data("", status=202)
    _ingest(_ada(), _event("d1", "Demo Requested"), _event("q1", "Quote Requested"))
    report = Worker().poll()
    assert report.statuses[("alert", "sent")] == 1
    [(request, _)] = httpserver.log
    [attachment] = request.get_json()["attachments"]
    card = attachment["content"]
    jsonschema.validate(card, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert card["body"][0]["text"].startswith("Ada Lovelace (Initech) is now hot")
    assert {"type": "Action.OpenUrl", "title": "Open in HubSpot",
            "url": "https://app.hubspot.com/contacts/62515/record/0-1/7301"} in card["actions"]  # fmt: skip


def test_slack_text_longer_than_a_block_takes_is_cut_to_fit() -> None:
    from chalicelib.alerts.slack import slack_message
    from chalicelib.domain.alerts import Alert

    long = "x" * 5000
    alert = Alert(kind="entered_mql", lead_id="ld_1", name=long, title=long, company=long, email=None, score=80,
                  tier="hot", grade="B", from_tier="warm", owner=long, reasons=(long, long, long),
                  links=(("Open in HubSpot", "https://app.hubspot.com/contacts/1/record/0-1/2"),),
                  at="2026-12-04T10:00:00Z")  # fmt: skip
    message = slack_message(alert)
    _block_kit(message)  # slack_sdk checks each block against Slack's limits
    texts = [block["text"]["text"] for block in message["blocks"] if block.get("text")]
    texts += [field["text"] for block in message["blocks"] for field in block.get("fields", [])]
    assert max(len(text) for text in texts) <= 3000 and texts[0].endswith("…") and len(texts[0]) <= 150
