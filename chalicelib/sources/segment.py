"""Segment / RudderStack tracking API: /v1/batch, /v1/track, /v1/page, /v1/screen, /v1/identify,
/v1/group and /v1/alias. The write key comes as HTTP Basic auth username (the SDKs) or as
`writeKey` in the body (Segment's HTTP API). Bodies may be gzip-compressed (RudderStack's SDKs).

A batch is validated message by message, as Segment does: the valid ones are stored, each invalid
one is reported in the reply (`rejected`) and counted; only a body that is not JSON or too big
fails the whole request. Identify traits are read at the top level (Segment) and in
`context.traits` (RudderStack's SDKs put them there), and `context.traits` fill the profile on track,
page and screen calls too; a `name` trait fills first and last name.

Event names are stored as sent ("Email Opened"): the rules file maps them to canonical types at
scoring time, so a mapping added later applies to events already stored.

Segment's semantic specs are read as their pages write them: `action` in place of `type`,
`user_id` for `userId` and `context.user_agent` (the Email spec's examples), no `messageId` or
`timestamp`. The B2B SaaS spec's `Signed Up` and `Account Created` describe the user and the
account in their properties: those feed the profile as identify traits do (one more profile event,
id `<message id>:profile`). `groupId` (group calls, and `context.groupId` on identify calls and on
the B2B SaaS events, where the spec defines it) is the lead's account.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery, Rejection
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, bad_payload, instant, parse_json, require_secret, same, validate
from .registry import register

SOURCE = "segment"
MAX_BATCH = 2500
TRAIT_MAP = {
    "email": "email",
    "title": "job_title",
    "job_title": "job_title",
    "jobTitle": "job_title",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "industry": "industry",
    "country": "country",
    "employees": "company_size",
    "employee_count": "company_size",
    "company_size": "company_size",
    "lead_source": "lead_source",
    "source": "lead_source",
    "phone": "phone",
}
# Segment's `title` is a job title, but the spec's own Signed Up example sends "Mr": a salutation
# says nothing of seniority, so it is not kept as one.
SALUTATIONS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mme", "m", "herr", "frau"})


def verify(request: IncomingRequest, write_key: str, body: Any = None) -> None:
    """Basic auth if the request carries an Authorization header, else `writeKey` in `body`."""
    expected = require_secret(write_key, "tracking")
    header = request.header("authorization") or ""
    if not header:
        given = body.get("writeKey") if isinstance(body, dict) else None
        if not isinstance(given, str) or not given:
            raise Unauthorized("HTTP Basic auth with the write key as username (or writeKey in the body) is required")
        if not same(expected, given):
            raise Unauthorized("unknown write key")
        return
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("HTTP Basic auth with the write key as username is required")
    try:
        username = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed Basic credentials") from exc
    if not same(expected, username):
        raise Unauthorized("unknown write key")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str | None = None
    messageId: str | int | None = None
    timestamp: str | int | float | None = None
    originalTimestamp: str | int | float | None = None
    sentAt: str | int | float | None = None
    userId: str | int | None = None
    anonymousId: str | int | None = None
    previousId: str | int | None = None
    event: str | None = None
    name: str | None = None
    groupId: str | int | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class Batch(BaseModel):
    model_config = ConfigDict(extra="allow")

    batch: list[Any] = Field(min_length=1, max_length=MAX_BATCH)
    sentAt: str | int | float | None = None
    context: dict[str, Any] = Field(default_factory=dict)


def parse(request: IncomingRequest, kind: str, data: Any = None) -> ParsedDelivery:
    """`kind` is the route: batch, track, page, screen, identify, group or alias."""
    data = parse_json(request) if data is None else data
    if kind != "batch":
        if not isinstance(data, dict):
            raise BadPayload("body must be a JSON object", field="body")
        return _deliver([(data, "")], None, {}, kind, request, per_message=False)
    batch: Batch = validate(Batch, data)
    messages = [(raw, f"batch[{position}]") for position, raw in enumerate(batch.batch)]
    return _deliver(messages, batch.sentAt, batch.context, kind, request, per_message=True)


def _deliver(
    messages: list[tuple[Any, str]],
    sent_at: Any,
    batch_context: dict[str, Any],
    kind: str,
    request: IncomingRequest,
    per_message: bool,
) -> ParsedDelivery:
    delivery = ParsedDelivery()
    for raw, prefix in messages:
        try:
            message: Message = validate(Message, raw, prefix=prefix)
            if batch_context:
                message.context = {**batch_context, **message.context}
            message = _spec_spelling(message)
            message_type = (message.type or ("" if kind == "batch" else kind)).lower()
            events = _events(message, message_type, sent_at, request, raw, prefix)
        except (BadPayload, ValidationError) as exc:
            rejection = bad_payload(exc, prefix) if isinstance(exc, ValidationError) else exc
            if not per_message:
                if isinstance(exc, ValidationError):
                    raise rejection from exc
                raise
            delivery.rejected.append(Rejection(rejection.field or prefix, rejection.message))
            continue
        if not events:
            delivery.ignored += 1
        delivery.events += events
    return delivery


def _spec_spelling(message: Message) -> Message:
    """The spellings the spec pages' examples use, read as the API's."""
    extra = message.model_extra or {}
    updates: dict[str, Any] = {}
    for ours, theirs in (("type", "action"), ("userId", "user_id")):
        if getattr(message, ours) is None and isinstance(extra.get(theirs), (str, int)) and extra[theirs] != "":
            updates[ours] = extra[theirs]
    if updates.get("type") is not None:
        updates["type"] = str(updates["type"])
    if "userAgent" not in message.context and isinstance(message.context.get("user_agent"), str):
        updates["context"] = {**message.context, "userAgent": message.context["user_agent"]}
    return message.model_copy(update=updates) if updates else message


def _events(
    message: Message, message_type: str, sent_at: str | None, request: IncomingRequest, raw: Any, prefix: str
) -> list[LeadEvent]:
    """The message's event, and for the spec's sign-up and account events the profile they describe."""
    event = _event(message, message_type, sent_at, request, raw, prefix)
    if event is None:
        return []
    patch = _described_profile(message, message_type)
    if not patch:
        return [event]
    if event.type == PROFILE_EVENT:
        return [
            event.model_copy(
                update={"properties": {**event.properties, "profile": {**patch, **event.properties["profile"]}}}
            )
        ]
    profile = event.model_copy(
        update={"event_id": f"{event.event_id}:profile", "type": PROFILE_EVENT, "properties": {"profile": patch}}
    )
    return [event, profile]


# The B2B SaaS spec's events whose properties describe the user or the account (spec: b2b-saas).
USER_PROPERTIES_EVENTS = frozenset({"signed up"})
ACCOUNT_PROPERTIES_EVENTS = frozenset({"account created"})
# ... and those it gives `context.groupId`: the account the user belongs to.
ACCOUNT_EVENTS = frozenset(
    {"account created", "signed up", "signed in", "account added user", "invite sent", "trial started", "trial ended"}
)


def _described_profile(message: Message, message_type: str) -> dict[str, Any]:
    """What a message says about who the lead is besides identify traits: the account it belongs
    to, and the user or account properties of the spec's sign-up and account events."""
    patch: dict[str, Any] = {}
    if message_type in ("track", "page", "screen"):
        # The SDKs repeat the user's traits in `context.traits` on every call (RudderStack always,
        # Segment's when asked): who the lead is, whichever call says it first.
        patch.update(_profile(_object(message.context.get("traits")), company_level=False))
    name = (message.event or "").strip().casefold() if message_type == "track" else ""
    if name in USER_PROPERTIES_EVENTS:
        patch.update(_profile(message.properties, company_level=False))
    if name in ACCOUNT_PROPERTIES_EVENTS and message.properties.get("account_name"):
        patch["company"] = message.properties["account_name"]
    group = message.groupId if message_type == "group" else message.context.get("groupId")
    linked = message_type in ("group", "identify") or name in ACCOUNT_EVENTS
    if linked and isinstance(group, (str, int)) and not isinstance(group, bool) and str(group).strip():
        patch["account_id"] = str(group).strip()
    return patch


def _event(
    message: Message, message_type: str, batch_sent_at: str | None, request: IncomingRequest, raw: Any, prefix: str
) -> LeadEvent | None:
    where = f"{prefix}." if prefix else ""
    identities = _identities(where, user_id=message.userId, anonymous_id=message.anonymousId, email=_email(message))
    if message.userId is None and message.anonymousId is None:
        raise BadPayload(f"{where}userId or anonymousId is required", field=f"{where}userId")
    properties: dict[str, Any] = {}
    if message_type == "track":
        if not message.event:
            raise BadPayload(f"{where}event: a track call needs an event name", field=f"{where}event")
        event_type = message.event
        properties = _email_properties(message.properties)
    elif message_type in ("page", "screen"):
        event_type = "page_view" if message_type == "page" else "screen_view"
        page = _object(message.context.get("page"))
        properties = {**page, **message.properties}
        if message.name and "name" not in properties:
            properties["name"] = message.name
    elif message_type in ("identify", "group"):
        event_type = PROFILE_EVENT
        traits = (
            message.traits if message_type == "group" else {**_object(message.context.get("traits")), **message.traits}
        )
        properties = {"profile": _profile(traits, company_level=message_type == "group")}
    elif message_type == "alias":
        if message.previousId is None:
            raise BadPayload(f"{where}previousId: an alias call needs the previous id", field=f"{where}previousId")
        # The previous id may have been an anonymousId or an older userId: link both readings.
        identities = _identities(where, user_id=message.userId, anonymous_id=str(message.previousId))
        event_type = "alias"
    else:
        return None
    agent = message.context.get("userAgent")
    if isinstance(agent, str) and agent and event_type != "alias":
        # Kept so the rules' crawler filter can judge it (Segment and RudderStack put it in context).
        properties = {**properties, "user_agent": agent}
    occurred_at = _occurred_at(message, batch_sent_at, request.received_at, where)
    message_id = message.messageId or _derived_id(message, batch_sent_at, raw, occurred_at)
    return LeadEvent(
        event_id=str(message_id),
        source=SOURCE,
        type=event_type,
        occurred_at=occurred_at,
        identities=identities,
        properties=properties,
    )


def _derived_id(message: Message, batch_sent_at: Any, raw: Any, occurred_at: datetime) -> str:
    """An id for a message sent without `messageId`: the same body gives the same id, so a
    redelivery is a duplicate. A body with no time of its own either is stamped when received, and
    the same body on another UTC day is another event (a daily "Signed In" from the spec's example
    is three sign-ins on three days, not one sent three times)."""
    basis: Any = raw
    if not (message.timestamp or message.originalTimestamp or message.sentAt or batch_sent_at):
        basis = {"message": raw, "received_day": occurred_at.date().isoformat()}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:32]


SPEC_NAMES = {"user_id": "userId", "anonymous_id": "anonymousId", "email": "traits.email"}


def _identities(where: str, **values: Any) -> Identities:
    """The message's identities; one that cannot be anybody's is the message's 400, named as sent."""
    try:
        return Identities(**values)
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        field = f"{where}{SPEC_NAMES.get(name, name)}"
        raise BadPayload(f"{field}: {exc.errors()[0]['msg']}", field=field) from exc


def _occurred_at(message: Message, batch_sent_at: str | None, received_at: datetime, where: str) -> datetime:
    """Segment's clock-skew correction: receivedAt - (sentAt - timestamp), never in the future."""
    original = message.originalTimestamp or message.timestamp
    stamped = instant(original, f"{where}timestamp", received_at)
    sent_raw = message.sentAt or batch_sent_at
    if original and sent_raw:
        sent = instant(sent_raw, f"{where}sentAt", received_at)
        try:
            stamped = received_at - (sent - stamped)
        except OverflowError as exc:  # a skew of millennia between sentAt and timestamp
            raise BadPayload(f"{where}sentAt: too far from timestamp", field=f"{where}sentAt") from exc
    return min(stamped, received_at)


def _email(message: Message) -> str | None:
    for source in (message.traits, _object(message.context.get("traits")), message.properties):
        value = source.get("email")
        if isinstance(value, str) and "@" in value:
            return value
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _email_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """Segment's email spec calls the message `email_id`; the engine's rules read `message_id`."""
    if "message_id" not in properties and properties.get("email_id") is not None:
        return {**properties, "message_id": properties["email_id"]}
    return dict(properties)


def _profile(traits: dict[str, Any], company_level: bool) -> dict[str, Any]:
    if company_level:
        # group() traits describe the account: its name is the company, not the person's name
        account = {
            "company": traits.get("name"),
            "industry": traits.get("industry"),
            "company_size": traits.get("employees") or traits.get("employee_count"),
        }
        return {key: value for key, value in account.items() if value not in (None, "")}
    profile = {
        TRAIT_MAP[name]: value for name, value in traits.items() if name in TRAIT_MAP and value not in (None, "")
    }
    title = profile.get("job_title")
    if isinstance(title, str) and title.strip().rstrip(".").casefold() in SALUTATIONS:
        del profile["job_title"]
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        # the reserved `name` trait is the full name; explicit first/last name traits win
        first, _, last = name.strip().partition(" ")
        profile.setdefault("first_name", first)
        if last.strip():
            profile.setdefault("last_name", last.strip())
    company = traits.get("company")
    if isinstance(company, dict):
        if company.get("name"):
            profile["company"] = company["name"]
        for key in ("employee_count", "employees"):
            if company.get(key) is not None:
                profile.setdefault("company_size", company[key])
        if company.get("industry"):
            profile.setdefault("industry", company["industry"])
    elif isinstance(company, str) and company:
        profile["company"] = company
    address = traits.get("address")
    if isinstance(address, dict) and address.get("country"):
        profile.setdefault("country", address["country"])
    return profile


def _receiver(kind: str) -> None:
    @register(f"segment.{kind}", route="tracking")
    def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
        # Parsed before verifying only when the key can only be in the body; nothing is stored
        # either way until verification has passed.
        body = parse_json(request) if not request.header("authorization") else None
        verify(request, settings.secret("events_write_key"), body)
        return parse(request, kind, body)


for _kind in ("batch", "track", "page", "screen", "identify", "group", "alias"):
    _receiver(_kind)
