"""Vendor payloads the tests build, as each vendor sends them: Salesforce outbound messages, a
Typeform response."""

from __future__ import annotations

from tests.conftest import SECRETS


def notification(notification_id: str, record_id: str, object_type: str = "Lead", **fields: str) -> str:
    cells = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in {"Id": record_id, **fields}.items())
    return (
        f"<Notification><Id>{notification_id}</Id>"
        f'<sObject xsi:type="sf:{object_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{cells}</sObject>'
        "</Notification>"
    )


def envelope(*notifications: str, org: str | None = None) -> str:
    org_id = org or SECRETS["SALESFORCE_ORG_ID"]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId>"
        "<ActionId>04k5g000000XXXXAAA</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/60.0/00D5g000004abcd</EnterpriseUrl>"
        "<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/60.0/00D5g000004abcd</PartnerUrl>"
        f"{''.join(notifications)}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    )


def typeform_payload(token: str = "a3a12ec67a1365927098a606107fac15", title: str = "Book a demo") -> dict:
    return {
        "event_id": "LtWXD3crgy",
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": token,
            "landed_at": "2026-11-22T09:58:00Z",
            "submitted_at": "2026-11-22T10:00:00Z",
            "hidden": {"utm_source": "newsletter"},
            "definition": {
                "id": "lT4Z3j",
                "title": title,
                "fields": [
                    {"id": "f1", "title": "Work email", "type": "email", "ref": "01FKQZ2EE"},
                    {"id": "f2", "title": "What is your job title?", "type": "short_text", "ref": "title"},
                    {"id": "f3", "title": "How many employees?", "type": "multiple_choice", "ref": "size"},
                    {"id": "f4", "title": "Which country are you in?", "type": "dropdown", "ref": "country"},
                ],
            },
            "answers": [
                {
                    "type": "email",
                    "email": "Lena@Hooli.com",
                    "field": {"id": "f1", "type": "email", "ref": "01FKQZ2EE"},
                },
                {"type": "text", "text": "Head of Growth", "field": {"id": "f2", "type": "short_text", "ref": "title"}},
                {"type": "choice", "choice": {"label": "100-500"}, "field": {"id": "f3", "type": "multiple_choice"}},
                {"type": "choice", "choice": {"label": "Germany"}, "field": {"id": "f4", "type": "dropdown"}},
            ],
        },
    }
