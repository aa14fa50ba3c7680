"""Every AWS call the service's own code makes during the test run, as IAM would see it.

Registered on boto3's default session by the `aws` fixture (botocore's before-parameter-build
hook sees the real API parameters). A call counts when the service's code (app.py, chalicelib/)
is on the stack; calls made by tests, by the local runner, by the operator's CLI (chalicelib/cli/,
run with the operator's credentials) or by the provisioning helpers that CloudFormation replaces
in AWS (create_table, create_queues) are not the Lambda role's business.

At the end of the run tests/conftest.py checks them against each deployed stage's policy, with the
test resource names swapped for the stage's (from .chalice/config.json).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from infra.iam import IamRequest, iam_requests, parameter_arn, queue_arn, table_arn
from infra.stages import ROOT, stage_environment

SERVICE_CODE = (str(ROOT / "chalicelib") + "/", str(ROOT / "app.py"))
PROVISIONING = {("schema.py", "create_table"), ("queue.py", "create_queues")}
OPERATOR_CODE = str(ROOT / "chalicelib" / "cli") + "/"
# What Lambda itself does with the functions' role: the SQS event source polls and deletes, and
# the runtime writes logs. The code never makes these calls, so no test can record them.
PLATFORM_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",  # with the stage's `xray` on, the runtime sends the traces
    "xray:PutTelemetryRecords",
}


class AwsCallRecorder:
    def __init__(self) -> None:
        self.requests: set[IamRequest] = set()
        self.calls: set[str] = set()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not _called_by_service_code():
            return
        service = model.service_model.endpoint_prefix
        self.calls.add(f"{service}:{model.name}")
        self.requests.update(iam_requests(service, model.name, params))


def _called_by_service_code() -> bool:
    frame = sys._getframe(2)
    service_code = False
    while frame is not None:
        filename = frame.f_code.co_filename
        if (Path(filename).name, frame.f_code.co_name) in PROVISIONING and filename.startswith(SERVICE_CODE[0]):
            return False
        if filename.startswith(OPERATOR_CODE):
            return False
        if filename.startswith(SERVICE_CODE[0]) or filename == SERVICE_CODE[1]:
            service_code = True
        frame = frame.f_back
    return service_code


RECORDER = AwsCallRecorder()


def as_deployed(request: IamRequest, stage: str, test_names: dict[str, str], ssm_prefix: str) -> IamRequest:
    """The same request against the stage's resources: test table/queues/parameters renamed."""
    env = stage_environment(stage)
    resource = request.resource
    table_prefix = table_arn(test_names["TABLE_NAME"])
    if resource == table_prefix or resource.startswith(table_prefix + "/"):
        resource = table_arn(env["TABLE_NAME"]) + resource.removeprefix(table_prefix)
    for variable in ("TASK_QUEUE", "TASK_DLQ"):
        if resource == queue_arn(test_names[variable]):
            resource = queue_arn(env[variable])
    test_parameters = parameter_arn(ssm_prefix)
    if resource.startswith(test_parameters):
        resource = parameter_arn(f"/leadscore/{stage}/") + resource.removeprefix(test_parameters)
    return IamRequest(request.action, resource)
