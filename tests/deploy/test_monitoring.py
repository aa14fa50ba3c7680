"""Alarms, their topic, the dashboard, tracing, throttling and a custom domain, in the template the
real `chalice package` makes. moto's CloudFormation cannot create alarms or dashboards, so each
alarm and the dashboard are resolved as CloudFormation would and sent to moto's CloudWatch
through boto3, and the custom metrics they read are checked against what the code emits."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from chalicelib import observability
from infra.monitoring import FUNCTIONS, TOPIC
from infra.package import build
from infra.stages import deployed_stages, stage_config, stage_environment, stage_operations
from tests.deploy.test_template import resources, template

STAGES = list(deployed_stages())
ROOT = Path(__file__).resolve().parents[2]


class Resolved:
    """CloudFormation's intrinsic functions over one packaged template, with made-up physical ids."""

    def __init__(self, found: dict[str, Any], stage: str) -> None:
        self.template = found
        self.values = {name: spec["Default"] for name, spec in found["Parameters"].items()}
        self.values |= {"Stage": stage, "AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com"}

    def attribute(self, resource: str, name: str) -> str:
        properties = self.template["Resources"][resource]["Properties"]
        assert name == "QueueName", name
        return str(self(properties["QueueName"]))

    def ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        assert name in self.template["Resources"], f"Ref to a missing resource {name}"
        properties = self.template["Resources"][name].get("Properties", {})
        return self(properties["FunctionName"]) if "FunctionName" in properties else f"physical-{name}"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            return self.attribute(*value["Fn::GetAtt"])
        if set(value) == {"Fn::Sub"}:

            def variable(match: re.Match[str]) -> str:
                name = match.group(1)
                if "." in name:
                    return self.attribute(*name.split(".", 1))
                return str(self.ref(name))

            return re.sub(r"\$\{([^}]+)\}", variable, value["Fn::Sub"])
        return {key: self(item) for key, item in value.items()}


def alarms(packages: dict[str, Path], stage: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in resources(packages, stage).items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def emitted(capsys: pytest.CaptureFixture[str], emit: Any, monkeypatch: pytest.MonkeyPatch, stage: str) -> list[Any]:
    """The EMF documents the code writes for `emit()`, with the stage's environment."""
    for name in ("POWERTOOLS_METRICS_NAMESPACE", "LEADSCORE_STAGE"):
        monkeypatch.setenv(name, stage_environment(stage)[name])
    capsys.readouterr()
    emit()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


@pytest.mark.parametrize("stage", STAGES)
def test_every_alarm_exists_and_notifies_the_one_topic(packages: dict[str, Path], stage: str) -> None:
    found = alarms(packages, stage)
    expected = {"DeadLetterQueueAlarm", "TaskBacklogAlarm", "Api5xxAlarm", "UpkeepRunAlarm", "CrmSyncRunAlarm",
                "TierInflationAlarm"}  # fmt: skip
    expected |= {f"{function}{metric}Alarm" for function in FUNCTIONS for metric in ("Errors", "Throttles")}
    assert set(found) == expected
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": TOPIC}], name
    all_resources = resources(packages, stage)
    assert all_resources[TOPIC]["Type"] == "AWS::SNS::Topic"
    subscription = all_resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": TOPIC},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    # Every function of the template (Chalice's) has its errors and throttles alarm.
    functions = {name for name, r in all_resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(FUNCTIONS)


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_watch_the_stacks_own_queues_functions_and_api(packages: dict[str, Path], stage: str) -> None:
    resolve = Resolved(template(packages, stage), stage)
    found = {name: resolve(alarm) for name, alarm in alarms(packages, stage).items()}
    env = stage_environment(stage)

    def dimensions(name: str) -> dict[str, str]:
        return {entry["Name"]: entry["Value"] for entry in found[name]["Dimensions"]}

    assert dimensions("DeadLetterQueueAlarm") == {"QueueName": env["TASK_DLQ"]}
    assert found["DeadLetterQueueAlarm"]["Threshold"] == 0  # one message is one too many
    assert dimensions("TaskBacklogAlarm") == {"QueueName": env["TASK_QUEUE"]}
    assert found["TaskBacklogAlarm"]["Threshold"] == 900
    assert dimensions("Api5xxAlarm") == {"ApiName": f"leadscore-{stage}", "Stage": "api"}
    assert resolve(resources(packages, stage)["RestAPI"]["Properties"]["Name"]) == f"leadscore-{stage}"
    assert dimensions("TasksErrorsAlarm") == {"FunctionName": f"leadscore-{stage}-tasks"}
    assert dimensions("CrmSyncThrottlesAlarm") == {"FunctionName": f"leadscore-{stage}-crm-sync"}


@pytest.mark.parametrize("stage", STAGES)
def test_job_alarms_read_exactly_the_metrics_the_runs_write(
    packages: dict[str, Path], stage: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve = Resolved(template(packages, stage), stage)
    found = {name: resolve(alarm) for name, alarm in alarms(packages, stage).items()}
    for alarm_name, job in (("UpkeepRunAlarm", "upkeep"), ("CrmSyncRunAlarm", "crm_sync")):
        (document,) = emitted(capsys, lambda job=job: observability.job_run(job, {}, problem=True), monkeypatch, stage)
        directive = document["_aws"]["CloudWatchMetrics"][0]
        alarm = found[alarm_name]
        assert alarm["Namespace"] == directive["Namespace"] == env_namespace(stage)
        assert alarm["MetricName"] == directive["Metrics"][0]["Name"] == "JobProblems"
        assert {entry["Name"]: entry["Value"] for entry in alarm["Dimensions"]} == {
            name: document[name] for name in directive["Dimensions"][0]
        }
        assert document["stage"] == stage and document["JobProblems"] == [1.0]


def env_namespace(stage: str) -> str:
    return stage_environment(stage)["POWERTOOLS_METRICS_NAMESPACE"]


def test_each_stage_writes_metrics_to_its_own_namespace() -> None:
    namespaces = [env_namespace(stage) for stage in STAGES]
    assert len(set(namespaces)) == len(namespaces)
    assert all(stage_environment(stage)["LEADSCORE_STAGE"] == stage for stage in STAGES)


def test_alarms_and_dashboard_are_valid_cloudwatch_requests(packages: dict[str, Path], aws: Any) -> None:
    """What CloudFormation would send, sent to moto's CloudWatch through boto3."""
    cloudwatch = boto3.client("cloudwatch")
    stage = "prod"
    resolve = Resolved(template(packages, stage), stage)
    for alarm in alarms(packages, stage).values():
        cloudwatch.put_metric_alarm(**resolve(alarm))
    names = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert len(names) == len(alarms(packages, stage)) and all(name.startswith("leadscore-prod-") for name in names)

    dashboard = resolve(resources(packages, stage)["Dashboard"]["Properties"])
    cloudwatch.put_dashboard(**dashboard)
    body = json.loads(cloudwatch.get_dashboard(DashboardName="leadscore-prod")["DashboardBody"])
    titles = [widget["properties"]["title"] for widget in body["widgets"]]
    for wanted in ("Events by source", "not scored", "Write-back results", "CRM latency", "dead letters",
                   "Upkeep", "Tier changes"):  # fmt: skip
        assert any(wanted in title for title in titles), wanted


def test_the_dashboard_searches_the_metrics_the_code_emits(
    packages: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = "dev"
    body = json.loads(
        Resolved(template(packages, stage), stage)(
            resources(packages, stage)["Dashboard"]["Properties"]["DashboardBody"]
        )
    )
    searches = [
        row[0]["expression"]
        for widget in body["widgets"]
        for row in widget["properties"]["metrics"]
        if isinstance(row[0], dict)
    ]

    def emit_everything() -> None:
        observability.count_events("hubspot", "accepted", 2)
        observability.count_not_scored("segment", {"crawler": 1})
        observability.count_writebacks({("hubspot", "written"): 3})
        observability.crm_latency("hubspot", 12.5)
        observability.job_run("upkeep", {"due": 4, "changed": 1, "requeued": 1}, problem=False)
        observability.count_tier_changes({"A": 1})

    documents = emitted(capsys, emit_everything, monkeypatch, stage)
    written = set()
    for document in documents:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        schema = ",".join([directive["Namespace"], *directive["Dimensions"][0]])
        written |= {(schema, metric["Name"]) for metric in directive["Metrics"]}
        assert "@" not in json.dumps(document)
    parsed = set()
    for expression in searches:
        match = re.fullmatch(r"SEARCH\('\{([^}]+)\} stage=\"(\w+)\" MetricName=\"(\w+)\"', '\w+', 300\)", expression)
        assert match, expression
        assert match.group(2) == stage
        parsed.add((match.group(1), match.group(3)))
    assert parsed == written


@pytest.mark.parametrize("stage", STAGES)
def test_throttling_tracing_and_namespace_follow_the_stage_config(packages: dict[str, Path], stage: str) -> None:
    found = template(packages, stage)
    defaults = {name: spec["Default"] for name, spec in found["Parameters"].items()}
    operations = stage_operations(stage)
    assert defaults["ThrottleRateLimit"] == operations["throttle_rate_limit"]
    assert defaults["ThrottleBurstLimit"] == operations["throttle_burst_limit"]
    assert defaults["MetricsNamespace"] == env_namespace(stage)
    assert defaults["Tracing"] == ("true" if stage_config(stage)["xray"] else "false")
    api = found["Resources"]["RestAPI"]["Properties"]
    assert api["MethodSettings"] == [{
        "ResourcePath": "/*", "HttpMethod": "*",
        "ThrottlingRateLimit": {"Ref": "ThrottleRateLimit"}, "ThrottlingBurstLimit": {"Ref": "ThrottleBurstLimit"},
    }]  # fmt: skip
    assert api["TracingEnabled"] == {"Fn::If": ["TracingOn", True, False]}
    assert api["EndpointConfiguration"] == "REGIONAL"


def test_a_new_stage_with_tracing_and_a_custom_domain_packages_and_lints(tmp_path: Path) -> None:
    """A stage that is neither dev nor prod, opting in to X-Ray and Chalice's custom domain."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("app.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    config = json.loads((project / ".chalice" / "config.json").read_text())
    staging = json.loads(json.dumps(config["stages"]["dev"]).replace("leadscore-dev", "leadscore-staging"))
    staging["xray"] = True
    staging["api_gateway_custom_domain"] = {
        "domain_name": "leads.example.com",
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
        "tls_version": "TLS_1_2",
    }
    config["stages"]["staging"] = staging
    (project / ".chalice" / "config.json").write_text(json.dumps(config))
    shutil.copy(project / ".chalice" / "policy-dev.json", project / ".chalice" / "policy-staging.json")

    build("staging", tmp_path / "out", project)

    sam = tmp_path / "out" / "sam.yaml"
    found = yaml.safe_load(sam.read_text())
    domain = found["Resources"]["ApiGatewayCustomDomain"]["Properties"]
    assert domain["DomainName"] == "leads.example.com"
    assert domain["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["RegionalCertificateArn"].startswith("arn:aws:acm:")
    assert found["Resources"]["ApiGatewayCustomDomainMapping"]["Properties"]["RestApiId"] == {"Ref": "RestAPI"}
    target = found["Outputs"]["CustomDomainTarget"]["Value"]
    assert target == {"Fn::GetAtt": ["ApiGatewayCustomDomain", "RegionalDomainName"]}
    for function in FUNCTIONS:
        assert found["Resources"][function]["Properties"]["Tracing"] == "Active", function
    assert found["Parameters"]["Tracing"]["Default"] == "true"
    assert found["Parameters"]["Stage"]["Default"] == "staging"
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(sam)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("stage", STAGES)
def test_the_tier_inflation_alarm_reads_the_metric_the_daily_health_check_writes(
    packages: dict[str, Path], stage: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve = Resolved(template(packages, stage), stage)
    alarm = resolve(alarms(packages, stage)["TierInflationAlarm"])
    (document,) = emitted(capsys, lambda: observability.tier_inflation(True), monkeypatch, stage)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert alarm["Namespace"] == directive["Namespace"] == env_namespace(stage)
    assert alarm["MetricName"] == directive["Metrics"][0]["Name"] == "TierInflation"
    assert {entry["Name"]: entry["Value"] for entry in alarm["Dimensions"]} == {
        name: document[name] for name in directive["Dimensions"][0]
    }
    assert document["TierInflation"] == [1.0] and alarm["Threshold"] == 0 and alarm["Period"] == 86400
