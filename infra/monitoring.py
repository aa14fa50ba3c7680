"""The stack's alarms, their SNS topic and the CloudWatch dashboard, added to the packaged template
by infra/package.py. Generated rather than written out in resources.yaml because they follow the
functions (an errors and a throttles alarm each) and the metrics chalicelib/observability.py
emits, and the dashboard body is JSON inside the template.

Every alarm notifies the one topic, in alarm and when it recovers; an e-mail subscription is
made when the stack parameter AlarmEmail is set (confirm the e-mail AWS sends). Custom metrics
are read in the stage's namespace (parameter MetricsNamespace) with the dimensions `service` and
`stage`, as they are written.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.observability import SERVICE

TOPIC = "AlarmTopic"
FUNCTIONS = {  # the template's function resources, as infra/resources.yaml names them
    "APIHandler": "api",
    "Tasks": "task",
    "Upkeep": "upkeep",
    "CrmSync": "CRM sync",
}
API_STAGE = "api"  # .chalice/config.json api_gateway_stage
TASK_AGE_LIMIT_SECONDS = 15 * 60
API_5XX_RATE = 0.05


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _alarm(description: str, metric: dict[str, Any], threshold: float, **overrides: Any) -> dict[str, Any]:
    properties = {
        "AlarmName": _sub(f"leadscore-${{Stage}}-{overrides.pop('suffix')}"),
        "AlarmDescription": description,
        "AlarmActions": [{"Ref": TOPIC}],
        "OKActions": [{"Ref": TOPIC}],
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": threshold,
        "EvaluationPeriods": 1,
        "Period": 300,
        "Statistic": "Sum",
        "TreatMissingData": "notBreaching",
        **metric,
        **overrides,
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _dimensions(**values: Any) -> list[dict[str, Any]]:
    return [{"Name": name, "Value": value} for name, value in values.items()]


def _own(metric: str, **dimensions: Any) -> dict[str, Any]:
    """One of our EMF metrics, with the dimensions it is written with."""
    return {
        "Namespace": {"Ref": "MetricsNamespace"},
        "MetricName": metric,
        "Dimensions": _dimensions(service=SERVICE, stage={"Ref": "Stage"}, **dimensions),
    }


def _job_alarm(job: str, description: str, **schedule: Any) -> dict[str, Any]:
    """A scheduled run's problems (JobProblems above 0), alarm named `<job>-run`."""
    return _alarm(description, _own("JobProblems", job=job), 0, suffix=f"{job.replace('_', '-')}-run", **schedule)


def alarms() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {
        "DeadLetterQueueAlarm": _alarm(
            "A task was dead-lettered: `leadscore dlq list` shows why; fix, then `dlq redrive`.",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": _dimensions(QueueName={"Fn::GetAtt": ["TaskDeadLetterQueue", "QueueName"]}),
            },
            0,
            suffix="dead-letters",
            Statistic="Maximum",
        ),
        "TaskBacklogAlarm": _alarm(
            "The oldest task waits over 15 minutes: a CRM (or NOTIFY_URL) refuses, limits or is down.",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": _dimensions(QueueName={"Fn::GetAtt": ["TaskQueue", "QueueName"]}),
            },
            TASK_AGE_LIMIT_SECONDS,
            suffix="task-backlog",
            Statistic="Maximum",
        ),
        "Api5xxAlarm": _alarm(
            "Over 5% of API requests answered 5xx for 10 minutes (503: storage or a secret unavailable).",
            {
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": _dimensions(ApiName=_sub("leadscore-${Stage}"), Stage=API_STAGE),
            },
            API_5XX_RATE,
            suffix="api-5xx",
            Statistic="Average",
            EvaluationPeriods=2,
            DatapointsToAlarm=2,
        ),
        "UpkeepRunAlarm": _job_alarm(
            "upkeep",
            "An upkeep run (decay, rules sweep, outbox sweep) failed or stopped before it finished (it goes on "
            "next run; see its log).",
            Statistic="Maximum",
            Period=3600,
        ),
        "TierInflationAlarm": _alarm(
            "Tier inflation: this month more leads reached MQL while fewer MQLs converted (GET /reports/health; "
            "look at what earns points, and try a stricter version as a shadow).",
            _own("TierInflation"),
            0,
            suffix="tier-inflation",
            Statistic="Maximum",
            Period=86400,
        ),
        "CrmSyncRunAlarm": _job_alarm(
            "crm_sync",
            "For an hour, every CRM sync or import run failed or stopped early (quota, time, the CRM).",
            Statistic="Minimum",
            Period=900,
            EvaluationPeriods=4,
            DatapointsToAlarm=4,
        ),
    }
    for resource, label in FUNCTIONS.items():
        for metric in ("Errors", "Throttles"):
            found[f"{resource}{metric}Alarm"] = _alarm(
                f"The {label} function: {metric.lower()} in the last 5 minutes.",
                {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": _dimensions(FunctionName={"Ref": resource}),
                },
                0,
                suffix=f"{resource.lower()}-{metric.lower()}",
            )
    return found


def _search(metric: str, dimensions: str, stat: str) -> dict[str, Any]:
    expression = (
        f"SEARCH('{{${{MetricsNamespace}},service,stage,{dimensions}}} "
        f'stage="${{Stage}}" MetricName="{metric}"\', \'{stat}\', 300)'
    )
    return {"expression": expression}


def _widget(title: str, metrics: list[Any], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "metrics": metrics,
            "stat": stat,
            "period": 300,
            "view": "timeSeries",
        },
    }


def dashboard_body() -> str:
    """The dashboard's JSON, with ${...} left for Fn::Sub (region, stage, namespace, queues)."""
    widgets = [
        _widget("Events by source and outcome", [[_search("Events", "source,result", "Sum")]], 0, 0),
        _widget("Events not scored, by reason", [[_search("EventsNotScored", "source,reason", "Sum")]], 12, 0),
        _widget("Write-back results per CRM", [[_search("WritebackResults", "crm,status", "Sum")]], 0, 6),
        _widget(
            "CRM latency p50 / p99 (ms)",
            [[_search("CrmLatency", "crm", "p50")], [_search("CrmLatency", "crm", "p99")]],
            12,
            6,
            stat="p99",
        ),
        _widget(
            "Task queue: dead letters, oldest task (s)",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${TaskDeadLetterQueue.QueueName}"],
                ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${TaskQueue.QueueName}"],
            ],
            0,
            12,
            stat="Maximum",
        ),
        _widget(
            "Upkeep and CRM sync runs (due, changed, problems)",
            [[_search(name, "job", "Sum")] for name in ("JobDue", "JobChanged", "JobRequeued", "JobProblems")],
            12,
            12,
        ),
        _widget("Tier changes, by the tier entered", [[_search("TierChanges", "tier", "Sum")]], 0, 18),
        _widget(
            "Lambda errors and throttles",
            [
                ["AWS/Lambda", metric, "FunctionName", f"${{{resource}}}"]
                for resource in FUNCTIONS
                for metric in ("Errors", "Throttles")
            ],
            12,
            18,
        ),
    ]
    for widget in widgets:  # a metric math entry needs an id, unique in its widget
        for number, row in enumerate(widget["properties"]["metrics"]):
            if isinstance(row[0], dict):
                row[0]["id"] = f"e{number}"
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {
        TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": _sub("leadscore-${Stage}-alarms")},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": _sub("leadscore-${Stage}"), "DashboardBody": _sub(dashboard_body())},
        },
    }
    found.update(alarms())
    return found
