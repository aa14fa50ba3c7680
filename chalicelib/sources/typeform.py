"""Typeform webhooks: `Typeform-Signature: sha256=` + base64(HMAC-SHA256(secret, raw body))."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.settings import Settings

from .base import IncomingRequest, instant, parse_json, validate, verify_body_signature
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "typeform"


def verify(request: IncomingRequest, secret: str) -> None:
    verify_body_signature(request, secret, "Typeform", "Typeform-Signature", prefix="sha256=")


class _Field(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    ref: str | None = None
    type: str | None = None
    title: str | None = None


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    field: _Field


class _Definition(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str | None = None
    fields: list[_Field] = []


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")
    form_id: str = Field(min_length=1)
    token: str = Field(min_length=1)
    submitted_at: str
    definition: _Definition = _Definition()
    answers: list[_Answer] = []
    hidden: dict[str, Any] = {}


class _Delivery(BaseModel):
    model_config = ConfigDict(extra="allow")
    event_id: str | None = None
    event_type: str
    form_response: _Response


def _value(answer: _Answer) -> Any:
    extra = answer.model_extra or {}
    kind = answer.type
    if kind == "choice":
        choice = extra.get("choice")
        return (choice.get("label") or choice.get("other")) if isinstance(choice, dict) else None
    if kind == "choices":
        choices = extra.get("choices")
        if not isinstance(choices, dict):
            return None
        labels = choices.get("labels")
        listed = list(labels) if isinstance(labels, list) else []
        return [*listed, *([choices["other"]] if choices.get("other") else [])]
    return extra.get(kind)


def parse(request: IncomingRequest) -> ParsedDelivery:
    delivery: _Delivery = validate(_Delivery, parse_json(request))
    if delivery.event_type != "form_response":
        return ParsedDelivery(ignored=1)
    response = delivery.form_response
    titles = {field.id: field.title or "" for field in response.definition.fields}
    # Refs are often generated ids, so the label is the field's title and its ref together.
    answers = [
        Answer(
            label=f"{titles.get(answer.field.id, '')} {answer.field.ref or ''}".strip(),
            kind=answer.field.type or answer.type,
            value=_value(answer),
        )
        for answer in response.answers
    ]
    hidden = {key: str(value) for key, value in response.hidden.items() if value not in (None, "")}
    answers += [Answer(label=key, kind="hidden", value=value) for key, value in hidden.items()]
    identities = {"user_id": hidden["user_id"]} if hidden.get("user_id") else {}
    if hidden.get("anonymous_id"):
        identities["anonymous_id"] = hidden["anonymous_id"]
    return submission_delivery(
        source=SOURCE,
        submission_id=response.token,
        form_id=response.form_id,
        form_name=response.definition.title or "",
        submitted_at=instant(response.submitted_at, "form_response.submitted_at", request.received_at),
        answers=answers,
        form_type=hidden.get("form_type"),
        extra_identities=identities,
    )


@register("typeform", route="form")
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("typeform_secret"))
    return parse(request)
