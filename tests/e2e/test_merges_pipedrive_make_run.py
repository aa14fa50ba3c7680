"""Merges and Pipedrive on a running `make run`, black-box over HTTP with a fake HubSpot and a fake
Pipedrive API (real local HTTP servers): a HubSpot merge of two scored contacts leaves one lead with
the engagement of both counted once and writes only to the winner; `crm setup pipedrive` makes the
person fields, a Pipedrive v2 person create and a done call score a `pipedrive:ID` lead whose
score reaches the person, and a won deal records the outcome."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from local.child import make_run
from local.defaults import LOCAL_SECRETS
from local.signing import Signer
from tests.e2e.test_cli_local import leadscore
from tests.e2e.test_rules_shadow_make_run import _until, crm_environment
from tests.integration.crm_fakes import FakeHubSpotPortal
from tests.integration.pipedrive_fake import TOKEN, FakePipedrive

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pipedrive"
VIEWER = {"Authorization": f"Bearer {LOCAL_SECRETS['VIEWER_API_KEY']}"}
CONTACTS = [{"id": str(number), "updatedAt": "2026-12-01T10:00:00Z",
             "properties": {"email": f"{name}@initech.example", "firstname": name.title(), "lifecyclestage": "lead"}}
            for number, name in ((3101, "ana"), (3102, "bo"))]  # fmt: skip


def _hubspot(url: str, events: list[dict[str, Any]]) -> None:
    body, headers = Signer(LOCAL_SECRETS, url).hubspot_v3("/webhooks/hubspot", events)
    assert requests.post(f"{url}/webhooks/hubspot", data=body, headers=headers, timeout=10).status_code == 200


def _event(event_id: int, kind: str, contact: int, **extra: Any) -> dict[str, Any]:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": 12345678, "appId": 1, "attemptNumber": 0,
            "occurredAt": int(time.time() * 1000) - 60_000, "subscriptionType": kind, "objectId": contact,
            "changeSource": "CRM_UI", **extra}  # fmt: skip


def _quiet(portal: FakeHubSpotPortal, seconds: float = 3.0) -> None:
    """Until no write-back has reached HubSpot for `seconds`."""
    seen, since = len(portal.updates), time.monotonic()
    deadline = since + 60
    while time.monotonic() - since < seconds:
        assert time.monotonic() < deadline, "write-backs kept coming"
        time.sleep(0.2)
        if len(portal.updates) != seen:
            seen, since = len(portal.updates), time.monotonic()


def _lead(url: str, key: str) -> dict[str, Any]:
    reply = requests.get(f"{url}/leads/{key}", headers=VIEWER, timeout=10)
    return dict(reply.json()) if reply.status_code == 200 else {}


def test_a_hubspot_merge_and_pipedrive_on_make_run(
    httpserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = FakeHubSpotPortal(httpserver, CONTACTS)
    pipedrive = FakePipedrive(httpserver)
    monkeypatch.setenv("PIPEDRIVE_API_TOKEN", TOKEN)
    monkeypatch.setenv("PIPEDRIVE_API_BASE", httpserver.url_for("/api"))
    state = tmp_path / "make-run.json"
    environment = {**crm_environment(httpserver, state), "PIPEDRIVE_API_TOKEN": TOKEN,
                   "PIPEDRIVE_API_BASE": httpserver.url_for("/api")}  # fmt: skip
    with make_run(None, "--reset", **environment) as url:
        # --- HubSpot: two scored contacts, then merged.
        _hubspot(url, [_event(1, "contact.creation", 3101), _event(2, "contact.creation", 3102)])
        batch = [{"type": "identify", "userId": "ana", "messageId": "m1", "traits": {"email": "ana@initech.example"}},
                 {"type": "track", "userId": "ana", "event": "Demo Requested", "messageId": "m2"},
                 {"type": "identify", "userId": "bo", "messageId": "m3", "traits": {"email": "bo@initech.example"}},
                 {"type": "track", "userId": "bo", "event": "Webinar Attended", "messageId": "m4"},
                 {"type": "track", "userId": "bo", "event": "Demo Requested", "messageId": "m5"}]  # fmt: skip
        reply = requests.post(f"{url}/v1/batch", json={"batch": batch}, auth=(LOCAL_SECRETS["EVENTS_WRITE_KEY"], ""),
                              timeout=30)  # fmt: skip
        assert reply.status_code == 200, reply.text
        _until(
            "both contacts written", lambda: {u["id"] for c in portal.updates for u in c["inputs"]} >= {"3101", "3102"}
        )
        _quiet(portal)  # every write-back queued before the merge done (they may name 3102: it still existed)
        portal.updates.clear()
        _hubspot(url, [_event(3, "contact.merge", 3101, primaryObjectId=3101, mergedObjectIds=[3102],
                              numberOfPropertiesMoved=4)])  # fmt: skip
        merged = _until("one lead", lambda: (lead := _lead(url, "hubspot:3102")) and lead["lead_id"] ==
                        _lead(url, "hubspot:3101")["lead_id"] and lead)  # fmt: skip
        assert merged["engagement"] == 75  # one demo (its rule counts once) and the webinar
        _until("the winner written", lambda: any(u["id"] == "3101" for c in portal.updates for u in c["inputs"]))
        assert all(u["id"] != "3102" for c in portal.updates for u in c["inputs"])

        # --- Pipedrive: setup, a person and a call, the write-back, a won deal.
        setup = leadscore(state, "crm", "setup", "pipedrive", "--local")
        assert setup.returncode == 0, setup.stderr
        assert [field["name"] for field in pipedrive.fields] == ["Lead score", "Lead tier", "Lead grade",
                                                                 "Lead score reasons"]  # fmt: skip
        pipedrive.add(42, "maria@globex.example", "Maria Lopez")
        signer = Signer(LOCAL_SECRETS, url)
        for name in ("v2-person-create.json", "v2-activity-create.json"):
            body, headers = signer.pipedrive((FIXTURES / name).read_text())
            assert requests.post(f"{url}/webhooks/pipedrive", data=body, headers=headers, timeout=10).status_code == 200
        lead = _lead(url, "pipedrive:42")
        assert lead["engagement"] == 15 and lead["profile"]["email"] == "maria@globex.example"
        _until(
            "the score in Pipedrive", lambda: pipedrive.updates and pipedrive.value(42, "Lead score") == lead["score"]
        )
        for name in ("v2-deal-create.json", "v2-deal-change-won.json"):
            body, headers = signer.pipedrive(json.loads((FIXTURES / name).read_text()))
            assert requests.post(f"{url}/webhooks/pipedrive", data=body, headers=headers, timeout=10).status_code == 200
        assert _lead(url, "pipedrive:42")["outcome"]["state"] == "won"
