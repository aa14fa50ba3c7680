"""Shared fixtures: an AWS account in moto (reached through boto3, as production does), the app
with test secrets, and a guard that no log line of the whole run carries an email or a secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import bootstrap
from infra.iam import denied, granted_actions
from infra.stages import deployed_stages, stage_policy
from tests.aws_calls import PLATFORM_ACTIONS, RECORDER, as_deployed

SECRETS = {
    "HUBSPOT_CLIENT_SECRET": "hs-client-secret-0123456789",
    "SALESFORCE_WEBHOOK_TOKEN": "sf-token-0123456789",
    "SALESFORCE_ORG_ID": "00D5g000004abcdEAA",
    "TYPEFORM_SECRET": "typeform-secret-0123456789",
    "TALLY_SECRET": "tally-secret-0123456789",
    "WEBFLOW_SECRET": "webflow-secret-0123456789",
    "FORMS_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "CALENDLY_SIGNING_KEY": "calendly-signing-key-0123456789",
    "CALCOM_SECRET": "calcom-secret-0123456789",
    "PIPEDRIVE_WEBHOOK_USER": "leadscore-pipedrive",
    "PIPEDRIVE_WEBHOOK_PASSWORD": "pipedrive-password-0123456789",
    "EVENTS_WRITE_KEY": "write-key-0123456789",
    "ADMIN_API_KEY": "admin-key-0123456789",
    "VIEWER_API_KEY": "viewer-key-0123456789",
}
TABLE = "leadscore-test"
QUEUE = "leadscore-tasks"
DEAD_LETTER_QUEUE = "leadscore-tasks-dlq"
TEST_RESOURCES = {"TABLE_NAME": TABLE, "TASK_QUEUE": QUEUE, "TASK_DLQ": DEAD_LETTER_QUEUE}
SSM_PREFIX = "/leadscore/test/"  # secrets tests put in SSM live here; the stages use /leadscore/<stage>/
_LOG = io.StringIO()
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture(scope="session", autouse=True)
def _capture_service_logs() -> Iterator[None]:
    """Every structured log line of the run goes through here too (see test_logs_carry_no_personal_data)."""
    from chalicelib.observability import logger

    handler = logging.StreamHandler(_LOG)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    yield
    logger._logger.removeHandler(handler)


def captured_logs() -> str:
    return _LOG.getvalue()


def leaked(text: str) -> list[str]:
    """Emails and configured secrets found in `text`."""
    found = [match for match in _EMAIL.findall(text)]
    found += [name for name, value in SECRETS.items() if value in text]
    return found


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh moto account with the table, the app's environment, and a DynamoDB call counter."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        **SECRETS,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    for name in (
        "PUBLIC_BASE_URL",
        "NOTIFY_URL",
        "NOTIFY_ROUTES",
        "NOTIFY_FORMAT",
        "SALESFORCE_INSTANCE_URL",
        "SALESFORCE_ACCESS_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    from chalicelib.storage.schema import create_table
    from chalicelib.task_queue import create_queues

    with mock_aws():
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), TABLE)
        create_queues(boto3.client("sqs"), QUEUE, DEAD_LETTER_QUEUE)
        use_container()
        counter = DynamoCalls()
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", counter)
        boto3.DEFAULT_SESSION.events.register("before-parameter-build", RECORDER)
        yield counter
        bootstrap.install(None)


def use_container(**parts: Any) -> bootstrap.Container:
    """A new container, reading the environment on first use (with `parts` given instead of
    built), installed as the one the app's entry points use."""
    container = bootstrap.Container(**parts)
    bootstrap.install(container)
    return container


class DynamoCalls:
    """Counts DynamoDB API requests made through boto3 (botocore's before-call hook)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls.append(model.name if model is not None else "?")

    def reset(self) -> None:
        self.calls.clear()

    @property
    def count(self) -> int:
        return len(self.calls)


@pytest.fixture
def scans(aws: Any) -> list[str]:
    """Every DynamoDB Scan the test makes (the lists and pages promise none)."""
    seen: list[str] = []
    client = bootstrap.container().storage.table.client  # type: ignore[attr-defined]
    client.meta.events.register("before-call.dynamodb.Scan", lambda **_: seen.append("Scan"))
    return seen


@pytest.fixture
def client(aws: Any) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


def admin_get(client: Any, path: str) -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}"})


def json_body(response: Any) -> Any:
    return json.loads(response.body)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Checks over the whole run: no log line carries personal data or a secret, and every AWS call
    the service's code made is allowed by each stage's IAM policy (see tests/aws_calls.py)."""
    problems = []
    found = leaked(captured_logs())
    if found:
        problems.append(f"log lines leaked personal data or secrets: {sorted(set(found))[:5]}")
    for stage in deployed_stages():
        policy = stage_policy(stage)
        requests = {as_deployed(request, stage, TEST_RESOURCES, SSM_PREFIX) for request in RECORDER.requests}
        for request in denied(policy, requests):
            problems.append(f".chalice/policy-{stage}.json does not allow {request.action} on {request.resource}")
        if _whole_suite_passed(session):
            used = {request.action for request in requests} | PLATFORM_ACTIONS
            for action in sorted(granted_actions(policy) - used):
                problems.append(f".chalice/policy-{stage}.json grants {action}, which no code path calls")
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\n" + "\n".join(problems))


def _whole_suite_passed(session: pytest.Session) -> bool:
    """Unused grants can only be judged when every test ran (no -k, -m or path selection)."""
    config = session.config
    selected = config.option.keyword or config.option.markexpr or session.testsfailed
    paths = {str(config.rootpath / path) for path in config.getini("testpaths")}
    return not selected and {str(config.rootpath / arg) for arg in config.args} <= paths | {str(config.rootpath)}
