"""Secrets in SSM Parameter Store: the deployed stages' `ssm:` references, resolved at run time."""

from __future__ import annotations

import json

import boto3
import pytest
from werkzeug import Request, Response

from chalicelib import bootstrap
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.settings import Settings
from infra.secrets import secret_parameters, store
from infra.stages import stage_environment
from tests import signing
from tests.conftest import SECRETS, SSM_PREFIX, TABLE, admin_get, json_body
from tests.e2e.test_forms import typeform_payload
from tests.e2e.test_hubspot import change
from tests.integration.crm_fakes import Worker
from tests.integration.test_writeback import NOW
from tests.integration.test_writeback import event as writeback_event

PATH = "/webhooks/hubspot"


def items() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


def put_secret(name: str, value: str) -> str:
    parameter = f"{SSM_PREFIX}{name}"
    boto3.client("ssm").put_parameter(Name=parameter, Value=value, Type="SecureString")
    return f"ssm:{parameter}"


def test_webhook_secret_and_admin_key_come_from_secure_string_parameters(client, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", put_secret("HUBSPOT_CLIENT_SECRET", SECRETS["HUBSPOT_CLIENT_SECRET"]))
    monkeypatch.setenv("ADMIN_API_KEY", put_secret("ADMIN_API_KEY", SECRETS["ADMIN_API_KEY"]))
    body, headers = signing.hubspot_v3(PATH, [change(1, 501, "email", "ssm@example.com")])

    response = client.http.post(PATH, body=body, headers=headers)

    assert response.status_code == 200, response.body
    assert json_body(response)["accepted"] == 1
    assert admin_get(client, "/leads/hubspot:501").status_code == 200


def test_a_missing_parameter_means_not_configured_401_and_nothing_stored(client, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", f"ssm:{SSM_PREFIX}HUBSPOT_CLIENT_SECRET")  # never put
    body, headers = signing.hubspot_v3(PATH, [change(2, 502, "email", "nobody@example.com")])

    response = client.http.post(PATH, body=body, headers=headers)

    assert response.status_code == 401
    assert items() == 0


def test_every_deployed_secret_is_an_ssm_reference_under_its_stage() -> None:
    for stage in ("dev", "prod"):
        parameters = secret_parameters(stage)
        assert set(parameters) >= set(SECRETS) - {"SALESFORCE_ORG_ID"}
        assert all(name.startswith(f"/leadscore/{stage}/") for name in parameters.values())


def test_make_secrets_writes_what_is_set_and_generates_the_keys_nobody_chose(aws) -> None:
    ssm = boto3.client("ssm")
    outcome = store(ssm, "prod", {"HUBSPOT_CLIENT_SECRET": "from-the-shell", "TYPEFORM_SECRET": ""})

    assert outcome["HUBSPOT_CLIENT_SECRET"] == "written"
    assert outcome["TYPEFORM_SECRET"] == "not set"
    assert outcome["ADMIN_API_KEY"] == outcome["EVENTS_WRITE_KEY"] == "generated"
    stored = ssm.get_parameter(Name="/leadscore/prod/HUBSPOT_CLIENT_SECRET", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "from-the-shell")
    admin_key = ssm.get_parameter(Name="/leadscore/prod/ADMIN_API_KEY", WithDecryption=True)["Parameter"]["Value"]
    assert len(admin_key) >= 40

    again = store(ssm, "prod", {})
    assert again["ADMIN_API_KEY"] == "unchanged"
    unchanged = ssm.get_parameter(Name="/leadscore/prod/ADMIN_API_KEY", WithDecryption=True)["Parameter"]["Value"]
    assert unchanged == admin_key


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_config_names_only_resources_of_its_own_stage(stage: str) -> None:
    env = stage_environment(stage)
    assert env["TABLE_NAME"] == f"leadscore-{stage}"
    assert env["TASK_QUEUE"] == f"leadscore-{stage}-tasks"
    assert env["TASK_DLQ"] == f"leadscore-{stage}-tasks-dlq"


class Clock:
    """The settings' monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rotating_container(clock: Clock):
    """The app's container with settings read from the environment and `clock` as their clock."""
    settings = Settings.from_env()
    settings._clock = clock
    return bootstrap.install(bootstrap.Container(settings))


def rotate(name: str, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=f"{SSM_PREFIX}{name}", Value=value, Type="SecureString", Overwrite=True)


def test_a_rotated_signing_secret_is_in_use_within_five_minutes_without_a_cold_start(client, monkeypatch) -> None:
    monkeypatch.setenv("TYPEFORM_SECRET", put_secret("TYPEFORM_SECRET", "typeform-before-rotation"))
    clock = Clock()
    rotating_container(clock)

    def status(secret: str, token: str) -> int:
        body, headers = signing.typeform(typeform_payload(token=token), secret)
        return client.http.post("/webhooks/forms/typeform", body=body, headers=headers).status_code

    assert status("typeform-before-rotation", "t1") == 200
    rotate("TYPEFORM_SECRET", "typeform-after-rotation")
    clock.now += 60  # within the max age: the value read a minute ago is still used
    assert status("typeform-before-rotation", "t2") == 200
    clock.now += 241  # 301 s since it was read: read again
    assert status("typeform-after-rotation", "t3") == 200
    assert status("typeform-before-rotation", "t4") == 401


def test_a_secret_is_read_from_ssm_once_per_max_age_and_kept_while_ssm_is_down(aws, monkeypatch) -> None:
    monkeypatch.setenv("ADMIN_API_KEY", put_secret("ADMIN_API_KEY", "key-one"))
    reads: list[str] = []
    boto3.DEFAULT_SESSION.events.register("before-call.ssm.GetParameter", lambda **_: reads.append("read"))
    clock = Clock()
    settings = rotating_container(clock).settings

    assert [settings.secret("admin_api_key") for _ in range(50)] == ["key-one"] * 50
    assert len(reads) == 1
    rotate("ADMIN_API_KEY", "key-two")
    clock.now += 300
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # SSM unreachable
    assert settings.secret("admin_api_key") == "key-one"  # stale but working beats a 503 storm
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSM")
    assert settings.secret("admin_api_key") == "key-two"
    assert len(reads) == 3


def test_a_rotated_hubspot_token_is_sent_on_the_next_write_back(aws, httpserver, monkeypatch) -> None:
    """The write-back client lives as long as the container; its token does not."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", put_secret("HUBSPOT_ACCESS_TOKEN", "pat-before-rotation"))
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    seen: list[str] = []

    def batch_update(request: Request) -> Response:
        seen.append(request.headers["Authorization"])
        ids = [item["id"] for item in json.loads(request.data)["inputs"]]
        results = [{"id": contact_id, "properties": {}} for contact_id in ids]
        return Response(json.dumps({"status": "COMPLETE", "results": results}), content_type="application/json")

    httpserver.expect_request("/crm/v3/objects/contacts/batch/update", method="POST").respond_with_handler(batch_update)
    clock = Clock()
    parts = rotating_container(clock)

    def write(event_id: str, contact: str) -> None:
        parts.ingestion.ingest(ParsedDelivery(events=[writeback_event(event_id, hubspot_id=contact)]), NOW)
        Worker().poll()

    write("e1", "201")
    rotate("HUBSPOT_ACCESS_TOKEN", "pat-after-rotation")
    clock.now += 301
    write("e2", "202")
    assert seen == ["Bearer pat-before-rotation", "Bearer pat-after-rotation"]
