"""Salesforce Outbound Messages: a SOAP 1.1 envelope with 1-100 notifications. Lead and Contact
notifications are profile changes; CampaignMember, Task and Event ones are engagement, as the
rules' `crm_activity.salesforce` maps them (salesforce_activity.py). Any other object's (an
outbound message on Opportunity, say) is acknowledged and ignored, since a fault would make
Salesforce resend it for 24 hours.

An outbound message carries only the object's own fields, so a CampaignMember's campaign Type
is not in it: with API access the member is read (with `Campaign.Type`) off the webhook.

Salesforce cannot sign outbound messages: the endpoint URL carries a secret `?token=` and the
envelope's OrganizationId must be ours. The reply must be the exact Ack envelope, else Salesforce
retries for 24 hours (out of order, possibly more than once: Notification Id deduplicates).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import defusedxml.ElementTree as defused
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.crm_activity import CrmActivity
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import MEMBER_DIRECTORY, ParsedDelivery, ProfileRef
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, instant, require_secret, same
from .registry import SoapReplies, register
from .salesforce_activity import calendar_event, campaign_member_event, task_event

SOURCE = "salesforce"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
FIELD_MAP = {
    "Email": "email",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Title": "job_title",
    "Company": "company",
    "NumberOfEmployees": "company_size",
    "Industry": "industry",
    "Country": "country",
    "LeadSource": "lead_source",
    "Status": "lead_status",
    "OwnerId": "salesforce_owner_id",
    "AccountId": "salesforce_account_id",  # a Contact's account (a Lead has none until it converts)
}
CONTACT_ONLY = frozenset({"AccountId"})

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)


def fault(message: str, code: str = "soapenv:Client") -> str:
    text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{text}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def verify_token(request: IncomingRequest, token: str) -> None:
    expected = require_secret(token, "Salesforce")
    if not same(expected, request.query.get("token")):
        raise Unauthorized("the ?token= of the outbound message URL is wrong or missing")


def _same_org(expected: str, given: str) -> bool:
    # Setup shows the 15-character org id, messages carry the 18-character one: compare the first 15.
    return bool(expected) and same(expected[:15], given[:15])


def parse(
    request: IncomingRequest, org_id: str, integration_user_id: str = "", mapping: CrmActivity | None = None
) -> ParsedDelivery:
    root = _xml(request.body)
    notifications = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or notifications is None:
        raise BadPayload("not a Salesforce outbound message: no soapenv:Envelope/Body/notifications", "notifications")
    organization = _text(notifications, f"{{{OUTBOUND}}}OrganizationId")
    if not _same_org(org_id, organization or ""):
        raise Unauthorized("OrganizationId is not this deployment's SALESFORCE_ORG_ID")
    items = notifications.findall(f"{{{OUTBOUND}}}Notification")
    if not 1 <= len(items) <= MAX_NOTIFICATIONS:
        raise BadPayload(f"an outbound message carries 1 to 100 notifications, not {len(items)}", "Notification")
    delivery = ParsedDelivery()
    mapping = mapping or CrmActivity()
    # The org's own address (https://<domain>.my.salesforce.com/services/Soap/...): a record's link.
    instance = _text(notifications, f"{{{OUTBOUND}}}EnterpriseUrl") or _text(notifications, f"{{{OUTBOUND}}}PartnerUrl")
    for position, item in enumerate(items):
        _notification(item, position, request.received_at, integration_user_id, mapping, delivery, instance)
    return delivery


def _notification(
    item: ET.Element,
    position: int,
    received_at: datetime,
    own_user: str,
    mapping: CrmActivity,
    delivery: ParsedDelivery,
    instance: str | None = None,
) -> None:
    notification_id = _text(item, f"{{{OUTBOUND}}}Id")
    sobject = item.find(f"{{{OUTBOUND}}}sObject")
    if not notification_id or sobject is None:
        raise BadPayload(f"Notification[{position}] needs an Id and an sObject", f"Notification[{position}]")
    object_type = (sobject.get(f"{{{XSI}}}type") or "").split(":")[-1]
    fields = {child.tag.split("}")[-1]: (child.text or "").strip() for child in sobject}
    if object_type not in ("Lead", "Contact", "CampaignMember", "Task", "Event"):
        delivery.ignored += 1  # an Opportunity's (or any other object's) message: acknowledged, not scored
        return
    if not fields.get("Id"):
        raise BadPayload(f"Notification[{position}].sObject has no sf:Id", f"Notification[{position}].sObject.Id")
    if own_user and fields.get("LastModifiedById", "")[:15] == own_user[:15]:
        delivery.ignored += 1  # our own write-back: never loop
        return
    found: LeadEvent | None
    if object_type in ("Lead", "Contact"):
        when = instant(fields.get("LastModifiedDate"), f"Notification[{position}].LastModifiedDate", received_at)
        found = record_profile_event(fields, object_type, when, event_id=notification_id, instance_url=instance)
    elif object_type == "CampaignMember":
        # Without the campaign's Type only type-less entries can match: read the member if we can.
        guess = campaign_member_event(fields, None, mapping, received_at)
        if guess is not None:
            delivery.unless_read.append((ProfileRef(MEMBER_DIRECTORY, fields["Id"]), guess))
        else:
            delivery.profiles_to_fetch.append(ProfileRef(MEMBER_DIRECTORY, fields["Id"]))
        return
    elif object_type == "Task":
        found = task_event(fields, mapping, received_at)
    else:
        found = calendar_event(fields, mapping, received_at)
    if found is None:
        delivery.ignored += 1  # an open task, an activity on an Account: not a lead's engagement
    else:
        delivery.events.append(found)


def record_profile_event(
    fields: dict[str, Any],
    object_type: str,
    occurred_at: datetime,
    event_id: str | None = None,
    instance_url: str | None = None,
) -> LeadEvent:
    """A Lead's or Contact's fields as a profile event (by default one per record version), with
    where the record lives (its object, and its org's address when the message names it)."""
    record_id = str(fields["Id"])
    patch: dict[str, Any] = {
        attribute: fields[name] for name, attribute in FIELD_MAP.items() if fields.get(name) not in (None, "")
    }
    if str(fields.get("IsConverted", "")).lower() == "true":
        patch["lifecycle_stage"] = "converted"
    patch["salesforce_object"] = object_type
    if instance_url:
        patch["salesforce_url"] = instance_url
    email = patch.get("email") or None
    return LeadEvent(
        event_id=event_id or f"{object_type.lower()}-{record_id}-{fields.get('LastModifiedDate', '')}",
        source=SOURCE,
        type=PROFILE_EVENT,
        occurred_at=occurred_at,
        identities=Identities(salesforce_id=record_id, email=email),
        properties={"profile": patch, "sobject": object_type},
    )


def _xml(body: bytes) -> ET.Element:
    """defusedxml refuses any DTD (so no entity is ever expanded), in whatever encoding the document
    declares, UTF-16 included."""
    try:
        root: ET.Element = defused.fromstring(body, forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise BadPayload("DTDs and entities are not accepted") from exc
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise BadPayload(f"malformed XML: {exc}") from exc
    return root


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _fault(message: str, senders_fault: bool) -> str:
    return fault(message, "soapenv:Client" if senders_fault else "soapenv:Server")


@register("salesforce", soap=SoapReplies(ACK, _fault))
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify_token(request, settings.secret("salesforce_webhook_token"))
    org, own_user = settings.salesforce_org_id, settings.salesforce_integration_user_id
    return parse(request, org, own_user, rules.crm_activity)
