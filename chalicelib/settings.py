"""Configuration from the environment, read once per Lambda container (by bootstrap.py).

A secret may be given directly or as `ssm:/path/to/parameter`, resolved from SSM Parameter Store
(SecureString, decrypted) the first time it is needed and kept with these settings, so the value
never sits in the template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from chalicelib.errors import SecretsUnavailable


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = "leadscore"
    hubspot_client_secret: str = ""
    hubspot_access_token: str = ""
    hubspot_api_base: str = "https://api.hubapi.com"
    salesforce_org_id: str = ""
    salesforce_webhook_token: str = ""
    salesforce_integration_user_id: str = ""
    salesforce_instance_url: str = ""
    salesforce_access_token: str = ""
    salesforce_client_id: str = ""
    salesforce_client_secret: str = ""
    typeform_secret: str = ""
    tally_secret: str = ""
    webflow_secret: str = ""
    forms_secret: str = ""
    events_write_key: str = ""
    admin_api_key: str = ""
    viewer_api_key: str = ""  # read-only: the leads, reports and rules, never a rules preview
    public_base_url: str = ""
    writeback_queue: str = "leadscore-writeback"
    writeback_dlq: str = "leadscore-writeback-dlq"
    notify_url: str = ""
    # The properties we write (lead_score, lead_tier ...); changes to them are never scored again.
    hubspot_property_prefix: str = "lead_"
    salesforce_score_field: str = "Lead_Score__c"
    salesforce_tier_field: str = "Lead_Tier__c"
    salesforce_grade_field: str = "Lead_Grade__c"
    salesforce_reasons_field: str = Field(
        default="Lead_Score_Reasons__c", description="a Text(255) field for the top reasons; empty: not written"
    )
    hubspot_write_reasons: bool = Field(
        default=True, description="write `<prefix>score_reasons` (created by `crm setup hubspot`)"
    )
    hubspot_email_events: bool = Field(
        default=False, description="poll HubSpot's email events (needs the `content` scope) instead of the properties"
    )
    hubspot_requests_per_10s: int = Field(default=100, gt=0, description="the app's HubSpot rate limit (190 on Pro)")
    sync_grace_seconds: int = Field(default=900, gt=0, description="outbox entries older than this are queued again")
    scoring_rules: str = Field(default="", description="a rules file; empty: the bundled seed model")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    signature_tolerance_seconds: int = Field(default=300, gt=0)

    _resolved: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper())
            if raw is not None:
                values[name] = raw
        return cls(**values)

    def secret(self, name: str) -> str:
        """The secret's value, resolving `ssm:` references once; empty when not configured."""
        value: str = getattr(self, name)
        if not value.startswith("ssm:"):
            return value
        if value not in self._resolved:
            self._resolved[value] = _ssm_parameter(value.removeprefix("ssm:"))
        return self._resolved[value]


def _ssm_parameter(name: str) -> str:
    """A missing parameter means the integration is not set up (its webhook answers 401); any other
    SSM failure is SecretsUnavailable, so the caller answers 503 and the sender retries."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("ssm")
    try:
        response = client.get_parameter(Name=name, WithDecryption=True)
    except client.exceptions.ParameterNotFound:
        from chalicelib.observability import logger

        logger.warning("secret parameter not found; treating it as not configured", extra={"parameter": name})
        return ""
    except (BotoCoreError, ClientError) as exc:
        raise SecretsUnavailable(f"SSM: {type(exc).__name__}") from exc
    return str(response["Parameter"]["Value"])
