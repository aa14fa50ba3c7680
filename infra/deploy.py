"""`make deploy STAGE=prod` / `make destroy STAGE=prod`: the packaged template to CloudFormation.

Uses boto3 only (no AWS CLI or SAM CLI needed): uploads `out/<stage>/deployment.zip` and the
template to an artifacts bucket, then creates and executes a change set on stack
`leadscore-<stage>`, and prints the stack outputs (the webhook URLs to paste into each vendor).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.stages import deployed_stages, stage_environment

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


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


def deploy(session: Any, stage: str, package_dir: Path, bucket: str | None = None) -> dict[str, str]:
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
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "app", "Value": "leadscore"}, {"Key": "stage", "Value": stage}],
    )
    if not wait_for_change_set(cloudformation, change_set["Id"]):
        print(f"{name}: no changes to deploy")
        return outputs(cloudformation, name)
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    return outputs(cloudformation, name)


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


def destroy(session: Any, stage: str) -> str:
    """Delete the stack; the table is kept (DeletionPolicy Retain) and its name returned."""
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
    )
    return stage_environment(stage)["TABLE_NAME"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("--stage", choices=deployed_stages(), required=True)
    parser.add_argument("--out", default="out", help="where `make package` wrote <stage>/ (default out)")
    parser.add_argument("--bucket", help="artifacts bucket (default leadscore-artifacts-<account>-<region>)")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session()
    if session.region_name is None:
        print("set AWS_DEFAULT_REGION (or AWS_REGION / a profile region) first", file=sys.stderr)
        return 2
    if args.action == "destroy":
        table = destroy(session, args.stage)
        print(f"deleted stack {stack_name(args.stage)}; table {table} was kept with your data")
        return 0
    result = deploy(session, args.stage, Path(args.out) / args.stage, args.bucket)
    width = max((len(key) for key in result), default=0)
    for key, value in sorted(result.items()):
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
