"""Cold start: what a new Lambda container pays to import the handler module, against the floor
of importing Chalice, boto3 and pydantic alone (issue 5: ratio <= 1.3). Each figure is the median
of fresh interpreters, alternated so machine noise hits both alike, run with the prod stage's
environment variables from .chalice/config.json. Each function's first run (issue 33): <= 2x.

Lambda's init phase runs the handler module's imports, so `app` is the figure the target is about;
the first invocation of each function then imports what its own trigger needs (FUNCTIONS: the
real entry module and use case of each), shown for comparison."""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.stages import stage_environment

ROOT = Path(__file__).resolve().parent.parent
RUNS = 11
FLOOR = "import chalice, boto3, pydantic"
# What each Lambda function runs by the end of its first invocation, short of calling AWS or a CRM:
# the handler's entry module and the use case the composition root builds for it (with a CRM
# configured, so the writers and their HTTP client load as they do in production). The rules are
# parsed as the active version is, short of reading it from DynamoDB (`parts.rules.bundled()`).
_BUILD = (
    "from chalicelib.bootstrap import Container; from chalicelib.settings import Settings; "
    "parts = Container(Settings(hubspot_access_token='t', salesforce_instance_url='https://x.my.salesforce.com', "
    "salesforce_access_token='t'))"
)
FUNCTIONS = {
    # a webhook: the ingestion use case, the rules in force and the one vendor module it names
    "api": f"import app; from chalicelib.entrypoints import http; {_BUILD}; parts.ingestion; "
    "parts.rules.bundled(); http.sources.receiver('hubspot')",
    # a rep's first console page: the lead views and the rules that explain a score
    "console": f"import app; from chalicelib.entrypoints import http; {_BUILD}; parts.lead_views; "
    "parts.rules.bundled()",
    "tasks": f"import app; from chalicelib.entrypoints import sqs; {_BUILD}; parts.task_handler; "
    "[w.client.session for w in parts.writers]",
    "upkeep": f"import app; from chalicelib.entrypoints import schedule; {_BUILD}; parts.upkeep; parts.rules.bundled()",
    "crm_sync": f"import app; from chalicelib.entrypoints import schedule; {_BUILD}; parts.crm_import; "
    "[r.calls.client for r in parts.record_readers.values()]",
}
CASES = {
    "app (Lambda init, every function)": "import app",
    "API function, first webhook": FUNCTIONS["api"],
    "API function, first console page": FUNCTIONS["console"],
    "task function, first batch": FUNCTIONS["tasks"],
    "upkeep function, first run": FUNCTIONS["upkeep"],
    "CRM sync function, first run": FUNCTIONS["crm_sync"],
}
FIRST_RUN_TARGET = 2.0  # issue 33: a function's first run at most twice the floor
PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def import_seconds(code: str, env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip())


def run() -> dict[str, float]:
    env = {**os.environ, **stage_environment("prod")}
    # "bytecode cached" even where PYTHONDONTWRITEBYTECODE is set: else every probe compiles source
    compileall.compile_dir(ROOT / "chalicelib", quiet=1)
    compileall.compile_file(ROOT / "app.py", quiet=1)
    medians = measure(env, "this checkout (bytecode cached)")
    with tempfile.TemporaryDirectory() as scratch:
        task_root = unpacked_bundle(Path(scratch))
        bundle_env = {**env, "PYTHONPATH": str(task_root), "PYTHONDONTWRITEBYTECODE": "1"}
        medians.update({f"bundle {name}": value for name, value in measure(bundle_env, "the Lambda bundle").items()})
        os.chmod(task_root, 0o755)
        for cached in task_root.rglob("__pycache__"):
            shutil.rmtree(cached)
        plain = measure(bundle_env, "the same bundle without its precompiled bytecode (what Chalice ships)", False)
        medians.update({f"plain {name}": value for name, value in plain.items()})
    return medians


def unpacked_bundle(scratch: Path) -> Path:
    """The prod bundle as Lambda sees it: `make package`'s output unpacked into a read-only dir."""
    from infra.package import build

    bundle = build("prod", scratch / "out")
    task_root = scratch / "task"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(task_root)
    os.chmod(task_root, 0o555)
    return task_root


def measure(env: dict[str, str], where: str, targets: bool = True) -> dict[str, float]:
    samples: dict[str, list[float]] = {"floor": [], **{name: [] for name in CASES}}
    for _ in range(RUNS):
        samples["floor"].append(import_seconds(FLOOR, {k: v for k, v in env.items() if k != "PYTHONPATH"}))
        for name, code in CASES.items():
            samples[name].append(import_seconds(code, env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["floor"]
    print(f"cold start from {where}: median of {RUNS} fresh interpreters, prod stage environment")
    print(f"  floor: {FLOOR:<52} {floor * 1000:7.1f} ms")
    for name in CASES:
        target = "" if name == CASES_FIRST or not targets else f"  (target <= {FIRST_RUN_TARGET})"
        print(f"  {name:<59} {medians[name] * 1000:7.1f} ms  ratio {medians[name] / floor:.2f}{target}")
    if targets:
        print(f"  app import / floor = {medians[CASES_FIRST] / floor:.2f} (target <= 1.3)")
    return medians


CASES_FIRST = next(iter(CASES))

if __name__ == "__main__":
    run()
