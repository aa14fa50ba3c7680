"""HubSpot: Webhooks API deliveries (a JSON array of events) and workflow "Send a webhook" bodies.

Signatures (hubspot-api-python's utils/signature.py is the reference):
v1 = hex(sha256(secret + body)); v2 = hex(sha256(secret + method + uri + body));
v3 = base64(HMAC-SHA256(secret, method + uri + body + timestamp)), timestamp no older than 5 min.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.events import EPOCH
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import CompanyChange, Deletion, ParsedDelivery, ProfileRef, RecordMerge
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, b64, check_fresh, hmac_sha256, instant, parse_json, require_secret, same, validate
from .hubspot_activity import activity_events, is_activity, missing_context, property_value
from .registry import register

SOURCE = "hubspot"
# HubSpot contact property -> profile attribute
PROPERTY_MAP = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "job_title",
    "company": "company",
    "numemployees": "company_size",
    "industry": "industry",
    "country": "country",
    "hs_analytics_source": "lead_source",
    "lifecyclestage": "lifecycle_stage",
    "hs_lead_status": "lead_status",
    "hubspot_owner_id": "hubspot_owner_id",
    "associatedcompanyid": "hubspot_company_id",  # the contact's primary company: its account
}


def verify(request: IncomingRequest, secret: str, now: datetime, tolerance_seconds: int = 300) -> None:
    secret = require_secret(secret, "HubSpot")
    body = request.text()
    v3 = request.header("x-hubspot-signature-v3")
    if v3:
        timestamp = request.header("x-hubspot-request-timestamp")
        check_fresh(timestamp, now, tolerance_seconds, "X-HubSpot-Request-Timestamp")
        # HubSpot signs the URI as requested; some characters arrive percent-encoded, so accept both forms.
        for uri in dict.fromkeys((request.url, unquote(request.url))):
            expected = b64(hmac_sha256(secret, f"{request.method}{uri}{body}{timestamp}".encode()))
            if same(expected, v3):
                return
        raise Unauthorized("X-HubSpot-Signature-v3 does not match")
    legacy = request.header("x-hubspot-signature")
    if not legacy:
        raise Unauthorized("missing X-HubSpot-Signature-v3")
    version = (request.header("x-hubspot-signature-version") or "v1").lower()
    if version == "v1":
        source = f"{secret}{body}"
    elif version == "v2":
        source = f"{secret}{request.method}{request.url}{body}"
    else:
        raise Unauthorized(f"unsupported X-HubSpot-Signature-Version {version!r}")
    if not same(hashlib.sha256(source.encode()).hexdigest(), legacy):
        raise Unauthorized(f"X-HubSpot-Signature ({version}) does not match")


CONTACT_OBJECT_TYPE = "0-1"  # the generic format's objectTypeId for contacts
COMPANY_OBJECT_TYPE = "0-2"  # ... and for companies
OBJECT_TYPES = {CONTACT_OBJECT_TYPE: "contact", COMPANY_OBJECT_TYPE: "company"}


class WebhookEvent(BaseModel):
    """One Webhooks API event. Real deliveries name the type `subscriptionType`; HubSpot's own
    documentation example names it `eventType`: either is accepted. The generic format
    (`object.creation`, `object.propertyChange` ...) says which object in `objectTypeId`."""

    model_config = ConfigDict(extra="allow")

    eventId: int | str
    subscriptionType: str = Field(min_length=1, validation_alias=AliasChoices("subscriptionType", "eventType"))
    objectId: int | str
    objectTypeId: str | None = None
    occurredAt: int | float | str
    portalId: int | str | None = None
    propertyName: str | None = None
    propertyValue: Any = None
    changeSource: str | None = None
    # A merge: the record that remains and the ones merged into it; some merges make a new record
    # (`newObjectId`), which then remains and the primary is merged into it too.
    primaryObjectId: int | str | None = None
    mergedObjectIds: list[int | str] = Field(default_factory=list)
    newObjectId: int | str | None = None

    def merged(self) -> tuple[str, list[str]] | None:
        """(the id that remains, the ids merged into it) of a merge event; None for another."""
        if self.primaryObjectId is None:
            return None
        winner = str(self.newObjectId or self.primaryObjectId)
        losers = [str(item) for item in (*self.mergedObjectIds, self.primaryObjectId)]
        return winner, [loser for loser in dict.fromkeys(losers) if loser != winner]

    @property
    def kind(self) -> str | None:
        """`contact.creation`, `company.propertyChange` ...; None for another object type, which
        we acknowledge and ignore."""
        kind = self.subscriptionType
        family, _, action = kind.partition(".")
        if family == "object":
            found = OBJECT_TYPES.get(str(self.objectTypeId))
            return f"{found}.{action}" if found else None
        return kind if family in ("contact", "company") else None


def parse(
    request: IncomingRequest, own_property_prefix: str = "lead_", mapping: CrmActivity | None = None
) -> ParsedDelivery:
    mapping = mapping or CrmActivity()
    data = parse_json(request)
    if isinstance(data, list):
        return _parse_webhook_events(data, own_property_prefix, mapping)
    if isinstance(data, dict):
        return ParsedDelivery(events=_workflow_events(data, request, mapping))
    raise BadPayload("body must be a JSON array of webhook events or a workflow object")


def _parse_webhook_events(data: list[Any], own_prefix: str, mapping: CrmActivity) -> ParsedDelivery:
    if not data:
        raise BadPayload("the event array is empty")
    if len(data) > 1000:
        raise BadPayload("more than 1000 events in one delivery")
    items: list[WebhookEvent] = [validate(WebhookEvent, raw, prefix=f"[{index}]") for index, raw in enumerate(data)]
    # A contact's properties changed together arrive as separate events of one delivery: each
    # activity reads its context (the email's name, the URL) from the others.
    changes: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.kind == "contact.propertyChange" and item.propertyName:
            changes.setdefault(str(item.objectId), {})[item.propertyName] = item.propertyValue
    delivery = ParsedDelivery()
    to_read: set[str] = set()
    context = set(mapping.hubspot_properties())
    for position, item in enumerate(items):
        contact_id = str(item.objectId)
        event_id = f"{item.portalId or 0}-{item.eventId}"  # HubSpot's dedup key is (portalId, eventId)
        occurred_at = instant(item.occurredAt, f"[{position}].occurredAt", EPOCH)
        kind, name = item.kind, item.propertyName
        if kind is not None and kind.startswith("company."):
            change = company_change(item, occurred_at, own_prefix)
            if change is None:
                delivery.ignored += 1
            else:
                delivery.companies += change
        elif kind == "contact.merge" and (merge := item.merged()) is not None:
            delivery.merges.append(RecordMerge(SOURCE, merge[0], tuple(merge[1]), occurred_at))
        elif kind in ("contact.deletion", "contact.privacyDeletion"):
            delivery.deletions.append(Deletion(Identities(hubspot_id=contact_id), reason=kind))
        elif kind in ("contact.creation", "contact.restore"):  # a restored contact: read it again
            delivery.events.append(_profile_event(event_id, occurred_at, contact_id, _portal(item)))
            to_read.add(contact_id)
        elif kind != "contact.propertyChange" or not name or name.startswith(own_prefix):
            delivery.ignored += 1  # another object, or our own write-back (never loop)
        elif name in PROPERTY_MAP:
            patch = {PROPERTY_MAP[name]: item.propertyValue, **_portal(item)}
            delivery.events.append(_profile_event(event_id, occurred_at, contact_id, patch))
        elif name in mapping.hubspot_refresh:
            to_read.add(contact_id)  # a counter grew: the contact's properties say what happened
        elif is_activity(name, mapping):
            found = activity_events(contact_id, changes[contact_id], mapping, occurred_at, changed={name})
            if missing_context({name}, changes[contact_id], mapping):
                ref = ProfileRef(SOURCE, contact_id)
                delivery.unless_read += [(ref, event) for event in found]
            else:
                delivery.events += found
        elif name in context:
            continue  # the form's or email's name, a URL: read with the activity it describes
        else:
            delivery.ignored += 1  # a property we do not score on
    delivery.profiles_to_fetch += [ProfileRef(SOURCE, contact_id) for contact_id in sorted(to_read)]
    return delivery


def company_change(item: WebhookEvent, at: datetime, own_prefix: str) -> list[CompanyChange] | None:
    """A company webhook as account changes: a property an account is scored on, its creation, its
    deletion, a merge (each merged company into the primary); None for what accounts ignore (any
    other property, our own write-back)."""
    key = f"hubspot:{item.objectId}"
    action = item.subscriptionType.partition(".")[2]
    if action == "creation":
        return [CompanyChange(key, at, created=True)]
    if action == "deletion":
        return [CompanyChange(key, at, deleted=True)]
    merge = item.merged() if action == "merge" else None
    if merge is not None:
        winner, losers = merge
        return [CompanyChange(f"hubspot:{loser}", at, merged_into=f"hubspot:{winner}") for loser in losers]
    name = item.propertyName or ""
    if action == "propertyChange" and name in COMPANY_PROPERTY_MAP and not name.startswith(own_prefix):
        return [CompanyChange(key, at, profile={COMPANY_PROPERTY_MAP[name]: item.propertyValue})]
    return None


def _portal(item: WebhookEvent) -> dict[str, Any]:
    """The HubSpot account the contact lives in: what a link to its record needs."""
    return {"hubspot_portal_id": str(item.portalId)} if item.portalId not in (None, "", 0) else {}


def _workflow_events(data: dict[str, Any], request: IncomingRequest, mapping: CrmActivity) -> list[LeadEvent]:
    """A workflow body: {"id"/"objectId"/"vid", "properties": {...}} or the selected properties,
    flat; the profile it states and the activity its properties record."""
    properties = data.get("properties")
    if properties is None:
        properties = data
    if not isinstance(properties, dict):
        raise BadPayload("properties must be an object", field="properties")
    values = {name: property_value(value) for name, value in properties.items()}
    contact_id = data.get("objectId") or data.get("id") or data.get("vid") or values.get("hs_object_id")
    if contact_id is None or isinstance(contact_id, (dict, list, bool)):
        raise BadPayload("the workflow body names no contact (objectId, id, vid or hs_object_id)", field="objectId")
    updated = values.get("lastmodifieddate") or data.get("updatedAt")
    occurred_at = instant(updated, "properties.lastmodifieddate", request.received_at)
    patch = {PROPERTY_MAP[name]: value for name, value in values.items() if name in PROPERTY_MAP}
    patch.setdefault("email", _profile_email(data))
    for name, value in _company_facts(data).items():
        patch.setdefault(name, value)
    patch = {name: value for name, value in patch.items() if value not in (None, "")}
    digest = hashlib.sha256(request.body).hexdigest()[:24]  # a redelivered body is the same event
    profile = _profile_event(f"workflow-{contact_id}-{digest}", occurred_at, str(contact_id), patch)
    email = profile.identities.email
    return [profile, *activity_events(str(contact_id), values, mapping, occurred_at, email=email)]


def _profile_email(data: dict[str, Any]) -> str | None:
    """v1 contact JSON: the primary email is an identity, `identity-profiles[].identities[type=EMAIL]`."""
    for profile in _objects(data.get("identity-profiles")):
        for identity in _objects(profile.get("identities")):
            if str(identity.get("type", "")).upper() == "EMAIL" and isinstance(identity.get("value"), str):
                return str(identity["value"])
    return None


COMPANY_PROPERTY_MAP = {"name": "company", "numberofemployees": "company_size", "industry": "industry",
                        "country": "country"}  # fmt: skip


def _company_facts(data: dict[str, Any]) -> dict[str, Any]:
    """v1 contact JSON: the contact's company, `associated-company.properties` (the contact's own
    properties win where both say something)."""
    company = data.get("associated-company")
    properties = company.get("properties") if isinstance(company, dict) else None
    if not isinstance(properties, dict):
        return {}
    values = {name: property_value(value) for name, value in properties.items()}
    facts = {attribute: values[name] for name, attribute in COMPANY_PROPERTY_MAP.items() if name in values}
    if company.get("company-id") is not None:  # type: ignore[union-attr]
        facts["hubspot_company_id"] = company["company-id"]  # type: ignore[index]
    return facts


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _profile_event(event_id: str, occurred_at: datetime, contact_id: str, patch: dict[str, Any]) -> LeadEvent:
    email = patch.get("email") if isinstance(patch.get("email"), str) else None
    return LeadEvent(
        event_id=event_id,
        source=SOURCE,
        type=PROFILE_EVENT,
        occurred_at=occurred_at,
        identities=Identities(hubspot_id=contact_id, email=email or None),
        properties={"profile": patch},
    )


def contact_events(contact: dict[str, Any], mapping: CrmActivity) -> list[LeadEvent]:
    """A contact read from the CRM API ({"id", "properties", "updatedAt"}): its profile, and the
    activity its properties record."""
    properties = contact.get("properties") or {}
    if not isinstance(properties, dict):
        properties = {}
    contact_id = str(contact["id"])
    updated = contact.get("updatedAt") or properties.get("lastmodifieddate")
    occurred_at = instant(updated, "updatedAt", EPOCH)
    patch = {PROPERTY_MAP[name]: value for name, value in properties.items() if name in PROPERTY_MAP}
    profile = _profile_event(f"contact-{contact_id}-{updated}", occurred_at, contact_id, patch)
    return [profile, *activity_events(contact_id, properties, mapping, occurred_at, email=profile.identities.email)]


@register("hubspot")
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("hubspot_client_secret"), request.received_at, settings.signature_tolerance_seconds)
    mapping = rules.crm_activity.for_hubspot(settings.hubspot_email_events)
    return parse(request, settings.hubspot_property_prefix, mapping)
