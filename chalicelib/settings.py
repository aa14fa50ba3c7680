"""Configuration from the environment, read once per Lambda container (by bootstrap.py).

A secret may be given directly or as `ssm:/path/to/parameter`, resolved from SSM Parameter Store
(SecureString, decrypted) when it is needed, so the value never sits in the template. A resolved
value is kept for at most `secret_max_age_seconds` (5 minutes, as Powertools' parameters default
`max_age`): a rotated token or signing secret is in use within that time, without a redeploy or a
cold start, and a warm container makes one SSM call per secret per five minutes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from chalicelib.errors import SecretsUnavailable


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = "leadscore"
    hubspot_client_secret: str = ""
    hubspot_access_token: str = ""
    hubspot_api_base: str = "https://api.hubapi.com"
    hubspot_portal_id: str = ""  # record links for contacts no webhook delivery named the portal of
    hubspot_app_url: str = "https://app.hubspot.com"  # app-eu1.hubspot.com for EU-hosted accounts
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
    calendly_signing_key: str = ""
    calcom_secret: str = ""
    pipedrive_webhook_user: str = ""
    pipedrive_webhook_password: str = ""
    pipedrive_api_token: str = ""
    pipedrive_company_domain: str = ""  # `acme` for acme.pipedrive.com: the API host and record links
    pipedrive_api_base: str = ""  # default https://<company domain>.pipedrive.com/api
    pipedrive_requests_per_2s: int = Field(default=20, gt=0, description="the API token's burst limit (plan-dependent)")
    events_write_key: str = ""
    admin_api_key: str = ""
    viewer_api_key: str = ""  # read-only: the leads, reports and rules, never a rules preview
    public_base_url: str = ""
    task_queue: str = "leadscore-tasks"
    task_dlq: str = "leadscore-tasks-dlq"
    notify_url: str = ""  # where alerts go (Slack, Teams or any JSON receiver); a secret
    notify_routes: str = Field(default="", description="a secret: JSON, owner email or crm:id -> webhook URL")
    notify_format: str = Field(default="", description="slack, teams or json; empty: from each URL's host")
    notify_min_interval_hours: float = Field(default=24, ge=0, description="one alert per lead and kind in this time")
    notify_on_leave: bool = Field(default=False, description="also announce a lead dropping out of MQL")
    notify_digest: bool = Field(default=False, description="one message a day per destination instead of each alert")
    # The properties we write (lead_score, lead_tier ...); changes to them are never scored again.
    hubspot_property_prefix: str = "lead_"
    salesforce_score_field: str = "Lead_Score__c"
    salesforce_tier_field: str = "Lead_Tier__c"
    salesforce_grade_field: str = "Lead_Grade__c"
    salesforce_reasons_field: str = Field(
        default="Lead_Score_Reasons__c", description="a Text(255) field for the top reasons; empty: not written"
    )
    salesforce_likelihood_field: str = Field(
        default="", description="a Number(1, 4) field for the likelihood to convert (rules with a calibration)"
    )
    hubspot_write_reasons: bool = Field(
        default=True, description="write `<prefix>score_reasons` (created by `crm setup hubspot`)"
    )
    hubspot_email_events: bool = Field(
        default=False, description="poll HubSpot's email events (needs the `content` scope) instead of the properties"
    )
    hubspot_requests_per_10s: int = Field(default=100, gt=0, description="the app's HubSpot rate limit (190 on Pro)")
    # How many functions may call a CRM at once (the task consumers and the CRM sync: the stage's
    # concurrency, infra/capacity.py): each paces itself to its share of the CRM's rate limit.
    crm_callers: int = Field(default=1, gt=0)
    sync_grace_seconds: int = Field(default=900, gt=0, description="outbox entries older than this are queued again")
    scoring_rules: str = Field(
        default="", description="the rules file in force until a version is deployed; empty: the bundled rules"
    )
    rules_recheck_seconds: float = Field(
        default=60, ge=0, description="how often a container checks which rules version is active"
    )
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    signature_tolerance_seconds: int = Field(default=300, gt=0)
    secret_max_age_seconds: float = Field(default=300, ge=0, description="how long a value read from SSM is kept")

    # parameter -> (read at, value); read at is on `_clock`, a monotonic clock a test can replace
    _resolved: dict[str, tuple[float, str]] = PrivateAttr(default_factory=dict)
    _clock: Callable[[], float] = PrivateAttr(default=time.monotonic)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper())
            if raw is not None:
                values[name] = raw
        return cls(**values)

    @property
    def pipedrive_api(self) -> str:
        """Where Pipedrive's API is: PIPEDRIVE_API_BASE, else the company's own domain."""
        if self.pipedrive_api_base:
            return self.pipedrive_api_base.rstrip("/")
        domain = self.pipedrive_company_domain or "api"
        return f"https://{domain}.pipedrive.com/api"

    def secret(self, name: str) -> str:
        """The secret's value, an `ssm:` reference read again once its value is older than
        `secret_max_age_seconds`; empty when not configured."""
        value: str = getattr(self, name)
        if not value.startswith("ssm:"):
            return value
        now = self._clock()
        kept = self._resolved.get(value)
        if kept is None or now - kept[0] >= self.secret_max_age_seconds:
            try:
                kept = (now, _ssm_parameter(value.removeprefix("ssm:")))
            except SecretsUnavailable:
                if kept is None:
                    raise
                # SSM is down but we hold a value: a rotation is rare, an outage should not stop us.
                return kept[1]
            self._resolved[value] = kept
        return kept[1]

    def secret_source(self, name: str) -> Callable[[], str]:
        """The secret as a function, for a client that lives longer than a value may."""
        return lambda: self.secret(name)


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
