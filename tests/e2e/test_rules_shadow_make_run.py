"""Changing the rules safely on a running `make run`, as an operator does it: a shadow deployed
with the CLI, HubSpot deliveries scored by both versions, `/reports/shadow` naming both tiers, the
fake HubSpot (a real local HTTP server) receiving only the active scores; then promote, and roll
back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from chalicelib.rules import DEFAULT_RULES_PATH
from local.child import make_run
from local.defaults import LOCAL_SECRETS
from local.signing import Signer
from tests.e2e.test_cli_local import leadscore
from tests.integration.crm_fakes import FakeHubSpotPortal

SENIOR = "        points: 15\n      - label: Manager or Lead"  # the C-level, VP, Director option's points
SENIOR_HEAVY = (
    DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    .replace("name: seed-model", "name: senior-heavy", 1)
    .replace(SENIOR, SENIOR.replace("15", "45"), 1)
)
CONTACTS = [
    {"id": "1001", "updatedAt": "2026-12-01T10:00:00Z", "properties": {
        "email": "ada@initech.example", "firstname": "Ada", "jobtitle": "VP Sales", "lifecyclestage": "lead"}},
    {"id": "1002", "updatedAt": "2026-12-01T10:00:00Z", "properties": {
        "email": "bo@initech.example", "firstname": "Bo", "jobtitle": "Engineer", "lifecyclestage": "lead"}},
]  # fmt: skip


def _until(what: str, check: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:.0f} s"
        time.sleep(0.2)


def crm_environment(httpserver: Any, state: Path) -> dict[str, str]:
    """`make run` with the fake HubSpot for its CRM, no upkeep run of its own, its state at `state`."""
    return {"HUBSPOT_ACCESS_TOKEN": "local-token", "HUBSPOT_API_BASE": httpserver.url_for(""),
            "UPKEEP_INTERVAL_SECONDS": "3600", "LEADSCORE_LOCAL_STATE": str(state)}  # fmt: skip


def test_shadow_promote_and_roll_back_on_make_run(httpserver: Any, tmp_path: Path) -> None:
    assert SENIOR_HEAVY.count("points: 45\n      - label: Manager") == 1
    candidate = tmp_path / "senior-heavy.yaml"
    candidate.write_text(SENIOR_HEAVY)
    portal = FakeHubSpotPortal(httpserver, CONTACTS)
    state = tmp_path / "make-run.json"
    with make_run(None, "--reset", **crm_environment(httpserver, state)) as url:
        viewer = {"Authorization": f"Bearer {LOCAL_SECRETS['VIEWER_API_KEY']}"}

        def rules() -> dict[str, Any]:
            found: dict[str, Any] = requests.get(f"{url}/rules", headers=viewer, timeout=10).json()
            return found

        bundled = rules()["fingerprint"]
        deployed = leadscore(state, "rules", "deploy", str(candidate), "--shadow", "--local", "-m", "seniority x3")
        assert deployed.returncode == 0, deployed.stderr
        assert "version 2 (senior-heavy" in deployed.stdout and "is the shadow" in deployed.stdout
        shadow = _until("the shadow reaching the API", lambda: rules()["shadow"])
        assert shadow["version"] == 2 and rules()["fingerprint"] == bundled

        events = [{"eventId": 9100 + index, "subscriptionId": 1, "portalId": 12345678, "appId": 1,
                   "occurredAt": int(time.time() * 1000), "subscriptionType": "contact.creation", "attemptNumber": 0,
                   "objectId": int(contact["id"]), "changeFlag": "CREATED", "changeSource": "CRM_UI"}
                  for index, contact in enumerate(CONTACTS)]  # fmt: skip
        body, headers = Signer(LOCAL_SECRETS, url).hubspot_v3("/webhooks/hubspot", events)
        assert requests.post(f"{url}/webhooks/hubspot", data=body, headers=headers, timeout=10).status_code == 200

        def lead(key: str) -> dict[str, Any]:
            found: dict[str, Any] = requests.get(f"{url}/leads/{key}", headers=viewer, timeout=10).json()
            return found

        def read_from_hubspot() -> dict[str, Any] | None:
            """The VP once the queue read its contact: its title counts, 30 more in the shadow."""
            found = lead("hubspot:1001")
            title = (found.get("profile") or {}).get("job_title")
            return found if title == "VP Sales" and (found.get("shadow") or {}).get("score") else None

        ada = _until("the contact read from HubSpot", read_from_hubspot)
        assert ada["shadow"]["score"] == ada["score"] + 30

        def sent(contact: str) -> list[str]:
            return [item["properties"]["lead_score"] for update in portal.updates for item in update["inputs"]
                    if item["id"] == contact and "lead_score" in item["properties"]]  # fmt: skip

        _until("the write-back of the scores in force", lambda: sent("1001")[-1:] == [str(ada["score"])])
        _until("the write-back of the engineer", lambda: sent("1002"))
        # The CRM got the active scores (before and after the read), never the shadow's.
        assert str(ada["shadow"]["score"]) not in sent("1001")
        report = requests.get(f"{url}/reports/shadow", headers=viewer, timeout=30)
        assert report.status_code == 200, report.text
        found = report.json()
        assert found["leads"] == 2 and found["shadow"]["name"] == "senior-heavy"
        (mover,) = found["movers"]  # the VP: +30 in the shadow; the engineer did not move
        assert mover["change"] == 30 and mover["lead_id"] == ada["lead_id"] and mover["shadow_tier"]
        assert any("VP" in reason or "C-level" in reason for reason in mover["shadow_reasons"])

        promoted = leadscore(state, "rules", "promote", "--local")
        assert promoted.returncode == 0, promoted.stderr
        assert promoted.stdout.strip() == "active: version 2, no shadow"
        _until("the promoted version in force", lambda: rules()["fingerprint"] == shadow["fingerprint"])
        assert rules()["active_version"] == 2 and rules()["shadow"] is None

        rolled = leadscore(state, "rules", "rollback", "--local")
        assert rolled.returncode == 0 and rolled.stdout.strip() == "active: version 1, no shadow"
        _until("the rolled-back version in force", lambda: rules()["fingerprint"] == bundled)
        listed = leadscore(state, "rules", "list", "--local")
        assert "senior-heavy" in listed.stdout and "[active]" in listed.stdout
