"""Each Lambda function loads only what its own trigger needs: measured on the same first-
invocation paths `make bench` times (bench/cold_start.py FUNCTIONS), each in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.cold_start import FUNCTIONS

OTHER_VENDORS = ("salesforce", "pipedrive", "calendly", "calcom", "segment", "typeform", "tally", "webflow", "generic")
RULES_ENGINE = ("chalicelib.domain.rules", "chalicelib.domain.compiled_rules", "chalicelib.domain.engagement", "yaml")
NOT_LOADED = {
    "init": ("chalicelib.entrypoints", "chalicelib.bootstrap", "chalicelib.domain", "chalicelib.storage",
             "chalicelib.sources", "chalicelib.service_layer", "pydantic", "yaml"),
    # a webhook queues calls to the CRMs and never makes one (no CRM client at all), and loads the
    # one vendor module it names, not the console's views
    "api": ("chalicelib.crm", "chalicelib.service_layer.write_back", "chalicelib.service_layer.upkeep", "requests",
            "chalicelib.service_layer.lead_views", *(f"chalicelib.sources.{vendor}" for vendor in OTHER_VENDORS)),
    # a console page reads: no vendor module, no ingestion, no CRM client
    "console": ("chalicelib.crm", "chalicelib.service_layer.write_back", "chalicelib.service_layer.upkeep", "requests",
                "chalicelib.service_layer.ingest", "chalicelib.sources.hubspot", "chalicelib.sources.salesforce"),
    "tasks": ("chalicelib.sources", "chalicelib.service_layer.ingest", "chalicelib.service_layer.lead_writes",
                  "chalicelib.service_layer.upkeep", *RULES_ENGINE),
    "upkeep": ("chalicelib.sources", "chalicelib.crm", "chalicelib.service_layer.ingest",
              "chalicelib.service_layer.write_back", "requests"),
    # reads CRMs and ingests: never a writer (the task consumer writes) or the upkeep jobs
    "crm_sync": ("chalicelib.crm.hubspot.writer", "chalicelib.crm.salesforce.writer",
                 "chalicelib.service_layer.write_back", "chalicelib.service_layer.upkeep"),
}  # fmt: skip
PROBES = {"init": "import app", **FUNCTIONS}
ENTRY = {"init": "app", "api": "chalicelib.entrypoints.http", "console": "chalicelib.entrypoints.http",
         "tasks": "chalicelib.entrypoints.sqs",
         "upkeep": "chalicelib.entrypoints.schedule", "crm_sync": "chalicelib.entrypoints.schedule"}  # fmt: skip


def loaded_modules(code: str) -> set[str]:
    probe = f"{code}; import sys; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("function", sorted(PROBES))
def test_a_function_imports_only_its_own_path(function: str) -> None:
    modules = loaded_modules(PROBES[function])
    assert ENTRY[function] in modules
    unexpected = sorted(m for m in modules if m.startswith(NOT_LOADED[function]))
    assert unexpected == [], f"{function} loads {unexpected}"
