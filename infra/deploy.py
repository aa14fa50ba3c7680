"""`make deploy STAGE=prod` / `make destroy STAGE=prod`: the packaged template to CloudFormation.

Uses boto3 only (no AWS CLI or SAM CLI needed): uploads `out/<stage>/deployment.zip` and the
template to an artifacts bucket, creates a change set on stack `leadscore-<stage>`, shows what it
would add, modify or replace and asks before executing it (`--yes` skips the question), prints
the stack's events as CloudFormation works, and ends with the stack outputs (the webhook URLs to
paste into each vendor). `destroy` asks you to type the stage's name. Missing credentials, region
or stack are one line, not a traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from infra.stages import deployed_stages, stage_environment

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
POLL_SECONDS = 5.0
WAIT_LIMIT_SECONDS = 3600.0  # CloudFormation's own timeouts end a stuck deploy long before this


class Refused(Exception):
    """The operator said no, or a deploy or destroy cannot go ahead: one line, exit status 1."""


class Console:
    """Where deploy talks to the operator: a question answered on stdin, progress on stdout. Tests
    give one with scripted answers and a clock that does not sleep."""

    def __init__(
        self,
        answer: Callable[[str], str] = input,
        out: TextIO = sys.stdout,
        sleep: Callable[[float], None] = time.sleep,
        interactive: bool | None = None,
    ) -> None:
        self.answer = answer
        self.out = out
        self.sleep = sleep
        self.interactive = sys.stdin.isatty() if interactive is None else interactive

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def confirm(self, question: str, expected: str, skip_flag: str = "--yes") -> None:
        if not self.interactive:
            raise Refused(f"not asked (no terminal): pass {skip_flag} to go ahead without the question")
        if self.answer(question).strip() != expected:
            raise Refused("not confirmed; nothing was changed")


def stack_name(stage: str) -> str:
    return f"leadscore-{stage}"


def load_template(package_dir: Path) -> dict[str, Any]:
    for name in ("sam.yaml", "sam.json"):
        path = package_dir / name
        if path.exists():
            loaded: dict[str, Any] = yaml.safe_load(path.read_text())
            return loaded
    raise SystemExit(f"no packaged template in {package_dir}: run `make package STAGE=...` first")


def point_code_at(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every function's code replaced by the uploaded zip (SAM's CodeUri, or
    Code in a template that was already transformed to plain CloudFormation)."""
    resources = {}
    for name, resource in template["Resources"].items():
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            properties = {**resource["Properties"], "CodeUri": {"Bucket": bucket, "Key": key}}
            resource = {**resource, "Properties": properties}
        elif kind == "AWS::Lambda::Function":
            properties = {**resource["Properties"], "Code": {"S3Bucket": bucket, "S3Key": key}}
            resource = {**resource, "Properties": properties}
        resources[name] = resource
    return {**template, "Resources": resources}


def artifacts_bucket(session: Any) -> str:
    account = session.client("sts").get_caller_identity()["Account"]
    return f"leadscore-artifacts-{account}-{session.region_name}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    existing = {entry["Name"] for entry in s3.list_buckets().get("Buckets", [])}
    if bucket in existing:
        return
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**arguments)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def upload(s3: Any, bucket: str, prefix: str, data: bytes, suffix: str) -> str:
    """Content-addressed, so an unchanged zip is not uploaded twice and CloudFormation sees no change."""
    key = f"{prefix}/{hashlib.sha256(data).hexdigest()}.{suffix}"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key


def deploy(
    session: Any,
    stage: str,
    package_dir: Path,
    bucket: str | None = None,
    yes: bool = False,
    console: Console | None = None,
) -> dict[str, str]:
    console = console or Console()
    s3 = session.client("s3")
    cloudformation = session.client("cloudformation")
    bucket = bucket or artifacts_bucket(session)
    ensure_bucket(s3, bucket, session.region_name)
    name = stack_name(stage)
    code_key = upload(s3, bucket, name, (package_dir / "deployment.zip").read_bytes(), "zip")
    template = point_code_at(load_template(package_dir), bucket, code_key)
    template_key = upload(s3, bucket, name, json.dumps(template, sort_keys=True).encode(), "json")
    template_url = f"https://{bucket}.s3.amazonaws.com/{template_key}"
    change_set_type = "UPDATE" if stack_exists(cloudformation, name) else "CREATE"
    change_set = cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=f"deploy-{template_key.split('/')[-1][:16]}-{code_key.split('/')[-1][:8]}",
        ChangeSetType=change_set_type,
        TemplateURL=template_url,
        Parameters=parameters(template, stage),
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "app", "Value": "leadscore"}, {"Key": "stage", "Value": stage}],
    )
    if not wait_for_change_set(cloudformation, change_set["Id"]):
        console.say(f"{name}: no changes to deploy")
        return outputs(cloudformation, name)
    changes = cloudformation.describe_change_set(ChangeSetName=change_set["Id"]).get("Changes", [])
    verb = "create" if change_set_type == "CREATE" else "update"
    console.say(f"{name} ({session.region_name}): {verb} with {len(changes)} changes")
    for line in summarise(changes):
        console.say(f"  {line}")
    if not yes:
        try:
            console.confirm(f"Deploy these changes to {name}? [y/N] ", "y")
        except Refused:
            cloudformation.delete_change_set(ChangeSetName=change_set["Id"])
            raise
    started = latest_event_time(cloudformation, name)
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    status = follow(cloudformation, name, started, console)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise Refused(f"{name} ended {status}: the events above say why (CloudFormation rolled back)")
    return outputs(cloudformation, name)


def parameters(template: dict[str, Any], stage: str) -> list[dict[str, str]]:
    """Stage always; the others keep the template's defaults (the stage's config) unless the
    environment overrides one (ALARM_EMAIL=ops@example.com make deploy)."""
    import os

    given = [{"ParameterKey": "Stage", "ParameterValue": stage}]
    if "AlarmEmail" in template.get("Parameters", {}) and os.environ.get("ALARM_EMAIL"):
        given.append({"ParameterKey": "AlarmEmail", "ParameterValue": os.environ["ALARM_EMAIL"]})
    return given


def summarise(changes: list[dict[str, Any]]) -> list[str]:
    """One line per resource change, as `aws cloudformation describe-change-set` would show it."""
    lines = []
    for change in changes:
        detail = change.get("ResourceChange", {})
        action = detail.get("Action", "?")
        replacement = detail.get("Replacement")
        note = " (replaced)" if replacement == "True" else " (may be replaced)" if replacement == "Conditional" else ""
        lines.append(f"{action:<7} {detail.get('LogicalResourceId', '?'):<34} {detail.get('ResourceType', '')}{note}")
    return lines


TERMINAL = ("_COMPLETE", "_FAILED")


def latest_event_time(cloudformation: Any, name: str) -> datetime | None:
    try:
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    except cloudformation.exceptions.ClientError:
        return None
    return max((event["Timestamp"] for event in events), default=None)


def follow(cloudformation: Any, name: str, after: datetime | None, console: Console) -> str:
    """Print the stack's new events until it settles; returns its final status."""
    seen: set[str] = set()
    waited = 0.0
    while True:
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        for event in sorted(events, key=lambda item: item["Timestamp"]):
            if event["EventId"] in seen or (after is not None and event["Timestamp"] <= after):
                continue
            seen.add(event["EventId"])
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            at = event["Timestamp"].strftime("%H:%M:%SZ")
            console.say(f"{at} {event['ResourceStatus']:<24} {event['LogicalResourceId']}{reason}")
        status: str = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status.endswith(TERMINAL) and not status.endswith("_IN_PROGRESS"):
            return status
        if waited >= WAIT_LIMIT_SECONDS:
            raise Refused(f"{name} still {status} after an hour: see the CloudFormation console")
        console.sleep(POLL_SECONDS)
        waited += POLL_SECONDS


def stack_exists(cloudformation: Any, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    # A first deploy that failed leaves REVIEW_IN_PROGRESS with no resources: create it again.
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def wait_for_change_set(cloudformation: Any, change_set_id: str) -> bool:
    """True when the change set is ready to execute; False when it holds no changes."""
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set_id, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except Exception:
        described = cloudformation.describe_change_set(ChangeSetName=change_set_id)
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cloudformation.delete_change_set(ChangeSetName=change_set_id)
            return False
        raise SystemExit(f"change set failed: {reason}") from None
    return True


def outputs(cloudformation: Any, name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {entry["OutputKey"]: entry["OutputValue"] for entry in stack.get("Outputs", [])}


def destroy(session: Any, stage: str, yes: bool = False, console: Console | None = None) -> str:
    """Delete the stack; the table is kept (DeletionPolicy Retain) and its name returned."""
    console = console or Console()
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    if not stack_exists(cloudformation, name):
        raise Refused(f"no such stack {name} in {session.region_name}; nothing to delete")
    if not yes:
        console.confirm(
            f"Delete stack {name} in {session.region_name}? Type the stage name ({stage}) to go on: ", stage
        )
    started = latest_event_time(cloudformation, name)
    stack_id = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cloudformation.delete_stack(StackName=name)
    status = follow(cloudformation, stack_id, started, console)  # by id: a deleted stack has no name
    if status != "DELETE_COMPLETE":
        raise Refused(f"{name} ended {status}: the events above say why")
    return stage_environment(stage)["TABLE_NAME"]


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    from chalicelib.cli.failures import missing_configuration, say_or_raise

    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    parser.add_argument("action", choices=["preflight", "deploy", "destroy"])
    parser.add_argument("--stage", choices=deployed_stages(), required=True)
    parser.add_argument("--out", default="out", help="where `make package` wrote <stage>/ (default out)")
    parser.add_argument("--bucket", help="artifacts bucket (default leadscore-artifacts-<account>-<region>)")
    parser.add_argument("--yes", action="store_true", help="do not ask before deploying or deleting")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session()
    try:
        missing = missing_configuration(session, region_how="give REGION=..., or ")
        if missing:
            raise Refused(missing)
        if args.action == "preflight":
            account = session.client("sts").get_caller_identity()["Account"]
            print(f"deploying {stack_name(args.stage)} to account {account} in {session.region_name}")
            return 0
        if args.action == "destroy":
            table = destroy(session, args.stage, args.yes, console)
            print(f"deleted stack {stack_name(args.stage)}; table {table} was kept with your data")
            return 0
        result = deploy(session, args.stage, Path(args.out) / args.stage, args.bucket, args.yes, console)
    except Refused as exc:
        print(f"{stack_name(args.stage)}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        return say_or_raise(exc, f"stage {args.stage}", stack_name(args.stage))
    width = max((len(key) for key in result), default=0)
    for key, value in sorted(result.items()):
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
