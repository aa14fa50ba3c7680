"""Pipedrive webhooks, v2 (the default since March 2025) and v1 (developers.pipedrive.com, "Guide
for Webhooks v2" and "Webhooks v1").

Pipedrive does not sign: a webhook is created with HTTP Basic credentials (`http_auth_user`,
`http_auth_password`) that it sends with every delivery; they must equal PIPEDRIVE_WEBHOOK_USER and
PIPEDRIVE_WEBHOOK_PASSWORD (unset: every delivery is refused).

v2: `{"meta": {"action": "create"|"change"|"delete", "entity": "person", "entity_id": "12", "id",
"timestamp", "attempt", "merged_to_id"|"merged_from_id" ...}, "data", "previous"}`, `previous`
holding only the fields that changed and `data` null on a delete. v1: `{"v": 1, "event":
"updated.person", "meta": {"action": "updated", "object": "person", "id": 11, "timestamp"...},
"current", "previous", "retry"}`, `merged.person` for a merge. A retry resends the same event (v2
`attempt` 2-4, v1 `retry` 1-3): the events' ids come from the delivery's identity, never the
attempt, so it counts once.

A merge: v2 sends a `delete` of the loser with `merged_to_id` and a `change` of the winner with
`merged_from_id`; v1 a `merged.person`. Either unites the leads under the winner (record_merges.py).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import CompanyChange, Deletion, ParsedDelivery, RecordMerge
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, parse_json, same
from .pipedrive_records import (
    SOURCE,
    activity_event,
    created_event,
    deal_outcome,
    organization_change,
    person_event,
    person_profile,
    record_id,
    when,
)
from .registry import register

V1_ACTIONS = {"added": "create", "updated": "change", "deleted": "delete", "merged": "merge"}


def verify(request: IncomingRequest, user: str, password: str) -> None:
    if not user or not password:
        raise Unauthorized("Pipedrive webhooks are not configured on this deployment")
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("Pipedrive deliveries carry the webhook's HTTP Basic credentials")
    try:
        given_user, _, given_password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("the Basic credentials are not base64") from exc
    # Both compared whatever the first gives: the time taken says nothing about which was wrong.
    if not (same(user, given_user) & same(password, given_password)):
        raise Unauthorized("wrong webhook credentials")


@dataclass(frozen=True)
class Change:
    """One delivery, whichever version: what happened to which record."""

    entity: str  # person, organization, deal, lead, activity ...
    action: str  # create, change, delete, merge
    record: str | None
    data: Mapping[str, Any] | None
    previous: Mapping[str, Any] | None
    at: datetime
    delivery: str  # the event's identity, the same on every retry
    merged_to: str | None = None
    merged_from: str | None = None


def _mapping(value: Any, field: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadPayload(f"{field}: an object or null is expected", field=field)
    return value


def change_of(body: Any, received_at: datetime) -> Change:
    if not isinstance(body, Mapping) or not isinstance(body.get("meta"), Mapping):
        raise BadPayload("meta: a Pipedrive webhook body has a `meta` object", field="meta")
    meta = body["meta"]
    if "current" in body or body.get("v") == 1 or meta.get("v") == 1:
        return _v1(body, meta, received_at)
    entity, action = str(meta.get("entity") or "").lower(), str(meta.get("action") or "").lower()
    if not entity or not action:
        raise BadPayload("meta.entity: v2 deliveries name the entity and the action", field="meta.entity")
    data, previous = _mapping(body.get("data"), "data"), _mapping(body.get("previous"), "previous")
    record = record_id(meta.get("entity_id")) or record_id((data or previous or {}).get("id"))
    at = when(meta.get("timestamp")) or received_at
    delivery = f"{entity}-{record}-{action}-{record_id(meta.get('id')) or ''}-{meta.get('timestamp')}"
    return Change(entity, action, record, data, previous, at, delivery,
                  record_id(meta.get("merged_to_id")), record_id(meta.get("merged_from_id")))  # fmt: skip


def _v1(body: Mapping[str, Any], meta: Mapping[str, Any], received_at: datetime) -> Change:
    event = str(body.get("event") or "")
    verb, _, noun = event.partition(".")
    entity = str(meta.get("object") or noun).lower()
    action = V1_ACTIONS.get(str(meta.get("action") or verb).lower(), str(meta.get("action") or verb).lower())
    current, previous = _mapping(body.get("current"), "current"), _mapping(body.get("previous"), "previous")
    record = record_id(meta.get("id")) or record_id((current or previous or {}).get("id"))
    at = when(meta.get("timestamp")) or received_at
    stamp = meta.get("timestamp_micro") or meta.get("timestamp")
    delivery = f"{entity}-{record}-{action}-{stamp}"
    merged_from = record_id(previous.get("id")) if action == "merge" and previous else None
    return Change(entity, action, record, current, previous, at, delivery, merged_from=merged_from)


def parse(request: IncomingRequest, mapping: CrmActivity) -> ParsedDelivery:
    change = change_of(parse_json(request), request.received_at)
    handler = HANDLERS.get(change.entity)
    return handler(change, mapping) if handler else ParsedDelivery(ignored=1)


def _person(change: Change, _: CrmActivity) -> ParsedDelivery:
    delivery = ParsedDelivery()
    if change.record is None:
        raise BadPayload("meta.entity_id: the person's id is missing", field="meta.entity_id")
    if change.action == "delete":
        if change.merged_to:
            delivery.merges.append(RecordMerge(SOURCE, change.merged_to, (change.record,), change.at))
        else:
            delivery.deletions.append(Deletion(Identities(pipedrive_id=change.record), "person deleted in Pipedrive"))
        return delivery
    if change.merged_from and change.merged_from != change.record:
        delivery.merges.append(RecordMerge(SOURCE, change.record, (change.merged_from,), change.at))
    if change.data is not None and not _unchanged(change):
        event = person_event({**change.data, "id": change.data.get("id") or change.record}, change.delivery, change.at)
        if event is not None:
            delivery.events.append(event)
    if not delivery.events and not delivery.merges:
        delivery.ignored = 1
    return delivery


def _unchanged(change: Change) -> bool:
    """A change of nothing leadscore reads (our own write-back to the custom fields, a label): not
    an event. v2's `previous` holds the changed fields only, v1's the whole record before."""
    if change.action != "change" or change.previous is None or change.data is None:
        return False
    return person_profile({**change.data, **change.previous}) == person_profile(change.data)


def _organization(change: Change, _: CrmActivity) -> ParsedDelivery:
    if change.record is None:
        return ParsedDelivery(ignored=1)
    if change.action == "delete":
        into = f"{SOURCE}:{change.merged_to}" if change.merged_to else None
        return ParsedDelivery(companies=[CompanyChange(f"{SOURCE}:{change.record}", change.at, deleted=True,
                                                       merged_into=into)])  # fmt: skip
    companies = []
    if change.action == "merge" and change.merged_from and change.merged_from != change.record:  # v1
        companies.append(CompanyChange(f"{SOURCE}:{change.merged_from}", change.at, deleted=True,
                                       merged_into=f"{SOURCE}:{change.record}"))  # fmt: skip
    if change.data is not None:
        companies.append(organization_change(change.data, change.record, change.at, change.action == "create"))
    return ParsedDelivery(companies=companies) if companies else ParsedDelivery(ignored=1)


def _activity(change: Change, mapping: CrmActivity) -> ParsedDelivery:
    event = activity_event(change.data, mapping, change.at) if change.data and change.action != "delete" else None
    return ParsedDelivery(events=[event]) if event else ParsedDelivery(ignored=1)


def _deal(change: Change, mapping: CrmActivity) -> ParsedDelivery:
    if change.data is None or change.action == "delete":
        return ParsedDelivery(ignored=1)
    found = [deal_outcome(change.data, change.previous if change.action != "create" else {"status": "open"}, change.at)]
    if change.action == "create":
        found.append(created_event("deal", change.data, mapping, change.at))
    events = [event for event in found if event is not None]
    return ParsedDelivery(events=events) if events else ParsedDelivery(ignored=1)


def _lead(change: Change, mapping: CrmActivity) -> ParsedDelivery:
    event = (
        created_event("lead", change.data, mapping, change.at) if change.data and change.action == "create" else None
    )
    return ParsedDelivery(events=[event]) if event else ParsedDelivery(ignored=1)


HANDLERS = {"person": _person, "organization": _organization, "activity": _activity, "deal": _deal, "lead": _lead}


@register(SOURCE)
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("pipedrive_webhook_user"), settings.secret("pipedrive_webhook_password"))
    return parse(request, rules.crm_activity)
