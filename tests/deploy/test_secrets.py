"""Secrets in SSM Parameter Store: the deployed stages' `ssm:` references, resolved at run time."""

from __future__ import annotations

import boto3
import pytest

from infra.secrets import secret_parameters, store
from infra.stages import stage_environment
from tests import signing
from tests.conftest import SECRETS, SSM_PREFIX, TABLE, admin_get, json_body
from tests.e2e.test_hubspot import change

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
    assert env["WRITEBACK_QUEUE"] == f"leadscore-{stage}-writeback"
    assert env["WRITEBACK_DLQ"] == f"leadscore-{stage}-writeback-dlq"
