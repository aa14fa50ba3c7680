"""Tally webhooks: `Tally-Signature` = base64(HMAC-SHA256(secret, raw body))."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.settings import Settings

from .base import IncomingRequest, instant, parse_json, validate, verify_body_signature
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "tally"


def verify(request: IncomingRequest, secret: str) -> None:
    verify_body_signature(request, secret, "Tally", "Tally-Signature")


class _Field(BaseModel):
    model_config = ConfigDict(extra="allow")
    key: str
    label: str | None = None
    type: str = ""
    value: Any = None
    options: list[dict[str, Any]] | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")
    responseId: str = Field(min_length=1)
    formId: str = Field(min_length=1)
    formName: str | None = None
    createdAt: str | None = None
    fields: list[_Field] = []


class _Delivery(BaseModel):
    model_config = ConfigDict(extra="allow")
    eventId: str = Field(min_length=1)
    eventType: str
    createdAt: str | None = None
    data: _Data


def _value(field: _Field) -> Any:
    # Choice fields carry option ids as the value; the labels live in `options`.
    if field.options and field.value is not None:
        chosen = field.value if isinstance(field.value, list) else [field.value]
        labels = {option.get("id"): option.get("text") for option in field.options}
        return [labels.get(item, item) for item in chosen]
    return field.value


def parse(request: IncomingRequest) -> ParsedDelivery:
    delivery: _Delivery = validate(_Delivery, parse_json(request))
    if delivery.eventType != "FORM_RESPONSE":
        return ParsedDelivery(ignored=1)
    data = delivery.data
    answers = [Answer(label=field.label or field.key, kind=field.type, value=_value(field)) for field in data.fields]
    hidden = {a.label: a.value for a in answers if a.kind == "HIDDEN_FIELDS" and isinstance(a.value, str)}
    submitted = instant(data.createdAt or delivery.createdAt, "data.createdAt", request.received_at)
    return submission_delivery(
        source=SOURCE,
        # eventId changes on a retried delivery of the same response in some setups: responseId does not.
        submission_id=data.responseId,
        form_id=data.formId,
        form_name=data.formName or "",
        submitted_at=submitted,
        answers=answers,
        form_type=hidden.get("form_type"),
    )


@register("tally", route="form")
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("tally_secret"))
    return parse(request)
