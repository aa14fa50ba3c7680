"""`.venv/bin/leadscore ... --local` against a running `make run`, as a developer types it: found
from make run's state file, with nothing copied into the shell's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import requests

from chalicelib.service_layer.messages import WriteBack
from local.child import make_run

LEADSCORE = Path(sys.executable).parent / "leadscore"  # the console script `make` installs


def leadscore(state: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    shell = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    shell |= {"LEADSCORE_LOCAL_STATE": str(state), "AWS_CONFIG_FILE": "/nonexistent"}
    for name in ("TABLE_NAME", "TASK_QUEUE", "TASK_DLQ"):
        shell.pop(name, None)
    return subprocess.run([str(LEADSCORE), *argv], env=shell, capture_output=True, text=True, timeout=120)


def written(state: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 30  # make run writes it right after its first health answer
    while not state.exists():
        assert time.monotonic() < deadline, "make run wrote no state file"
        time.sleep(0.1)
    loaded: dict[str, Any] = json.loads(state.read_text())
    return loaded


def test_decay_and_the_dead_letter_queue_of_a_running_make_run(tmp_path: Path) -> None:
    state = tmp_path / "make-run.json"
    with make_run(LEADSCORE_LOCAL_STATE=str(state)) as url:
        found = written(state)
        assert found["url"] == url and "SECRET" not in json.dumps(found).upper()

        # chalice local answers an unknown route as the deployed API's gateway responses do.
        unknown = requests.get(f"{url}/no/such/route", timeout=10)
        assert unknown.status_code == 404
        assert unknown.json() == {"error": "not_found", "code": "not_found", "message": "no such route"}

        decay = leadscore(state, "upkeep", "--local", "--dry-run", "--json")
        assert decay.returncode == 0, decay.stderr
        assert json.loads(decay.stdout)["stopped_early"] is False

        sqs = boto3.client("sqs", endpoint_url=found["aws_endpoint"], region_name=found["region"],
                           aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
        dead_letters = sqs.get_queue_url(QueueName=found["resources"]["TASK_DLQ"])["QueueUrl"]
        body = {**WriteBack("lead-local", 2).to_json(), "failure": "Salesforce: Lead_Score__c is not writeable"}
        sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps(body))

        listed = leadscore(state, "dlq", "list", "--local")
        assert listed.returncode == 0, listed.stderr
        assert "lead-local" in listed.stdout and "Lead_Score__c is not writeable" in listed.stdout
        redriven = leadscore(state, "dlq", "redrive", "--all", "--local")
        assert redriven.returncode == 0 and "sent 1 dead letters back" in redriven.stdout
        assert leadscore(state, "dlq", "list", "--local").stdout.strip() == "the dead-letter queue is empty"

    assert not state.exists()  # make run removed it as it stopped
    stopped = leadscore(state, "upkeep", "--local")
    assert stopped.returncode == 2
    assert stopped.stderr.strip() == "leadscore: no `make run` is running here (start it with `make run`)"


def test_make_run_names_the_console_and_its_keys_and_keeps_metric_lines_out_of_the_log() -> None:
    import time
    import urllib.request

    from local.child import make_run
    from local.defaults import LOCAL_SECRETS

    for metrics, expected in (("", False), ("1", True)):
        seen: list[str] = []
        with make_run(seen, LOCAL_METRICS=metrics) as url:
            body = b'{"userId": "u-log", "event": "Demo Requested", "messageId": "m-log"}'
            request = urllib.request.Request(
                f"{url}/v1/track",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": _basic(LOCAL_SECRETS["EVENTS_WRITE_KEY"]),
                },
            )
            with urllib.request.urlopen(request, timeout=30) as reply:
                assert reply.status == 200
            time.sleep(0.5)  # the child's last lines on their way through the pipe
        printed = "".join(seen)
        assert f"console: {url}/console" in printed and LOCAL_SECRETS["VIEWER_API_KEY"] in printed
        assert ('"CloudWatchMetrics"' in printed) is expected, printed[-2000:]


def _basic(write_key: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def test_make_demo_finds_make_run_on_its_port_or_says_in_one_line_that_none_runs(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from local.child import make_run

    state = str(tmp_path / "make-run.json")
    env = {**os.environ, "LEADSCORE_LOCAL_STATE": state}
    env.pop("LEADSCORE_URL", None)
    with make_run(LEADSCORE_LOCAL_STATE=state):  # on a free port, not 8000
        demo = subprocess.run([sys.executable, "-m", "local.demo"], env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "200  HubSpot webhooks" in demo.stdout and "Traceback" not in demo.stderr
    alone = subprocess.run([sys.executable, "-m", "local.demo"], env={**env, "LEADSCORE_URL": "http://127.0.0.1:9"},
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert alone.returncode == 2
    (line,) = alone.stderr.strip().splitlines()
    assert line.startswith("make demo: no leadscore answers at http://127.0.0.1:9")
