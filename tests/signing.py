"""Deliveries signed the way each vendor signs them. HubSpot's come from HubSpot's own SDK and the
generic ones from the `standardwebhooks` package, so the tests prove compatibility, not symmetry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from hubspot.utils.signature import Signature
from standardwebhooks.webhooks import Webhook

from tests.conftest import SECRETS

BASE = "http://localhost"


def _body(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


def hubspot_v3(path: str, payload: Any, timestamp_ms: int | None = None, secret: str | None = None) -> tuple[str, dict]:
    body = _body(payload)
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    signature = Signature.get_signature(
        secret or SECRETS["HUBSPOT_CLIENT_SECRET"], body, "v3", http_uri=BASE + path, http_method="POST",
        timestamp=timestamp,
    )  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "Host": "localhost",
    }
    return body, headers


def hubspot_legacy(path: str, payload: Any, version: str) -> tuple[str, dict]:
    body = _body(payload)
    signature = Signature.get_signature(
        SECRETS["HUBSPOT_CLIENT_SECRET"], body, version, http_uri=BASE + path, http_method="POST"
    )
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": signature,
        "X-HubSpot-Signature-Version": version,
        "Host": "localhost",
    }
    return body, headers


def typeform(payload: Any, secret: str | None = None) -> tuple[str, dict]:
    body = _body(payload)
    digest = hmac.new((secret or SECRETS["TYPEFORM_SECRET"]).encode(), body.encode(), hashlib.sha256).digest()
    return body, {
        "Content-Type": "application/json",
        "Typeform-Signature": "sha256=" + base64.b64encode(digest).decode(),
    }


def tally(payload: Any) -> tuple[str, dict]:
    body = _body(payload)
    digest = hmac.new(SECRETS["TALLY_SECRET"].encode(), body.encode(), hashlib.sha256).digest()
    return body, {"Content-Type": "application/json", "Tally-Signature": base64.b64encode(digest).decode()}


def webflow(payload: Any, timestamp_ms: int | None = None) -> tuple[str, dict]:
    body = _body(payload)
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    signature = hmac.new(SECRETS["WEBFLOW_SECRET"].encode(), f"{timestamp}:{body}".encode(), hashlib.sha256)
    return body, {
        "Content-Type": "application/json",
        "x-webflow-timestamp": timestamp,
        "x-webflow-signature": signature.hexdigest(),
    }


def standard_webhook(payload: Any, message_id: str, when: datetime | None = None) -> tuple[str, dict]:
    body = _body(payload)
    when = when or datetime.now(UTC)
    signature = Webhook(SECRETS["FORMS_SECRET"]).sign(message_id, when, body)
    return body, {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


def basic(write_key: str | None = None) -> dict:
    token = base64.b64encode(f"{write_key or SECRETS['EVENTS_WRITE_KEY']}:".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}


def json_dumps(payload: Any) -> str:
    return json.dumps(payload)
