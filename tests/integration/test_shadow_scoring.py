"""Shadow scoring (DynamoDB through moto): a candidate version scored beside the active one on
every event and background rescore, stored on the lead and shown beside its card, never written
back or alerted on; `GET /reports/shadow` compares them; promote makes the shadow active without
a second rescore from the events; stop ends it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import SECRETS, admin_get, json_body
from tests.helpers import NOW, track
from tests.integration.test_rules_versions import EDITED

LATER = NOW + timedelta(minutes=2)  # every container has seen the shadow start by then


def _status(user: str, at: Any, **profile: str) -> LeadEvent:
    return LeadEvent(event_id=f"status-{user}-{at.timestamp()}", source="hubspot", type="profile_updated",
                     occurred_at=at, identities=Identities(user_id=user), properties={"profile": profile})  # fmt: skip


def _ingest(*events: LeadEvent, at: Any = NOW) -> None:
    container().ingestion.ingest(ParsedDelivery(events=list(events)), at)


def _lead(client: Any, user: str) -> dict[str, Any]:
    found: dict[str, Any] = json_body(admin_get(client, f"/leads/user:{user}"))
    return found


@pytest.fixture
def shadowed(aws: Any, client: Any) -> Any:
    """Five leads scored by the bundled rules, then EDITED (a demo request worth 80, not 50)
    deployed as the shadow, and swept."""
    _ingest(*(track(f"demo{index}", "Demo Requested", user_id=f"u{index}") for index in range(4)),
            track("visit4", "Pricing Viewed", user_id="u4"))  # fmt: skip
    parts = container()
    done = parts.releases.deploy(EDITED, "ana", "try demo-heavy", NOW, shadow=True)
    assert done == {"version": 2, "fingerprint": done["fingerprint"], "name": "demo-heavy", "role": "shadow",
                    "warnings": []}  # fmt: skip
    parts.rules.refresh()  # type: ignore[attr-defined]
    return client


def test_a_shadow_is_scored_on_every_lead_and_never_leaves_for_a_crm(shadowed: Any) -> None:
    client, parts = shadowed, container()
    active_before = _lead(client, "u0")
    assert active_before["shadow"] is None  # not swept yet
    _ingest(track("new", "Demo Requested", user_id="u9"))  # a new lead: scored by both at once
    fresh = _lead(client, "u9")
    assert fresh["shadow"]["score"] == fresh["score"] + 30
    assert any("demo" in reason.lower() for reason in fresh["shadow"]["reasons"])

    swept = parts.upkeep.run(LATER)
    assert swept.rules_sweep["done"] and swept.rules_sweep["shadow"] == done_fingerprint(client)
    assert swept.changed == []  # nothing visible moved: nothing to write back or alert on
    lead = _lead(client, "u0")
    assert (lead["score"], lead["tier"]) == (active_before["score"], active_before["tier"])
    assert lead["shadow"]["score"] == lead["score"] + 30
    assert _lead(client, "u4")["shadow"]["score"] == _lead(client, "u4")["score"]  # no demo: no change

    # A new event folds into both bases; the shadow's equals a rescore of all events with its rules.
    _ingest(track("demo-again", "Webinar Attended", ago=timedelta(minutes=5), user_id="u1"), at=LATER)
    folded = _lead(client, "u1")
    full = container().rescorer.rescore(folded["lead_id"], LATER)
    assert full.after.score == folded["score"]
    assert _lead(client, "u1")["shadow"] == folded["shadow"]
    assert folded["shadow"]["score"] > folded["score"]
    assert folded["card"]["rules_fingerprint"] == parts.rules().fingerprint


def done_fingerprint(client: Any) -> str:
    shadow = json_body(admin_get(client, "/rules"))["shadow"]
    assert shadow["version"] == 2 and shadow["name"] == "demo-heavy"
    return str(shadow["fingerprint"])


def test_the_shadow_report_compares_tiers_movers_and_outcomes(shadowed: Any) -> None:
    client, parts = shadowed, container()
    parts.upkeep.run(LATER)
    _ingest(_status("u0", LATER, lifecycle_stage="customer"), _status("u4", LATER, lead_status="UNQUALIFIED"), at=LATER)
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}
    reply = client.http.get("/reports/shadow", headers=viewer)
    assert reply.status_code == 200, reply.body
    report = json_body(reply)
    assert report["active"]["fingerprint"] == parts.rules().fingerprint
    assert report["shadow"]["name"] == "demo-heavy" and report["since"].startswith(NOW.date().isoformat())
    assert report["leads"] == 5 and report["not_yet_scored"] == 0
    moved = {(move["from"], move["to"]): move["leads"] for move in report["moves"]}
    assert sum(moved.values()) == 5
    movers = report["movers"]
    assert [mover["change"] for mover in movers] == [30, 30, 30, 30]  # u4 did not move: not listed
    assert all(mover["shadow_score"] == mover["score"] + 30 for mover in movers)
    assert all(any("demo" in reason.lower() for reason in mover["shadow_reasons"]) for mover in movers)
    outcomes = report["outcomes"]
    assert outcomes["leads"] == 2
    for version in ("active", "shadow"):
        assert outcomes[version]["leads"] == 2 and outcomes[version]["won"] == 1
        assert outcomes[version]["auc"] == 1.0  # the won lead (a demo) outscored the lost one in both
    won_tier = _lead(client, "u0")["outcome"]
    assert won_tier is not None
    assert client.http.get("/reports/shadow").status_code == 401


def test_promote_makes_the_shadow_active_without_reading_events_and_stop_ends_a_shadow(
    shadowed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, parts = shadowed, container()
    parts.upkeep.run(LATER)
    expected = {user: _lead(client, user)["shadow"]["score"] for user in ("u0", "u1", "u4")}
    parts.releases.promote("ana", LATER)
    parts.rules.refresh()  # type: ignore[attr-defined]
    assert parts.rules().name == "demo-heavy" and parts.shadow_rules() is None
    loads: list[str] = []  # a lead read with its events
    load = parts.storage.leads.load
    monkeypatch.setattr(parts.storage.leads, "load", lambda lead_id, now: loads.append(lead_id) or load(lead_id, now))
    report = parts.upkeep.run(LATER + timedelta(minutes=2))
    assert report.rules_sweep["done"] and report.rules_sweep["rescored"] == 5
    assert loads == []  # each card made from the promoted shadow's basis: no lead's events were read
    for user, score in expected.items():
        lead = _lead(client, user)
        assert lead["score"] == score and lead["shadow"] is None
        assert lead["card"]["rules_fingerprint"] == parts.rules().fingerprint
    assert len(report.changed) == 4  # the CRM now gets the promoted scores (demo leads moved)

    parts.releases.deploy(EDITED.replace("points: 80, cap: 80", "points: 20, cap: 20"), "ana", "", LATER, shadow=True)
    parts.rules.refresh()  # type: ignore[attr-defined]
    parts.rules.refresh()  # type: ignore[attr-defined]
    parts.upkeep.run(LATER + timedelta(minutes=4))  # the new shadow swept onto every lead
    assert _lead(client, "u0")["shadow"]["score"] == _lead(client, "u0")["score"] - 60
    parts.releases.stop_shadow("ana", LATER + timedelta(minutes=5))
    parts.rules.refresh()  # type: ignore[attr-defined]
    assert admin_get(client, "/reports/shadow").status_code == 409
    assert _lead(client, "u0")["shadow"] is None  # what a lead still holds of it is not shown
    monkeypatch.setattr(parts.storage.leads, "save", lambda change: pytest.fail("a stopped shadow rescored a lead"))
    stopped = parts.upkeep.run(LATER + timedelta(minutes=7))
    assert stopped.rules_sweep == {"fingerprint": parts.rules().fingerprint, "shadow": None, "done": True,
                                   "rescored": 0}  # fmt: skip
