"""Recycling a lead that lost: what it earned before stops counting and its fit stays, the tier
change says "recycled", its timeline drops that day, what it does next counts again, and an undo
restores it. Through the API (admin key), the CLI against a stage (moto), and the scoring core
(a fold refuses a recycle; a full rescore and the timeline agree)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent, Profile
from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.folding import OutOfOrder, fold_into, full_basis
from chalicelib.domain.recycle import recycle_event
from chalicelib.domain.scoring import card_from_basis
from chalicelib.domain.timeline import score_timeline
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import SECRETS, admin_get, json_body
from tests.helpers import NOW, default_rules

RULES = default_rules()
VP = {"job_title": "VP Sales", "company": "Initech"}


def _event(event_id: str, kind: str, at: datetime, **properties: object) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=at,
                     identities=Identities(user_id="u-lost"), properties=properties)  # fmt: skip


def _history(now: datetime) -> list[LeadEvent]:
    return [
        _event("p", "profile_updated", now - timedelta(days=9), profile=VP),
        _event("d", "Demo Requested", now - timedelta(days=8)),
        _event("q", "Quote Requested", now - timedelta(days=7)),
    ]


def test_a_recycle_drops_what_was_earned_before_keeps_fit_and_an_undo_restores_it() -> None:
    history = _history(NOW)
    _, before = full_basis(history, RULES, NOW)
    card = card_from_basis(before, RULES, NOW)
    assert card.engagement > 0 and card.fit > 0
    recycled_at = NOW - timedelta(days=3)
    recycled = [*history, recycle_event(recycled_at)]
    _, after = full_basis(recycled, RULES, NOW)
    now_card = card_from_basis(after, RULES, NOW)
    assert (now_card.engagement, now_card.fit) == (0, card.fit)
    # What the lead does after the recycle counts; what arrives late from before it does not.
    later = [_event("m", "Meeting Booked", NOW - timedelta(days=1)),
             _event("late", "Trial Started", NOW - timedelta(days=5))]  # fmt: skip
    _, full = full_basis([*recycled, *later], RULES, NOW)
    stored = ScoreBasis.from_json(after.to_json(), RULES)
    _, folded = fold_into(stored, Profile.model_validate(VP), later, RULES, NOW)
    assert card_from_basis(folded, RULES, NOW) == card_from_basis(full, RULES, NOW)
    counted = [c.rule for c in card_from_basis(full, RULES, NOW).contributions if c.kind == "engagement"]
    assert counted == ["meeting_booked"]
    # A recycle never folds in: the basis cannot forget what it counted, so the lead is rescored.
    with pytest.raises(OutOfOrder):
        fold_into(ScoreBasis.from_json(before.to_json(), RULES), Profile.model_validate(VP),
                  [recycle_event(recycled_at)], RULES, NOW)  # fmt: skip
    # The undo takes the latest recycle back.
    _, undone = full_basis([*recycled, recycle_event(NOW - timedelta(days=2), undo=True)], RULES, NOW)
    assert card_from_basis(undone, RULES, NOW) == card
    # The timeline drops on the recycle's day, and comes back on the undo's.
    points = score_timeline([*recycled, recycle_event(NOW - timedelta(days=2), undo=True)], RULES, NOW)
    past = {point.at.date(): point for point in points if not point.projected}
    assert past[(NOW - timedelta(days=4)).date()].engagement > 0
    assert past[(NOW - timedelta(days=3)).date()].engagement == 0
    assert past[(NOW - timedelta(days=1)).date()].engagement > 0


def test_recycle_and_undo_through_the_api(client) -> None:
    now = datetime.now(UTC)
    container().ingestion.ingest(ParsedDelivery(events=_history(now)), now)
    lead = json_body(admin_get(client, "/leads/user:u-lost"))
    admin = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"}
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}
    assert client.http.post("/leads/user:u-lost/recycle", headers=viewer).status_code == 403
    undo_first = client.http.post("/leads/user:u-lost/recycle?undo=true", headers=admin)
    assert undo_first.status_code == 409 and json_body(undo_first)["code"] == "conflict"
    reply = client.http.post("/leads/user:u-lost/recycle", headers=admin)
    assert reply.status_code == 200, reply.body
    done = json_body(reply)
    assert done["recycled"] and done["engagement"] == 0 and done["fit"] == lead["fit"] > 0
    recycled = json_body(admin_get(client, "/leads/user:u-lost"))
    assert recycled["engagement"] == 0 and recycled["tier_changes"][0]["reason"] == "recycled"
    activity = json_body(admin_get(client, "/leads/user:u-lost/activity"))["activity"]
    assert activity[0]["title"] == "Recycled by sales" and "no longer counts" in activity[0]["note"]
    undone = json_body(client.http.post("/leads/user:u-lost/recycle?undo=true", headers=admin))
    assert not undone["recycled"] and undone["score"] == lead["score"]
    restored = json_body(admin_get(client, "/leads/user:u-lost"))
    assert restored["engagement"] == lead["engagement"] and restored["tier_changes"][0]["reason"] == "recycle undone"
    assert client.http.post("/leads/user:nobody/recycle", headers=admin).status_code == 404
    assert client.http.post("/leads/user:u-lost/recycle?undo=maybe", headers=admin).status_code == 400


def test_recycle_from_the_cli_against_a_stage(aws, capsys, monkeypatch) -> None:
    from chalicelib.cli import main as cli

    now = datetime.now(UTC)
    container().ingestion.ingest(ParsedDelivery(events=_history(now)), now)
    monkeypatch.setattr("chalicelib.cli.recycle_cmd.target_container", lambda args: container())
    capsys.readouterr()
    assert cli(["recycle", "user:u-lost", "--local", "--json"]) == 0
    out = capsys.readouterr().out  # the JSON, after any log line the write-back printed
    done = json.loads(out[out.index("{\n") :])
    assert done["recycled"] and done["engagement"] == 0
    assert cli(["recycle", "user:u-lost", "--undo", "--local"]) == 0
    assert "recycle undone" in capsys.readouterr().out
    assert cli(["recycle", "user:u-lost", "--undo", "--local"]) == 2  # nothing left to undo
    assert "nothing to undo" in capsys.readouterr().err


def test_with_recycle_on_lost_the_crm_saying_lost_recycles_the_lead() -> None:
    from chalicelib.domain.rules_yaml import parse_rules
    from chalicelib.rules import DEFAULT_RULES_PATH

    on_lost = parse_rules(DEFAULT_RULES_PATH.read_text(encoding="utf-8") + "\ncrm_actions:\n  recycle_on_lost: true\n")
    assert on_lost.fingerprint != RULES.fingerprint  # it changes scores: every lead is rescored with it
    lost = _event("lost", "profile_updated", NOW - timedelta(days=3), profile={"lead_status": "Closed - Not Converted"})
    events = [*_history(NOW), lost]
    _, kept = full_basis(events, RULES, NOW)
    _, recycled = full_basis(events, on_lost, NOW)
    assert card_from_basis(kept, RULES, NOW).engagement > 0
    assert card_from_basis(recycled, on_lost, NOW).engagement == 0 and recycled.recycled_us is not None
    assert card_from_basis(recycled, on_lost, NOW).fit == card_from_basis(kept, RULES, NOW).fit
    # Folded in, the loss is refused: the lead is rescored from its events (and recycled there).
    _, before = full_basis(_history(NOW), on_lost, NOW)
    with pytest.raises(OutOfOrder):
        fold_into(ScoreBasis.from_json(before.to_json(), on_lost), Profile.model_validate(VP), [lost], on_lost, NOW)
    past = [point for point in score_timeline(events, on_lost, NOW) if not point.projected]
    assert past[-5].engagement > 0 and past[-1].engagement == 0
