"""`make package STAGE=...`: the real `chalice package`, merged with infra/resources.yaml, then the
bundle's Python files precompiled.

Lambda unpacks the bundle on a read-only file system, so Python can never cache bytecode there:
without .pyc files in the zip, every cold start compiles each imported module from source again
(`make bench` shows the cost). We add `__pycache__/*.cpython-3XX.pyc` in unchecked-hash mode: valid
whatever the unpacked files' timestamps, compiled by the interpreter Chalice picked the Lambda
runtime from, so the magic number matches the runtime.

The template gets the alarms and dashboard of infra/monitoring.py, and its parameters' defaults
from the stage's config (namespace, throttling, tracing, alarm e-mail), so it deploys as the
stage says with no parameter given.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from infra import monitoring
from infra.stages import stage_config

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.yaml"
TASK_ROOT = "/var/task"  # where Lambda unpacks the bundle: the path tracebacks show


def chalice_package(stage: str, out: Path, project: Path = ROOT) -> None:
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    command = [str(chalice), "--project-dir", str(project), "package", "--stage", stage,
               "--merge-template", str(MERGE_TEMPLATE), str(out.resolve())]  # fmt: skip
    subprocess.run(command, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)


def add_bytecode(bundle: Path) -> int:
    """Compile every .py in the zip and add the .pyc files; returns how many were added. Any
    `__pycache__` Chalice copied from the working tree (timestamp-checked, so stale once unpacked)
    is dropped first."""
    with tempfile.TemporaryDirectory() as scratch:
        rebuilt = Path(scratch) / "bundle.zip"
        with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            kept = [info for info in source.infolist() if "__pycache__/" not in info.filename]
            modules = [info.filename for info in kept if info.filename.endswith(".py")]
            for info in kept:
                copy = zipfile.ZipInfo(info.filename, info.date_time)  # writestr updates the info it is given
                copy.external_attr, copy.compress_type = info.external_attr, zipfile.ZIP_DEFLATED
                target.writestr(copy, source.read(info))
            tree = Path(scratch) / "tree"
            source.extractall(tree, members=modules)
            compileall.compile_dir(
                tree,
                ddir=TASK_ROOT,
                quiet=1,
                workers=1,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled = sorted(tree.rglob("*.pyc"))
            for path in compiled:
                target.write(path, path.relative_to(tree).as_posix())
        shutil.move(rebuilt, bundle)
    return len(compiled)


def for_stage(template: dict[str, Any], stage: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template with the monitoring resources and the stage's parameter defaults (`config`:
    the stage's block of .chalice/config.json)."""
    config = stage_config(stage) if config is None else config
    operations = config.get("operations", {})
    defaults = {
        "Stage": stage,
        "MetricsNamespace": config.get("environment_variables", {}).get("POWERTOOLS_METRICS_NAMESPACE", "leadscore"),
        "AlarmEmail": operations.get("alarm_email", ""),
        "ThrottleRateLimit": operations.get("throttle_rate_limit", 100),
        "ThrottleBurstLimit": operations.get("throttle_burst_limit", 200),
        "Tracing": "true" if config.get("xray") else "false",
    }
    parameters = {name: {**spec, "Default": defaults[name]} for name, spec in template["Parameters"].items()}
    outputs = dict(template.get("Outputs", {}))
    if "ApiGatewayCustomDomain" in template["Resources"]:  # Chalice's, from api_gateway_custom_domain
        outputs["CustomDomainTarget"] = {
            "Description": "Point the custom domain's DNS record (CNAME or alias) here",
            "Value": {"Fn::GetAtt": ["ApiGatewayCustomDomain", "RegionalDomainName"]},
        }
    resources = {**template["Resources"], **monitoring.resources()}
    return {**template, "Parameters": parameters, "Resources": resources, "Outputs": outputs}


def build(stage: str, out: Path, project: Path = ROOT) -> Path:
    """`project`: another copy of the app (a test's, with a stage of its own)."""
    shutil.rmtree(out, ignore_errors=True)
    chalice_package(stage, out, project)
    path = out / "sam.yaml"
    config = json.loads((project / ".chalice" / "config.json").read_text())["stages"][stage]
    path.write_text(yaml.safe_dump(for_stage(yaml.safe_load(path.read_text()), stage, config), sort_keys=False))
    bundle = out / "deployment.zip"
    added = add_bytecode(bundle)
    print(f"{bundle}: added {added} precompiled modules (python{sys.version_info.major}.{sys.version_info.minor})")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, help="directory for sam.yaml and deployment.zip (replaced)")
    args = parser.parse_args(argv)
    problem = stage_rules_problem(args.stage)
    if problem:
        print(f"make package: the {args.stage} stage's rules: {problem}", file=sys.stderr)
        return 2
    build(args.stage, Path(args.out))
    return 0


def stage_rules_problem(stage: str) -> str | None:
    """The rules the stage's functions will load (its SCORING_RULES, a path in the package, or the
    bundled ones), checked before packaging: a broken file never reaches a deployment."""
    from chalicelib.rules import check_rules_file
    from infra.stages import stage_environment

    path = stage_environment(stage).get("SCORING_RULES") or None
    return check_rules_file(ROOT / path if path else None)


if __name__ == "__main__":
    sys.exit(main())
