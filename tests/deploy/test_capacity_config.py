"""The stage's concurrency, queue batching and CRM pacing are the capacity model's (infra/capacity.py):
the tasks function's reserved concurrency and its event source's MaximumConcurrency are the
model's consumers, every stage tells the functions how many share a CRM's rate limit, and the
consumer takes the model's batch."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra.capacity import CRM_CALLERS, TASK_BATCH, TASK_BATCH_WINDOW_SECONDS, TASK_CONSUMERS, key_rates

ROOT = Path(__file__).parents[2]


def test_the_stages_follow_the_capacity_model() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    deployed = {name: stage for name, stage in config["stages"].items() if "lambda_functions" in stage}
    assert set(deployed) >= {"dev", "prod"}
    for name, stage in deployed.items():
        assert stage["lambda_functions"]["tasks"]["reserved_concurrency"] == TASK_CONSUMERS, name
        assert stage["environment_variables"]["CRM_CALLERS"] == str(CRM_CALLERS), name
    template = (ROOT / "infra" / "resources.yaml").read_text()
    assert re.search(rf"MaximumConcurrency: {TASK_CONSUMERS}\b", template)
    app = (ROOT / "app.py").read_text()
    assert f"batch_size={TASK_BATCH}, maximum_batching_window_in_seconds={TASK_BATCH_WINDOW_SECONDS}" in app


def test_no_key_is_over_a_tenth_of_a_partition_at_the_stated_workload() -> None:
    assert [row.key for row in key_rates() if row.share > 0.10] == []


def test_each_crm_caller_paces_itself_to_its_share_of_the_limit() -> None:
    from chalicelib.bootstrap import Container
    from chalicelib.settings import Settings

    shared = Container(Settings(hubspot_access_token="pat", pipedrive_api_token="pd", crm_callers=CRM_CALLERS))
    assert shared.hubspot_contacts is not None and shared.hubspot_contacts.calls.limit.calls == 100 // CRM_CALLERS
    assert shared.pipedrive_calls().limit.calls == 20 // CRM_CALLERS
    alone = Container(Settings(hubspot_access_token="pat"))
    assert alone.hubspot_contacts is not None and alone.hubspot_contacts.calls.limit.calls == 100
