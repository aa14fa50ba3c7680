"""Webflow form_submission webhooks: `x-webflow-signature` = hex(HMAC-SHA256(secret, timestamp + ":" + body)).

Two shapes: Data API v2 `{"triggerType": "form_submission", "payload": {"name", "siteId", "data",
"submittedAt", "id", "formId", ...}}` and v1 `{"name", "site", "data", "d", "_id"}` (no trigger type:
a v1 webhook is registered for one trigger).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, check_fresh, hmac_sha256, instant, parse_json, require_secret, same, validate
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "webflow"


def verify(request: IncomingRequest, secret: str, now: datetime, tolerance_seconds: int = 300) -> None:
    secret = require_secret(secret, "Webflow")
    timestamp = request.header("x-webflow-timestamp")
    check_fresh(timestamp, now, tolerance_seconds, "x-webflow-timestamp")
    expected = hmac_sha256(secret, f"{timestamp}:".encode() + request.body).hex()
    if not same(expected, request.header("x-webflow-signature")):
        raise Unauthorized("x-webflow-signature does not match")


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = ""
    siteId: str | None = None
    formId: str | None = None
    id: str | None = None
    submittedAt: str | None = None
    data: dict[str, Any]


class _Delivery(BaseModel):
    model_config = ConfigDict(extra="allow")
    triggerType: str
    payload: _Payload


class _V1Submission(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = ""
    site: str | None = None
    data: dict[str, Any]
    d: str | None = None
    id_: str | None = Field(default=None, alias="_id")

    def as_payload(self) -> _Payload:
        return _Payload(name=self.name, siteId=self.site, id=self.id_, submittedAt=self.d, data=self.data)


def parse(request: IncomingRequest) -> ParsedDelivery:
    body = parse_json(request)
    if isinstance(body, dict) and "triggerType" not in body and "payload" not in body:
        payload = validate(_V1Submission, body).as_payload()
    else:
        delivery: _Delivery = validate(_Delivery, body)
        if delivery.triggerType != "form_submission":
            return ParsedDelivery(ignored=1)
        payload = delivery.payload
    answers = [Answer(label=label, kind="text", value=value) for label, value in payload.data.items()]
    submission_id = payload.id or hashlib.sha256(request.body).hexdigest()[:32]
    return submission_delivery(
        source=SOURCE,
        submission_id=submission_id,
        form_id=payload.formId or payload.name,
        form_name=payload.name,
        submitted_at=instant(payload.submittedAt, "payload.submittedAt", request.received_at),
        answers=answers,
        form_type=str(payload.data.get("form_type") or "") or None,
    )


@register("webflow", route="form")
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("webflow_secret"), request.received_at, settings.signature_tolerance_seconds)
    return parse(request)
