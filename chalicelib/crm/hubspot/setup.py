"""Setting a HubSpot portal up for leadscore (`leadscore crm setup hubspot`): the score properties
in their own group (on contacts, and the account score's on companies), and the webhook
subscriptions leadscore needs: contact creation and deletion, a property change for each profile
property and each activity property the rules map, and the company changes accounts follow.

A private app's subscriptions can only be set in its settings page (or, for an app on the
developer platform, in the project's `webhooks-hsmeta.json`); a legacy public app's through the
Webhooks API with the developer API key, `GET`/`POST /webhooks/v3/{appId}/subscriptions?hapikey=`.
So this lists them, prints the project configuration, and creates the missing ones when given a
developer key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse
from chalicelib.domain.crm_activity import CrmActivity

from .writer import ACCOUNT_PROPERTIES, GROUP, error_message, property_names

CONTACT_EVENTS = ("contact.creation", "contact.deletion", "contact.privacyDeletion")
COMPANY_EVENTS = ("company.creation", "company.deletion", "company.merge")

Subscription = tuple[str, str | None]  # (eventType, propertyName)


def wanted_subscriptions(
    mapping: CrmActivity, profile_properties: list[str], company_properties: Sequence[str] = ()
) -> list[Subscription]:
    properties = sorted({*profile_properties, *mapping.hubspot_properties()})
    wanted: list[Subscription] = [(event, None) for event in CONTACT_EVENTS]
    wanted += [("contact.propertyChange", name) for name in properties]
    wanted += [(event, None) for event in COMPANY_EVENTS if company_properties]
    return wanted + [("company.propertyChange", name) for name in sorted(company_properties)]


def describe(wanted: list[Subscription]) -> list[str]:
    return [f"{event} {prop}" if prop else event for event, prop in wanted]


def project_config(wanted: list[Subscription], target_url: str) -> str:
    """The `webhooks-hsmeta.json` of an app on HubSpot's developer platform."""
    legacy: list[dict[str, Any]] = []
    for event, prop in wanted:
        entry: dict[str, Any] = {"subscriptionType": event, "active": True}
        if prop:
            entry["propertyName"] = prop
        legacy.append(entry)
    config = {
        "uid": "leadscore_webhooks",
        "type": "webhooks",
        "config": {
            "settings": {"targetUrl": target_url, "maxConcurrentRequests": 10},
            "subscriptions": {"legacyCrmObjects": legacy},
        },
    }
    return json.dumps(config, indent=2)


def ensure_subscriptions(client: JsonClient, app_id: str, developer_key: str, wanted: list[Subscription]) -> list[str]:
    """Create the subscriptions the app lacks (a legacy public app, with its developer API key)."""
    key = f"hapikey={quote(developer_key)}"
    path = f"/webhooks/v3/{quote(app_id)}/subscriptions"
    listed = client.request("GET", f"{path}?{key}")
    if listed.status != 200 or not isinstance(listed.body, dict):
        raise CrmUnavailable(f"HubSpot answered {listed.status} listing the app's subscriptions")
    have = {
        (str(item.get("eventType")), item.get("propertyName") or None)
        for item in listed.body.get("results", [])
        if isinstance(item, dict)
    }
    report = []
    for event, prop in wanted:
        label = f"{event} {prop}" if prop else event
        if (event, prop) in have:
            report.append(f"subscription {label}: already exists")
            continue
        body: dict[str, Any] = {"eventType": event, "active": True}
        if prop:
            body["propertyName"] = prop
        created = client.request("POST", f"{path}?{key}", body)
        if created.status not in (200, 201):
            raise CrmUnavailable(f"HubSpot answered {created.status} creating {label}")
        report.append(f"subscription {label}: created")
    return report


PROPERTY_DEFINITIONS = [
    ("score", "Lead score", "number", "number"),
    ("fit", "Lead score: fit", "number", "number"),
    ("engagement", "Lead score: engagement", "number", "number"),
    ("tier", "Lead tier", "string", "text"),
    ("grade", "Lead grade", "string", "text"),
    ("tier_changed_at", "Lead tier changed at", "datetime", "date"),
    ("reasons", "Lead score reasons", "string", "textarea"),
    ("likelihood", "Lead score: likelihood to convert (0-1)", "number", "number"),
]


COMPANY_PROPERTY_DEFINITIONS = [
    ("score", "Account score", "number", "number"),
    ("tier", "Account tier", "string", "text"),
    ("engaged_contacts", "Account: engaged contacts", "number", "number"),
    ("reasons", "Account score reasons", "string", "textarea"),
]


def property_plan(prefix: str = "lead_", named: Mapping[str, str] | None = None) -> list[str]:
    """The properties `setup_properties` creates, one line each (what a dry run prints); `named`:
    the rules' named scores, property -> label."""
    names = property_names(prefix)
    contacts = [f"contacts.{names[key]}  {kind} ({field_type})  label {label!r}"
                for key, label, kind, field_type in PROPERTY_DEFINITIONS]  # fmt: skip
    contacts += [f"contacts.{name}  number (number)  label {label!r}" for name, label in (named or {}).items()]
    companies = [f"companies.{ACCOUNT_PROPERTIES[key]}  {kind} ({field_type})  label {label!r}"
                 for key, label, kind, field_type in COMPANY_PROPERTY_DEFINITIONS]  # fmt: skip
    return contacts + companies


def setup_properties(client: JsonClient, prefix: str = "lead_", named: Mapping[str, str] | None = None) -> list[str]:
    """Create the property group and properties; existing ones (409) are fine. Returns what happened."""
    report = []
    group = client.request(
        "POST", "/crm/v3/properties/contacts/groups", {"name": GROUP, "label": "Lead scoring", "displayOrder": -1}
    )
    report.append(f"group {GROUP}: {_created(group)}")
    names = property_names(prefix)
    for key, label, kind, field_type in PROPERTY_DEFINITIONS:
        body = {"name": names[key], "label": label, "type": kind, "fieldType": field_type, "groupName": GROUP}
        report.append(f"property {names[key]}: {_created(client.request('POST', '/crm/v3/properties/contacts', body))}")
    for name, label in (named or {}).items():  # the rules' named scores
        body = {"name": name, "label": label, "type": "number", "fieldType": "number", "groupName": GROUP}
        report.append(f"property {name}: {_created(client.request('POST', '/crm/v3/properties/contacts', body))}")
    group = client.request(
        "POST", "/crm/v3/properties/companies/groups", {"name": GROUP, "label": "Lead scoring", "displayOrder": -1}
    )
    report.append(f"company group {GROUP}: {_created(group)}")
    for key, label, kind, field_type in COMPANY_PROPERTY_DEFINITIONS:
        name = ACCOUNT_PROPERTIES[key]
        body = {"name": name, "label": label, "type": kind, "fieldType": field_type, "groupName": GROUP}
        created = _created(client.request("POST", "/crm/v3/properties/companies", body))
        report.append(f"company property {name}: {created}")
    return report


def _created(response: JsonResponse) -> str:
    if response.status in (200, 201):
        return "created"
    if response.status == 409:
        return "already exists"
    raise CrmUnavailable(error_message(response))
