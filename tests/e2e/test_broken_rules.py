"""A broken rules file (bad YAML, a misspelt key, a missing path) never turns into a running
service that answers 500: `make run` and `make package` refuse it in one line naming the file, the
line and the problem; one loaded at run time makes /health and every data route a 503
`rules_invalid`, and the senders deliver again once it is fixed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.rules import DEFAULT_RULES_PATH
from local.defaults import LOCAL_HOST
from tests import signing
from tests.conftest import admin_get, json_body, use_container

MISSPELT = DEFAULT_RULES_PATH.read_text().replace("points: 50", "pionts: 50", 1)
MISSPELT_AT = f"line {MISSPELT[: MISSPELT.index('pionts')].count(chr(10)) + 1}: engagement.rules["
BROKEN = {"bad YAML": ("version: 1\nname: [unclosed\n", "line 3"), "an unknown key": (MISSPELT, MISSPELT_AT)}


def broken_file(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(BROKEN[case][0])
    return path


@pytest.mark.parametrize("case", [*BROKEN, "a missing path"])
def test_make_run_refuses_a_broken_rules_file_in_one_line(tmp_path: Path, case: str) -> None:
    path = tmp_path / "nowhere.yaml" if case == "a missing path" else broken_file(tmp_path, case)
    with socket.socket() as free:  # a port nothing listens on: the rules are what stops it
        free.bind((LOCAL_HOST, 0))
        port = free.getsockname()[1]
    env = {**os.environ, "SCORING_RULES": str(path), "PORT": str(port)}
    done = subprocess.run([sys.executable, "-m", "local.run"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"make run: SCORING_RULES: {path}")
    if case in BROKEN:
        assert BROKEN[case][1] in line
    else:
        assert "No such file" in line
    assert "is up" not in done.stdout


def test_make_package_refuses_a_broken_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import package

    path = broken_file(tmp_path, "an unknown key")
    monkeypatch.setattr("infra.stages.stage_environment", lambda stage: {"SCORING_RULES": str(path)})
    problem = package.stage_rules_problem("dev")
    assert problem is not None and MISSPELT_AT in problem and str(path) in problem
    assert package.main(["--stage", "dev", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    monkeypatch.undo()
    assert package.stage_rules_problem("dev") is None  # the stages as configured: the bundled rules


def test_rules_broken_at_run_time_make_health_and_data_routes_503(client, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCORING_RULES", str(broken_file(tmp_path, "an unknown key")))
    use_container()
    health = client.http.get("/health")
    assert health.status_code == 503 and json_body(health)["code"] == "rules_invalid"
    assert MISSPELT_AT in json_body(health)["message"]
    assert admin_get(client, "/leads").status_code == 503
    body = signing.json_dumps({"userId": "u", "event": "Demo Requested", "messageId": "m-1"})
    tracked = client.http.post("/v1/track", body=body, headers=signing.basic())
    assert tracked.status_code == 503 and json_body(tracked)["code"] == "rules_invalid"
    assert tracked.headers.get("Retry-After")  # delivered again later, once the file is fixed
    monkeypatch.delenv("SCORING_RULES")
    use_container()
    assert client.http.get("/health").status_code == 200
