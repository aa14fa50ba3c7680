"""Sample deliveries, one set per source, shaped like the vendors' real payloads.

Times are relative to now so decay treats them as fresh; ids are fixed so that replaying the demo
shows deduplication (the second run reports duplicates and changes no score).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def hubspot_events(now: datetime) -> list[dict[str, Any]]:
    def event(event_id: int, contact: int, name: str | None, value: str | None, minutes_ago: int) -> dict[str, Any]:
        base = {
            "eventId": event_id,
            "subscriptionId": 2401,
            "portalId": 62515,
            "appId": 54321,
            "occurredAt": _ms(now - timedelta(minutes=minutes_ago)),
            "attemptNumber": 0,
            "objectId": contact,
            "changeSource": "CRM_UI",
        }
        if name is None:
            return {**base, "subscriptionType": "contact.creation", "changeFlag": "NEW"}
        return {**base, "subscriptionType": "contact.propertyChange", "propertyName": name, "propertyValue": value}

    return [
        event(9001, 1501, None, None, 30),
        event(9002, 1501, "email", "maria.gomez@northwind.example", 30),
        event(9003, 1501, "jobtitle", "VP of Marketing", 29),
        event(9004, 1501, "numemployees", "500-1000", 29),
        event(9005, 1501, "industry", "Computer Software", 29),
        event(9006, 1502, None, None, 20),
        event(9007, 1502, "email", "li.wei@gmail.com", 20),
        event(9008, 1502, "jobtitle", "Student", 20),
        event(9009, 1502, "lead_score", "12", 5),  # our own write-back: ignored, never loops
    ]


def salesforce_envelope(org_id: str, now: datetime) -> str:
    modified = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org_id}</OrganizationId>
   <ActionId>04k5g000000DEMOAAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://demo.my.salesforce.com/services/Soap/c/60.0/00D000000000LOC</EnterpriseUrl>
   <PartnerUrl>https://demo.my.salesforce.com/services/Soap/u/60.0/00D000000000LOC</PartnerUrl>
   <Notification>
    <Id>04l5g00000DEMO1AAA</Id>
    <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q5g00000DEMO1EAA</sf:Id>
     <sf:Email>james.okafor@contoso.example</sf:Email>
     <sf:Title>Director of Sales Operations</sf:Title>
     <sf:Company>Contoso</sf:Company>
     <sf:NumberOfEmployees>1200</sf:NumberOfEmployees>
     <sf:Industry>Financial Services</sf:Industry>
     <sf:Country>United States</sf:Country>
     <sf:LeadSource>Partner Referral</sf:LeadSource>
     <sf:Status>Working - Contacted</sf:Status>
     <sf:LastModifiedDate>{modified}</sf:LastModifiedDate>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def typeform_demo_request(now: datetime) -> dict[str, Any]:
    submitted = (now - timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "event_id": "01HDEMO0TYPEFORM0001",
        "event_type": "form_response",
        "form_response": {
            "form_id": "dEm0Fm",
            "token": "demo0typeform0token0001",
            "landed_at": submitted,
            "submitted_at": submitted,
            "hidden": {},
            "definition": {
                "id": "dEm0Fm",
                "title": "Book a demo",
                "fields": [
                    {"id": "a1", "title": "Work email", "type": "email", "ref": "email"},
                    {"id": "a2", "title": "Job title", "type": "short_text", "ref": "job_title"},
                    {"id": "a3", "title": "Company size", "type": "multiple_choice", "ref": "company_size"},
                ],
            },
            "answers": [
                {"type": "email", "email": "james.okafor@contoso.example", "field": {"id": "a1", "type": "email"}},
                {"type": "text", "text": "Director of Sales Operations", "field": {"id": "a2", "type": "short_text"}},
                {"type": "choice", "choice": {"label": "1000+"}, "field": {"id": "a3", "type": "multiple_choice"}},
            ],
        },
    }


def tally_quote_request(now: datetime) -> dict[str, Any]:
    created = (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "eventId": "7c1d0b5e-demo-4c8e-9a51-tally0000001",
        "eventType": "FORM_RESPONSE",
        "createdAt": created,
        "data": {
            "responseId": "demoTallyResponse1",
            "formId": "mRdemo",
            "formName": "Request a quote",
            "createdAt": created,
            "fields": [
                {
                    "key": "question_email",
                    "label": "Email",
                    "type": "INPUT_EMAIL",
                    "value": "sam.patel@fabrikam.example",
                },
                {"key": "question_role", "label": "Role", "type": "INPUT_TEXT", "value": "Head of Revenue Operations"},
                {"key": "question_size", "label": "Employees", "type": "INPUT_NUMBER", "value": 80},
            ],
        },
    }


def segment_batch(now: datetime) -> dict[str, Any]:
    def at(minutes_ago: int) -> str:
        return (now - timedelta(minutes=minutes_ago)).isoformat()

    anon = "anon-demo-7f3a"
    return {
        "batch": [
            {"type": "page", "messageId": "demo-page-1", "anonymousId": anon, "timestamp": at(90),
             "properties": {"url": "https://www.example.com/pricing", "title": "Pricing"}},
            {"type": "page", "messageId": "demo-page-2", "anonymousId": anon, "timestamp": at(85),
             "properties": {"url": "https://www.example.com/docs/api/webhooks", "duration_seconds": 1140}},
            {"type": "page", "messageId": "demo-page-3", "anonymousId": anon, "timestamp": at(80),
             "properties": {"url": "https://www.example.com/compare/hubspot-scoring"}},
            {"type": "identify", "messageId": "demo-identify-1", "anonymousId": anon, "userId": "usr_sam",
             "timestamp": at(60), "traits": {"email": "sam.patel@fabrikam.example", "country": "Canada"}},
            {"type": "track", "messageId": "demo-email-sent-1", "userId": "usr_sam", "timestamp": at(50),
             "event": "Email Sent", "properties": {"email_id": "nurture-42", "campaign_type": "sales_follow_up"}},
            {"type": "track", "messageId": "demo-email-reply-1", "userId": "usr_sam", "timestamp": at(20),
             "event": "Email Replied", "properties": {"email_id": "nurture-42"}},
            {"type": "track", "messageId": "demo-webinar-1", "anonymousId": "anon-demo-9b21", "timestamp": at(200),
             "event": "Webinar Registered", "context": {"traits": {"email": "li.wei@gmail.com"}}},
            # Segment's B2B SaaS spec, as its page writes it: `action`, no messageId or timestamp
            {"userId": "usr_ana", "action": "track", "event": "Signed Up", "context": {"groupId": "acct_contoso"},
             "properties": {"first_name": "Ana", "last_name": "Silva", "email": "ana.silva@contoso.example",
                            "title": "Head of Revenue Operations"}},
            # names the default rules do not score: `make demo` ends with the report that lists them
            {"type": "track", "messageId": "demo-export-1", "userId": "usr_ana", "timestamp": at(5),
             "event": "Report Exported"},
            {"type": "track", "messageId": "demo-video-pause-1", "userId": "usr_ana", "timestamp": at(4),
             "event": "Video Playback Paused", "properties": {"session_id": "s1", "position": 30}},
        ],
        "sentAt": now.astimezone(UTC).isoformat(),
    }  # fmt: skip
