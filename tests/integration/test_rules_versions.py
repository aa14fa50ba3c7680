"""Rules versions in the stack (DynamoDB through moto): deploy, list, show, diff, activate and
roll back from the CLI; two deploys at once; the active version cached per container and checked
once a minute; a version that cannot be read; the rescore of every lead following activation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.cli import main as cli
from chalicelib.domain.releases import activate
from chalicelib.rules import DEFAULT_RULES_PATH, rules_loader
from chalicelib.rules.active import ActiveRules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import Conflict
from chalicelib.service_layer.rules_preview import InvalidRules
from chalicelib.service_layer.rules_releases import RulesReleases, bundled_text
from chalicelib.storage.ports import RulesVersion
from tests.conftest import admin_get, json_body, use_container
from tests.helpers import track

BUNDLED = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
# A demo request worth more: scores move.
DEMO = "event: demo_request, points: 50, cap: 50"
EDITED = BUNDLED.replace(DEMO, DEMO.replace("50", "80")).replace("name: seed-model", "name: demo-heavy", 1)
BROKEN = BUNDLED.replace("points: 50", "pionts: 50", 1)


def _file(tmp_path: Path, text: str, name: str = "rules.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def cli_here(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI's `--local` target is this test's container (moto)."""
    monkeypatch.setattr("chalicelib.cli.rules_cmd.target_container", lambda args: container())
    monkeypatch.setenv("LEADSCORE_USER", "ops@example.com")
    return aws


def test_deploy_list_show_diff_activate_and_roll_back_from_the_cli(cli_here: Any, tmp_path: Path, capsys: Any) -> None:
    assert cli(["rules", "deploy", _file(tmp_path, BROKEN), "--local"]) == 1
    refused = capsys.readouterr().err
    assert "problem" in refused and "pionts" in refused
    assert container().storage.rules_versions.listed() == []  # refused before anything was stored

    assert cli(["rules", "deploy", _file(tmp_path, EDITED), "--local", "-m", "demo requests count more"]) == 0
    assert "version 2 (demo-heavy" in capsys.readouterr().out
    assert cli(["rules", "list", "--local", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["active"] == 2 and listed["shadow"] is None
    first, second = listed["versions"]
    assert first["version"] == 1 and first["deployed_by"] == "the bundled rules file" and first["role"] == ""
    assert second["deployed_by"] == "ops@example.com" and second["message"] == "demo requests count more"
    assert second["role"] == "active" and second["fingerprint"] != first["fingerprint"]

    assert cli(["rules", "show", "2", "--local"]) == 0
    assert capsys.readouterr().out == EDITED
    assert cli(["rules", "show", "9", "--local"]) == 2
    assert "no rules version 9" in capsys.readouterr().err
    assert cli(["rules", "diff", "1", "2", "--local"]) == 0
    diff = capsys.readouterr().out
    assert "name: seed-model → demo-heavy" in diff
    assert "engagement rule 'demo_request' points: 50.0 → 80.0" in diff and "cap: 50.0 → 80.0" in diff

    assert cli(["rules", "rollback", "--local"]) == 0
    assert capsys.readouterr().out.strip() == "active: version 1, no shadow"
    assert cli(["rules", "rollback", "--local"]) == 2  # nothing before version 1
    assert "no earlier active version" in capsys.readouterr().err
    assert cli(["rules", "activate", "2", "--local"]) == 0
    assert cli(["rules", "deploy", _file(tmp_path, EDITED), "--local"]) == 2  # the same rules again
    assert "same rules" in capsys.readouterr().err
    log = container().releases.listed(datetime.now(UTC))["log"]
    assert [entry["action"] for entry in log] == ["activate", "rollback", "activate", "activate"]

    # Stored without activating it; what `rules validate` would warn about is said at deploy time.
    unscored = "\n".join(line for line in EDITED.splitlines() if "event: demo_request," not in line) + "\n"
    assert cli(["rules", "deploy", _file(tmp_path, unscored, "unscored.yaml"), "--store-only", "--local"]) == 0
    said = capsys.readouterr()
    assert "version 3 (demo-heavy" in said.out and "is stored (not active)" in said.out
    assert "warning: engagement.event_types.demo_request: no rule scores it" in said.err
    assert container().releases.listed(datetime.now(UTC))["active"] == 2


def test_two_deploys_at_once_one_wins_and_the_other_is_told(aws: Any) -> None:
    versions = container().storage.rules_versions
    now = datetime.now(UTC)
    first, second = RulesReleases(versions, bundled_text), RulesReleases(versions, bundled_text)
    first.seed(now)
    stale = versions.listed()
    first.deploy(EDITED, "ana", "", now)
    second.versions = _StaleListing(versions, stale)  # read the versions before the first stored its own
    with pytest.raises(Conflict, match="version 2 was stored first"):
        second.deploy(EDITED.replace("points: 80, cap: 80", "points: 70, cap: 70"), "bo", "", now)
    assert [version.deployed_by for version in versions.listed()] == ["the bundled rules file", "ana"]
    # A pointer read before another command moved it is not saved over the move.
    read = versions.pointer(consistent=True)
    first.rollback("ana", now)
    from dataclasses import replace

    with pytest.raises(Exception, match="changed meanwhile"):
        versions.move_pointer(replace(read, active=2, revision=read.revision + 1))
    assert versions.pointer(consistent=True).active == 1


class _StaleListing:
    def __init__(self, versions: Any, listed: list[RulesVersion]) -> None:
        self.versions, self.stale = versions, listed

    def listed(self) -> list[RulesVersion]:
        return self.stale

    def __getattr__(self, name: str) -> Any:
        return getattr(self.versions, name)


def test_the_active_version_is_cached_per_container_and_checked_once_a_minute(aws: Any) -> None:
    now = datetime.now(UTC)
    releases = container().releases
    releases.deploy(EDITED, "ana", "", now)
    clock = [1000.0]
    rules = ActiveRules(lambda: container().storage.rules_versions, rules_loader(), 60, lambda: clock[0])
    aws.reset()
    assert rules().name == "demo-heavy"
    assert aws.calls == ["GetItem", "GetItem"]  # the pointer, then the version it names
    aws.reset()
    for _ in range(200):  # the hot path: no request at all
        rules()
    clock[0] += 59
    rules()
    assert aws.calls == []
    releases.rollback("ana", now)
    clock[0] += 2
    aws.reset()
    assert rules().name == "seed-model"  # checked again after a minute: version 1, parsed on first use
    assert aws.calls == ["GetItem", "GetItem"]
    releases.activate(2, "ana", now)
    aws.reset()
    assert rules().name == "seed-model" and aws.calls == []  # not checked again within the minute
    clock[0] += 61
    assert rules().name == "demo-heavy" and aws.calls == ["GetItem"]  # still parsed: only the pointer is read


def test_a_version_that_cannot_be_read_leaves_the_last_good_one_in_force(aws: Any, client: Any) -> None:
    now = datetime.now(UTC)
    parts = container()
    parts.releases.deploy(EDITED, "ana", "", now)
    running = parts.rules
    assert isinstance(running, ActiveRules) and running().name == "demo-heavy"
    # A version stored by an earlier release whose rules this code no longer accepts.
    versions = parts.storage.rules_versions
    versions.add(RulesVersion(3, BROKEN, "0" * 16, "broken", "ana", now, "accepted by an older release"))
    with pytest.raises(InvalidRules):  # this release cannot read it: never made active by a command
        parts.releases.activate(3, "ana", now)
    parts.releases._move(lambda read: activate(read, 3, now, "an older release"))
    running.refresh()
    assert running().name == "demo-heavy"
    health = client.http.get("/health")
    assert health.status_code == 200
    body = json_body(health)
    assert body["status"] == "degraded" and body["rules"]["version"] == 2
    (problem,) = body["rules"]["problems"]
    assert problem.startswith("rules version 3: line") and "pionts" in problem and "version 2 stays in force" in problem

    use_container()  # a new container has no good version to fall back on: nothing can be scored
    refused = client.http.get("/health")
    assert refused.status_code == 503 and json_body(refused)["code"] == "rules_invalid"
    assert "rules version 3" in json_body(refused)["problems"][0]
    assert admin_get(client, "/leads").status_code == 503
    container().releases.rollback("ana", now)
    container().rules.refresh()  # type: ignore[attr-defined]
    assert json_body(client.http.get("/health"))["rules"]["version"] == 2


def test_every_lead_is_rescored_once_every_container_has_seen_the_activation(aws: Any, client: Any) -> None:
    now = datetime.now(UTC)
    parts = container()
    demo = [track(f"d{index}", "Demo Requested", user_id=f"u{index}") for index in range(3)]
    parts.ingestion.ingest(ParsedDelivery(events=demo), now)
    before = json_body(admin_get(client, "/leads/user:u0"))
    parts.releases.deploy(EDITED, "ana", "", now)
    parts.rules.refresh()  # type: ignore[attr-defined]
    waiting = parts.upkeep.run(now + timedelta(seconds=30))
    assert waiting.rules_sweep == {"fingerprint": parts.rules().fingerprint, "shadow": None, "done": False,
                                   "rescored": 0, "waiting": True}  # fmt: skip
    done = parts.upkeep.run(now + timedelta(seconds=61))
    assert done.rules_sweep["done"] and done.rules_sweep["rescored"] == 3
    after = json_body(admin_get(client, "/leads/user:u0"))
    assert after["score"] == before["score"] + 30
    rules = json_body(admin_get(client, "/rules"))
    assert rules["fingerprint"] == parts.rules().fingerprint and rules["active_version"] == 2
    assert rules["shadow"] is None


def test_the_api_deploys_a_shadow_with_the_admin_key_only_and_refuses_an_invalid_file(client: Any) -> None:
    from tests.conftest import SECRETS

    admin = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}", "Content-Type": "application/json"}
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}", "Content-Type": "application/json"}
    body = json.dumps({"rules": EDITED, "message": "try it"})
    assert client.http.post("/rules/versions", headers=viewer, body=body).status_code == 403
    invalid = client.http.post("/rules/versions", headers=admin, body=json.dumps({"rules": BROKEN}))
    assert invalid.status_code == 400 and json_body(invalid)["code"] == "invalid_rules"
    assert any("pionts" in issue["text"] for issue in json_body(invalid)["issues"])
    assert container().storage.rules_versions.listed() == []
    wrong = client.http.post("/rules/versions", headers=admin, body=json.dumps({"rules": EDITED, "role": "boss"}))
    assert wrong.status_code == 400 and json_body(wrong)["field"] == "role"
    done = client.http.post("/rules/versions", headers=admin, body=body)
    assert done.status_code == 200 and json_body(done)["role"] == "shadow" and json_body(done)["version"] == 2
    again = client.http.post("/rules/versions", headers=admin, body=body)
    assert again.status_code == 409 and "same rules" in json_body(again)["message"]
    listed = json_body(client.http.get("/rules/versions", headers=viewer))
    assert (listed["active"], listed["shadow"]) == (1, 2)
    shown = json_body(client.http.get("/rules/versions/2", headers=viewer))
    assert shown["rules"] == EDITED and shown["message"] == "try it" and shown["deployed_by"] == "console (admin key)"
    assert client.http.get("/rules/versions/7", headers=viewer).status_code == 404
    assert client.http.get("/rules/versions/x1", headers=viewer).status_code == 404
    assert json_body(client.http.get("/rules", headers=viewer))["shadow"]["version"] == 2
