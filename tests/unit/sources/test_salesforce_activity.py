"""Salesforce engagement in outbound messages on Task and Event: a completed email task is a reply,
a completed call a sales call, a meeting on a Lead or Contact is booked; an open task, or one on an
Account, earns nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import SECRETS
from tests.payloads import envelope, notification
from tests.unit.sources.conftest import of_lead, receive, understood

NOW = datetime.now(UTC).replace(microsecond=0)
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def sf_time(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_completed_tasks_and_meetings_on_a_lead_or_contact_count() -> None:
    body = envelope(
        notification("04l1", "00T5g00000T1", "Task", WhoId="00Q5g00000L1", TaskSubtype="Email", Status="Completed",
                     CompletedDateTime=sf_time(1)),
        notification("04l2", "00T5g00000T2", "Task", WhoId="00Q5g00000L1", TaskSubtype="Call", Status="Completed",
                     CompletedDateTime=sf_time(1)),
        notification("04l3", "00T5g00000T3", "Task", WhoId="00Q5g00000L1", TaskSubtype="Call", Status="Not Started"),
        notification("04l4", "00T5g00000T4", "Task", WhoId="0015g00000A1", TaskSubtype="Call", Status="Completed"),
        notification("04l5", "00U5g00000E1", "Event", WhoId="0035g00000C1", Type="Meeting", StartDateTime=sf_time(2)),
    )  # fmt: skip
    events = receive("salesforce", "/webhooks/salesforce", body, XML,
                     query={"token": SECRETS["SALESFORCE_WEBHOOK_TOKEN"]}).events  # fmt: skip
    assert understood(of_lead(events, "salesforce:00Q5g00000L1"))["points"] == {"email_reply": 30, "sales_call": 15}
    assert understood(of_lead(events, "salesforce:0035g00000C1"))["points"] == {"meeting_booked": 40}
    assert of_lead(events, "salesforce:0015g00000A1") == []  # an Account is not a lead
