"""The deployment artefacts, built by the real `chalice package --merge-template`, then linted,
transformed as AWS's SAM transform does, and deployed to moto's CloudFormation by infra.deploy."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from chalicelib.storage.schema import TABLE_DEFINITION, TTL_ATTRIBUTE
from chalicelib.task_queue import MAX_RECEIVES
from infra.bundle import FORBIDDEN, LIMIT_BYTES, inspect_bundle
from infra.deploy import Console, Refused, deploy, destroy, point_code_at
from infra.iam import parameter_arn, queue_arn, table_arn, wildcard_match
from infra.package import add_bytecode
from infra.stages import deployed_stages, stage_environment, stage_policy

STAGES = list(deployed_stages())
SOURCES = {
    "HubSpotWebhookUrl": "/webhooks/hubspot",
    "SalesforceOutboundMessageUrl": "/webhooks/salesforce",
    "TypeformWebhookUrl": "/webhooks/forms/typeform",
    "TallyWebhookUrl": "/webhooks/forms/tally",
    "WebflowWebhookUrl": "/webhooks/forms/webflow",
    "GenericFormWebhookUrl": "/webhooks/forms/generic",
}


def template(packages: dict[str, Path], stage: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((packages[stage] / "sam.yaml").read_text())
    return loaded


def resources(packages: dict[str, Path], stage: str) -> dict[str, Any]:
    found: dict[str, Any] = template(packages, stage)["Resources"]
    return found


def sub(value: Any, stage: str) -> str:
    """Our own resources' names are Fn::Sub over Stage only."""
    assert isinstance(value, dict) and set(value) == {"Fn::Sub"}, value
    text: str = value["Fn::Sub"]
    return text.replace("${Stage}", stage)


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_passes(packages: dict[str, Path], stage: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(packages[stage] / "sam.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stage", STAGES)
def test_table_is_the_schema_with_ttl_pitr_and_on_demand(packages: dict[str, Path], stage: str) -> None:
    table = resources(packages, stage)["LeadsTable"]
    properties = table["Properties"]

    assert sub(properties["TableName"], stage) == stage_environment(stage)["TABLE_NAME"]
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        assert properties[key] == TABLE_DEFINITION[key], key
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("stage", STAGES)
def test_queue_has_a_dead_letter_queue_and_outlives_the_consumer(packages: dict[str, Path], stage: str) -> None:
    found = resources(packages, stage)
    env = stage_environment(stage)
    queue = found["TaskQueue"]["Properties"]
    consumer = found["Tasks"]["Properties"]
    event = consumer["Events"]["TasksSqsEventSource"]

    assert sub(queue["QueueName"], stage) == env["TASK_QUEUE"]
    assert sub(found["TaskDeadLetterQueue"]["Properties"]["QueueName"], stage) == env["TASK_DLQ"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["TaskDeadLetterQueue", "Arn"]},
        "maxReceiveCount": MAX_RECEIVES,
    }
    window = event["Properties"]["MaximumBatchingWindowInSeconds"]
    assert queue["VisibilityTimeout"] >= 6 * consumer["Timeout"] + window
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(":" + env["TASK_QUEUE"])
    assert found["Tasks"]["DependsOn"] == "TaskQueue"


@pytest.mark.parametrize("stage", STAGES)
def test_functions_have_memory_timeouts_and_the_crm_consumer_is_capped(packages: dict[str, Path], stage: str) -> None:
    found = resources(packages, stage)
    for name in ("APIHandler", "Tasks", "Upkeep"):
        properties = found[name]["Properties"]
        assert properties["MemorySize"] >= 256 and properties["Timeout"] > 0, name
    assert found["APIHandler"]["Properties"]["Timeout"] <= 29  # API Gateway gives up at 29 s
    tasks = found["Tasks"]["Properties"]
    assert tasks["ReservedConcurrentExecutions"] == 2
    assert tasks["Events"]["TasksSqsEventSource"]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert found["Upkeep"]["Properties"]["ReservedConcurrentExecutions"] == 1  # runs never overlap


@pytest.mark.parametrize("stage", STAGES)
def test_json_bodies_reach_lambda_byte_for_byte(packages: dict[str, Path], stage: str) -> None:
    """A gzip-compressed JSON body (RudderStack's SDKs) survives API Gateway only as a binary media
    type; Chalice's own binary types stay the default, so no JSON reply is base64-encoded."""
    api = resources(packages, stage)["RestAPI"]["Properties"]["DefinitionBody"]
    assert {"application/json", "text/plain"} <= set(api["x-amazon-apigateway-binary-media-types"])
    from app import app

    assert "application/json" not in app.api.binary_types


@pytest.mark.parametrize("stage", STAGES)
def test_outputs_give_every_vendor_its_url(packages: dict[str, Path], stage: str) -> None:
    outputs = template(packages, stage)["Outputs"]
    for output, path in SOURCES.items():
        assert outputs[output]["Value"]["Fn::Sub"].endswith("/api" + path), output
    assert outputs["TrackingApiHost"]["Value"]["Fn::Sub"].endswith("/api")


@pytest.mark.parametrize("stage", STAGES)
def test_policy_names_only_this_stacks_resources(packages: dict[str, Path], stage: str) -> None:
    """Every Resource in the hand-written policy is one of this template's resources (or the
    stage's SSM secrets path), so a dev role can never touch prod data."""
    found = resources(packages, stage)
    table = sub(found["LeadsTable"]["Properties"]["TableName"], stage)
    indexes = [index["IndexName"] for index in found["LeadsTable"]["Properties"]["GlobalSecondaryIndexes"]]
    own = [table_arn(table)] + [table_arn(table, index) for index in indexes]
    own += [
        queue_arn(sub(found[name]["Properties"]["QueueName"], stage)) for name in ("TaskQueue", "TaskDeadLetterQueue")
    ]
    log_groups = [
        sub(found[name]["Properties"]["LogGroupName"], stage)
        for name in ("ApiHandlerLogs", "TasksLogs", "UpkeepLogs", "CrmSyncLogs")
    ]
    own += [f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:log-stream:x" for group in log_groups]
    own.append(parameter_arn(f"/leadscore/{stage}/ADMIN_API_KEY"))
    for statement in stage_policy(stage)["Statement"]:
        if statement["Resource"] == ["*"]:  # X-Ray's actions take no resource; nothing else may
            assert all(action.startswith("xray:Put") for action in statement["Action"]), statement["Sid"]
            continue
        for resource in statement["Resource"]:
            assert any(wildcard_match(resource, arn) for arn in own), f"{statement['Sid']}: {resource}"
            other = "prod" if stage == "dev" else "dev"
            assert other not in resource, resource

    roles = [resource for resource in found.values() if resource["Type"] == "AWS::IAM::Role"]
    assert roles and all(role["Properties"]["Policies"][0]["PolicyDocument"] == stage_policy(stage) for role in roles)


@pytest.mark.parametrize("stage", STAGES)
def test_bundle_is_small_and_holds_no_offline_dependency(packages: dict[str, Path], stage: str) -> None:
    report = inspect_bundle(packages[stage] / "deployment.zip")
    print(f"{stage} Lambda bundle: {report.zipped_bytes / 1024 / 1024:.2f} MiB")
    assert report.zipped_bytes <= LIMIT_BYTES
    assert not report.forbidden
    names = {name for name, _ in report.by_package}
    assert {"app", "chalicelib", "pydantic", "yaml", "aws_lambda_powertools"} <= names
    assert not names & FORBIDDEN


def transformed(packages: dict[str, Path], stage: str, into: Path) -> Path:
    """What AWS's SAM transform makes of the template, written as a package moto can deploy.

    moto's CloudFormation cannot import an API from a Swagger body, so the API Gateway resources
    (checked by cfn-lint and the transform above) are left out of this deployment."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    sam = point_code_at(template(packages, stage), "artifacts", "deployment.zip")  # deploy re-points it
    cloudformation = transform(sam, {"Stage": stage}, NoManagedPolicies())
    cloudformation.pop("Transform", None)
    cloudformation["Resources"] = {
        name: resource
        for name, resource in cloudformation["Resources"].items()
        if not resource["Type"].startswith("AWS::ApiGateway") and name != "APIHandlerInvokePermission"
    }
    cloudformation["Outputs"] = {
        name: output for name, output in cloudformation["Outputs"].items() if "RestAPI" not in json.dumps(output)
    }
    into.mkdir()
    (into / "sam.json").write_text(json.dumps(cloudformation))
    shutil.copy(packages[stage] / "deployment.zip", into / "deployment.zip")
    return into


def test_make_deploy_creates_the_stack_and_make_destroy_keeps_the_data(
    packages: dict[str, Path], tmp_path: Path, operator: Any
) -> None:
    package = transformed(packages, "prod", tmp_path / "prod")
    session = operator
    said = io.StringIO()
    console = Console(answer=lambda question: "y", out=said, sleep=lambda seconds: None, interactive=True)
    outputs = deploy(session, "prod", package, console=console)
    progress = said.getvalue()
    assert "leadscore-prod (us-east-1): create with" in progress
    assert re.search(r"Add\s+LeadsTable\s+AWS::DynamoDB::Table", progress)  # the change set, before it ran
    assert re.search(r"\d\d:\d\d:\d\dZ CREATE_COMPLETE\s+leadscore-prod", progress)  # events as it worked

    # (moto's change sets leave stack outputs empty; the template's outputs are checked above.)
    table = session.client("dynamodb").describe_table(TableName="leadscore-prod")["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "by_tier",
        "due",
        "sync",
        "by_company",
        "feed",
        "moved",
        "by_account",
    }
    sqs = session.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="leadscore-prod-tasks")["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
    )
    assert redrive["deadLetterTargetArn"].endswith(":leadscore-prod-tasks-dlq")
    lambda_ = session.client("lambda")
    (mapping,) = lambda_.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["FunctionArn"].endswith(":function:leadscore-prod-tasks")
    assert mapping["EventSourceArn"].endswith(":leadscore-prod-tasks")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    api = lambda_.get_function(FunctionName="leadscore-prod-api")["Configuration"]
    assert api["Environment"]["Variables"]["TABLE_NAME"] == "leadscore-prod"
    assert lambda_.get_function_concurrency(FunctionName="leadscore-prod-tasks")["ReservedConcurrentExecutions"] == 2

    assert deploy(session, "prod", package, console=console) == outputs  # unchanged: an empty change set

    typed = Console(answer=lambda question: "dev", out=said, sleep=lambda seconds: None, interactive=True)
    with pytest.raises(Refused, match="not confirmed"):
        destroy(session, "prod", console=typed)  # the wrong stage name typed: nothing deleted
    assert session.client("lambda").list_functions()["Functions"]
    typed = Console(answer=lambda question: "prod", out=said, sleep=lambda seconds: None, interactive=True)
    assert destroy(session, "prod", console=typed) == "leadscore-prod"
    assert session.client("dynamodb").describe_table(TableName="leadscore-prod")["Table"]["TableName"]
    assert not session.client("lambda").list_functions()["Functions"]


def test_the_bundle_carries_bytecode_lambda_can_use_from_a_read_only_directory(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    """Lambda's /var/task is read-only: without .pyc in the zip every cold start compiles again."""
    tag = sys.implementation.cache_tag  # e.g. cpython-311, the runtime Chalice chose from this Python
    with zipfile.ZipFile(packages["prod"] / "deployment.zip") as bundle:
        names = set(bundle.namelist())
        for name in (n for n in names if n.endswith(".py")):
            folder, _, module = name.rpartition("/")
            cached = f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc".lstrip("/")
            assert cached in names, name
            flags = int.from_bytes(bundle.read(cached)[4:8], "little")
            assert flags == 0b01, cached  # hash-based, unchecked: valid whatever the unpacked mtimes
        bundle.extractall(tmp_path / "task")
    os.chmod(tmp_path / "task", 0o555)
    probe = (
        "import app, chalicelib.entrypoints.http, chalicelib.entrypoints.sqs, chalicelib.entrypoints.schedule, "
        "requests; print(app.app.app_name)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "task"), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
    os.chmod(tmp_path / "task", 0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "leadscore"


def test_bytecode_left_in_the_working_tree_is_replaced_not_shipped(tmp_path: Path) -> None:
    """Chalice zips chalicelib/ as it finds it: a developer's timestamp-checked .pyc would go stale
    once unpacked (and Lambda cannot rewrite it), so the bundle carries only the ones we compile."""
    tag = sys.implementation.cache_tag
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as made:
        made.writestr("chalicelib/mod.py", "VALUE = 2\n")
        made.writestr(f"chalicelib/__pycache__/mod.{tag}.pyc", b"stale bytecode of an older mod.py")
    assert add_bytecode(bundle) == 1
    with zipfile.ZipFile(bundle) as shipped:
        assert sorted(shipped.namelist()) == ["chalicelib/__pycache__/mod." + tag + ".pyc", "chalicelib/mod.py"]
        assert shipped.read("chalicelib/mod.py") == b"VALUE = 2\n"
        assert int.from_bytes(shipped.read(f"chalicelib/__pycache__/mod.{tag}.pyc")[4:8], "little") == 0b01


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.session.Session()


def test_declining_the_change_set_deploys_nothing(packages: dict[str, Path], tmp_path: Path, operator: Any) -> None:
    package = transformed(packages, "dev", tmp_path / "dev")
    said = io.StringIO()
    asked: list[str] = []
    console = Console(answer=lambda question: asked.append(question) or "n", out=said, interactive=True)
    with pytest.raises(Refused, match="nothing was changed"):
        deploy(operator, "dev", package, console=console)
    assert asked == ["Deploy these changes to leadscore-dev? [y/N] "]
    assert "Add     TaskQueue" in said.getvalue()
    assert not operator.client("lambda").list_functions()["Functions"]
    with pytest.raises(Refused, match="no terminal"):  # in CI, without --yes, it never just goes ahead
        deploy(operator, "dev", package, console=Console(out=said, interactive=False))


def test_destroying_a_stack_that_never_existed_says_no_such_stack(operator: Any, capsys: Any) -> None:
    from infra.deploy import main

    assert main(["destroy", "--stage", "prod", "--yes"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "leadscore-prod: no such stack leadscore-prod in us-east-1; nothing to delete"
    )


def test_no_credentials_is_one_line_before_anything_is_packaged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    from infra.deploy import main

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert main(["preflight", "--stage", "dev"]) == 1
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "leadscore-dev: no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )


def test_make_secrets_without_credentials_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from infra import secrets

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert secrets.main(["--stage", "dev"]) == 2
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert line.startswith("make secrets: ") and "credentials" in line
