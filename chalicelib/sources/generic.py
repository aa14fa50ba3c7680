"""Any signed form or tool: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), verified with the `standardwebhooks` reference scheme, and a small body:

    {"form": "Demo request", "form_id": "...", "submitted_at": "2026-11-22T10:00:00Z",
     "form_type": "demo_request", "fields": {"Work email": "jane@acme.com", "Job title": "VP Sales"}}

`fields` may also be a list of {"label", "value", "type"}.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.settings import Settings

from .base import (
    IncomingRequest,
    ParsedDelivery,
    Unauthorized,
    b64,
    check_fresh,
    hmac_sha256,
    instant,
    parse_json,
    require_secret,
    same,
    validate,
)
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "generic"


def verify(request: IncomingRequest, secret: str, now: datetime, tolerance_seconds: int = 300) -> None:
    secret = require_secret(secret, "generic form")
    message_id = request.header("webhook-id")
    timestamp = request.header("webhook-timestamp")
    signatures = request.header("webhook-signature") or ""
    if not message_id or not timestamp or not signatures:
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature")
    check_fresh(timestamp, now, tolerance_seconds, "webhook-timestamp", per_second=1)  # Standard Webhooks: seconds
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = b64(hmac_sha256(key, f"{message_id}.{timestamp}.".encode() + request.body))
    # The header lists space-separated `v1,<sig>` entries (several during key rotation).
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and same(expected, signature):
            return
    raise Unauthorized("webhook-signature does not match")


class _FieldEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: str
    value: Any = None
    type: str = "text"


class _Submission(BaseModel):
    model_config = ConfigDict(extra="allow")
    form: str = ""
    form_id: str = ""
    form_type: str | None = None
    submitted_at: str | None = None
    fields: dict[str, Any] | list[_FieldEntry] = Field(min_length=1)
    user_id: str | None = None
    anonymous_id: str | None = None


def parse(request: IncomingRequest) -> ParsedDelivery:
    body: _Submission = validate(_Submission, parse_json(request))
    if isinstance(body.fields, dict):
        answers = [Answer(label=label, kind="text", value=value) for label, value in body.fields.items()]
    else:
        answers = [Answer(label=entry.label, kind=entry.type, value=entry.value) for entry in body.fields]
    identities = {
        name: value for name, value in (("user_id", body.user_id), ("anonymous_id", body.anonymous_id)) if value
    }
    return submission_delivery(
        source=SOURCE,
        submission_id=request.header("webhook-id") or "",
        form_id=body.form_id or body.form,
        form_name=body.form,
        submitted_at=instant(body.submitted_at, "submitted_at", request.received_at),
        answers=answers,
        form_type=body.form_type,
        extra_identities=identities,
    )


@register("generic", route="form")
def receive(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    verify(request, settings.secret("forms_secret"), request.received_at, settings.signature_tolerance_seconds)
    return parse(request)
