"""Meetings booked on a running `make run`, black-box over HTTP: a signed Calendly
`invitee.created` gives the invitee a booked meeting (and their answers a profile), the matching
`invitee.canceled` takes it back, both on the lead's activity; a Cal.com booking and its
reschedule are one meeting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from local.child import make_run
from local.defaults import LOCAL_SECRETS
from local.signing import Signer

FIXTURES = Path(__file__).parents[1] / "fixtures"
VIEWER = {"Authorization": f"Bearer {LOCAL_SECRETS['VIEWER_API_KEY']}"}


def _post(url: str, path: str, signed: tuple[str, dict[str, str]]) -> dict[str, Any]:
    body, headers = signed
    reply = requests.post(f"{url}{path}", data=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _meeting_points(url: str, key: str) -> float:
    lead = requests.get(f"{url}/leads/{key}", headers=VIEWER, timeout=10).json()
    return sum(item["points_now"] for item in lead["card"]["contributions"] if item["rule"] == "meeting_booked")


def test_a_calendly_booking_and_its_cancellation_and_a_calcom_reschedule() -> None:
    with make_run(None, "--reset") as url:
        signer = Signer(LOCAL_SECRETS, url)
        created = (FIXTURES / "calendly" / "invitee-created.json").read_text()
        assert _post(url, "/webhooks/calendly", signer.calendly(created))["accepted"] == 2
        lead = requests.get(f"{url}/leads/email:priya@northwind.io", headers=VIEWER, timeout=10).json()
        assert lead["profile"]["company"] == "Northwind Analytics" and lead["profile"]["job_title"] == "VP of Sales"
        assert _meeting_points(url, "email:priya@northwind.io") == 40

        cancelled = (FIXTURES / "calendly" / "invitee-canceled.json").read_text()
        assert _post(url, "/webhooks/calendly", signer.calendly(cancelled))["accepted"] == 1
        assert _post(url, "/webhooks/calendly", signer.calendly(cancelled))["duplicates"] == 1  # a retry
        assert _meeting_points(url, "email:priya@northwind.io") == 0
        activity = requests.get(f"{url}/leads/email:priya@northwind.io/activity", headers=VIEWER, timeout=10).json()
        assert [(line["title"], line["note"]) for line in activity["activity"]] == [
            ("Cancelled 'Product demo'", "takes back the booking's points"),
            ("Booked 'Product demo'", "cancelled: worth nothing"),
        ]

        for name in ("booking-created", "booking-rescheduled"):
            payload = json.loads((FIXTURES / "calcom" / f"{name}.json").read_text())
            _post(url, "/webhooks/calcom", signer.calcom(payload))
        assert _meeting_points(url, "email:tomas@fjordlabs.no") == 40
