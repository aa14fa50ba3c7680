"""Any signed form or tool: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), verified with the `standardwebhooks` reference implementation, and any of
three bodies:

- ours: {"form": "Demo request", "form_id": "...", "submitted_at": "2026-11-22T10:00:00Z",
  "form_type": "demo_request", "fields": {"Work email": "jane@acme.com", "Job title": "VP Sales"}}
  (`fields` may also be a list of {"label", "value", "type"});
- flat: the fields themselves, {"email": "jane@acme.com", "company": "Acme", ...}, as Zapier, Make,
  n8n and hand-written forms send them (`form`/`form_name` and `form_type` keys still name the form);
- the Standard Webhooks envelope {"type": "form.submitted", "timestamp": "...", "data": {...}}
  with either of the above as `data`.
"""

from __future__ import annotations

import binascii
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks.webhooks import Webhook

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, check_fresh, instant, parse_json, require_secret, same, validate
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "generic"
FORM_NAME_KEYS = ("form", "form_name", "formName")
META_KEYS = {*FORM_NAME_KEYS, "form_id", "form_type", "submitted_at", "user_id", "anonymous_id"}


def verify(request: IncomingRequest, secret: str, now: datetime, tolerance_seconds: int = 300) -> None:
    secret = require_secret(secret, "generic form")
    message_id = request.header("webhook-id")
    timestamp = request.header("webhook-timestamp")
    signatures = request.header("webhook-signature") or ""
    if not message_id or not timestamp or not signatures:
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature")
    # Freshness against the injected clock (the library's own check reads the wall clock).
    check_fresh(timestamp, now, tolerance_seconds, "webhook-timestamp", per_second=1)  # Standard Webhooks: seconds
    try:
        signer = Webhook(secret)  # accepts `whsec_` and bare, padded or unpadded base64
        sent = datetime.fromtimestamp(float(timestamp), tz=UTC)
        expected = signer.sign(message_id, sent, request.text()).partition(",")[2]
    except (binascii.Error, ValueError, OverflowError, OSError) as exc:
        raise Unauthorized("webhook-signature cannot be checked: FORMS_SECRET is not a valid whsec_ key") from exc
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
    form_id: str | int = ""
    form_type: str | None = None
    submitted_at: str | int | float | None = None
    fields: dict[str, Any] | list[_FieldEntry] = Field(min_length=1)
    user_id: str | None = None
    anonymous_id: str | None = None


def parse(request: IncomingRequest) -> ParsedDelivery:
    data = parse_json(request)
    if not isinstance(data, dict):
        raise BadPayload("body must be a JSON object", field="body")
    if isinstance(data.get("data"), dict) and "type" in data and "fields" not in data:
        data = {"submitted_at": data.get("timestamp"), "form_type": None, **data["data"]}  # the envelope
    if "fields" not in data:
        data = _flat(data)
    body: _Submission = validate(_Submission, data)
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
        form_id=str(body.form_id or body.form),
        form_name=body.form,
        submitted_at=instant(body.submitted_at, "submitted_at", request.received_at),
        answers=answers,
        form_type=body.form_type,
        extra_identities=identities,
    )


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """A flat object of fields: every key that does not describe the form is an answer."""
    form = next((str(data[key]) for key in FORM_NAME_KEYS if isinstance(data.get(key), str)), "")
    meta: dict[str, Any] = {key: data[key] for key in META_KEYS - set(FORM_NAME_KEYS) if key in data}
    fields = {key: value for key, value in data.items() if key not in META_KEYS}
    return {"form": form, **meta, "fields": fields}


@register("generic", route="form")
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("forms_secret"), request.received_at, settings.signature_tolerance_seconds)
    return parse(request)
