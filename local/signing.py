"""Sign deliveries the way each vendor does: HubSpot with HubSpot's own SDK, generic forms with the
`standardwebhooks` package. Used by the demo, the smoke test and the test suite."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hubspot.utils.signature import Signature
from standardwebhooks.webhooks import Webhook


def body_text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


class Signer:
    def __init__(self, secrets: Mapping[str, str], base_url: str) -> None:
        self.secrets = secrets
        self.base_url = base_url.rstrip("/")

    def hubspot_v3(
        self, path: str, payload: Any, timestamp_ms: int | None = None, secret: str | None = None
    ) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        signature = Signature.get_signature(
            self.secrets["HUBSPOT_CLIENT_SECRET"] if secret is None else secret,
            body,
            "v3",
            http_uri=self.base_url + path,
            http_method="POST",
            timestamp=timestamp,
        )
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        return body, headers

    def hubspot_legacy(self, path: str, payload: Any, version: str) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        signature = Signature.get_signature(
            self.secrets["HUBSPOT_CLIENT_SECRET"], body, version, http_uri=self.base_url + path, http_method="POST"
        )
        headers = {"Content-Type": "application/json", "X-HubSpot-Signature": signature}
        return body, {**headers, "X-HubSpot-Signature-Version": version}

    def typeform(self, payload: Any, secret: str | None = None) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        key = (secret or self.secrets["TYPEFORM_SECRET"]).encode()
        digest = base64.b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()).decode()
        return body, {"Content-Type": "application/json", "Typeform-Signature": f"sha256={digest}"}

    def tally(self, payload: Any) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        digest = hmac.new(self.secrets["TALLY_SECRET"].encode(), body.encode(), hashlib.sha256).digest()
        return body, {"Content-Type": "application/json", "Tally-Signature": base64.b64encode(digest).decode()}

    def webflow(self, payload: Any, timestamp_ms: int | None = None) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        digest = hmac.new(self.secrets["WEBFLOW_SECRET"].encode(), f"{timestamp}:{body}".encode(), hashlib.sha256)
        return body, {
            "Content-Type": "application/json",
            "x-webflow-timestamp": timestamp,
            "x-webflow-signature": digest.hexdigest(),
        }

    def calendly(
        self, payload: Any, timestamp: int | None = None, key: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """As Calendly signs: `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>." + body)>`."""
        body = body_text(payload)
        sent = str(timestamp if timestamp is not None else int(time.time()))
        secret = (key or self.secrets["CALENDLY_SIGNING_KEY"]).encode()
        digest = hmac.new(secret, f"{sent}.{body}".encode(), hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "Calendly-Webhook-Signature": f"t={sent},v1={digest}"}

    def calcom(self, payload: Any, secret: str | None = None) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        key = (secret or self.secrets["CALCOM_SECRET"]).encode()
        digest = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Cal-Signature-256": digest}

    def pipedrive(
        self, payload: Any, user: str | None = None, password: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """Pipedrive does not sign: it sends the webhook's HTTP Basic credentials."""
        login = (
            f"{user or self.secrets['PIPEDRIVE_WEBHOOK_USER']}:{password or self.secrets['PIPEDRIVE_WEBHOOK_PASSWORD']}"
        )
        token = base64.b64encode(login.encode()).decode()
        return body_text(payload), {"Content-Type": "application/json", "Authorization": f"Basic {token}"}

    def standard_webhook(
        self, payload: Any, message_id: str, when: datetime | None = None
    ) -> tuple[str, dict[str, str]]:
        body = body_text(payload)
        when = when or datetime.now(UTC)
        signature = Webhook(self.secrets["FORMS_SECRET"]).sign(message_id, when, body)
        return body, {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature,
        }

    def basic(self, write_key: str | None = None) -> dict[str, str]:
        token = base64.b64encode(f"{write_key or self.secrets['EVENTS_WRITE_KEY']}:".encode()).decode()
        return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}

    def salesforce_path(self) -> str:
        return f"/webhooks/salesforce?token={self.secrets['SALESFORCE_WEBHOOK_TOKEN']}"
