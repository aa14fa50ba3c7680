"""Accounts on a running `make run` with the fake HubSpot (a real local HTTP server): two contacts
of one HubSpot company engage, the account's score counts both with its reasons, and a
`companies/batch/update` reaches the CRM; a Segment `group` call links a lead to an account."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from local.child import make_run
from local.defaults import LOCAL_SECRETS
from local.signing import Signer
from tests.e2e.test_rules_shadow_make_run import _until, crm_environment
from tests.integration.crm_fakes import FakeHubSpotPortal

CONTACTS = [
    {"id": "2001", "updatedAt": "2026-12-01T10:00:00Z", "properties": {
        "email": "ada@initech.example", "firstname": "Ada", "associatedcompanyid": "555"}},
    {"id": "2002", "updatedAt": "2026-12-01T10:00:00Z", "properties": {
        "email": "bo@initech.example", "firstname": "Bo", "associatedcompanyid": "555"}},
]  # fmt: skip


def test_two_contacts_of_a_company_roll_up_and_reach_hubspot_on_make_run(httpserver: Any, tmp_path: Path) -> None:
    company = {"id": "555", "updatedAt": "2026-12-01T09:00:00Z",
               "properties": {"name": "Initech", "numberofemployees": "1200", "industry": "Software"}}  # fmt: skip
    portal = FakeHubSpotPortal(httpserver, CONTACTS, [company])
    with make_run(None, "--reset", **crm_environment(httpserver, tmp_path / "make-run.json")) as url:
        viewer = {"Authorization": f"Bearer {LOCAL_SECRETS['VIEWER_API_KEY']}"}

        def get(path: str) -> Any:
            return requests.get(f"{url}{path}", headers=viewer, timeout=10)

        now_ms = int(time.time() * 1000)
        created = [{"eventId": 9200 + index, "subscriptionId": 1, "portalId": 12345678, "appId": 1,
                    "occurredAt": now_ms, "subscriptionType": "contact.creation", "attemptNumber": 0,
                    "objectId": int(contact["id"]), "changeFlag": "CREATED", "changeSource": "CRM_UI"}
                   for index, contact in enumerate(CONTACTS)]  # fmt: skip
        # The company's creation names it only: its properties are read from HubSpot, from the queue.
        created.append({**created[0], "eventId": 9299, "subscriptionType": "company.creation", "objectId": 555})
        body, headers = Signer(LOCAL_SECRETS, url).hubspot_v3("/webhooks/hubspot", created)
        assert requests.post(f"{url}/webhooks/hubspot", data=body, headers=headers, timeout=10).status_code == 200
        _until("the contacts read from HubSpot", lambda: get("/leads/hubspot:2002").status_code == 200
               and get("/leads/hubspot:2002").json()["account"])  # fmt: skip

        # They engage on the website (Segment, known by email); a third visitor joins a group.
        batch = []
        for user, email, event in (
            ("s1", "ada@initech.example", "Demo Requested"),
            ("s2", "bo@initech.example", "Webinar Attended"),
            ("s3", None, "Trial Started"),
        ):
            if email:
                traits = {"email": email}
                batch.append({"type": "identify", "userId": user, "messageId": f"{user}-id", "traits": traits})
            batch.append({"type": "track", "userId": user, "event": event, "messageId": f"{user}-ev"})
        batch.append({"type": "group", "userId": "s3", "groupId": "grp-make", "messageId": "s3-group",
                      "traits": {"name": "Make Co"}})  # fmt: skip
        reply = requests.post(f"{url}/v1/batch", json={"batch": batch}, auth=(LOCAL_SECRETS["EVENTS_WRITE_KEY"], ""),
                              timeout=30)  # fmt: skip
        assert reply.status_code == 200, reply.text

        def written() -> dict[str, Any] | None:
            for call in reversed(portal.company_updates):  # the latest
                for item in call["inputs"]:
                    if item["id"] == "555" and item["properties"]["account_engaged_contacts"] == "2":
                        return dict(item["properties"])
            return None

        read = {"company": "Initech", "company_size": 1200, "industry": "Software"}
        _until("the company's properties read", lambda: get("/accounts/hubspot:555").json()["profile"] == read)
        _until("the account's companies/batch/update", lambda: written() and written()["account_score"] == str(
            get("/accounts/hubspot:555").json()["score"]))  # fmt: skip
        properties = written()
        assert properties is not None
        account = get("/accounts/hubspot:555").json()
        assert properties["account_score"] == str(account["score"]) and account["engagement"] == 75
        assert account["fit"] == 40  # 1,000+ employees (30) and a target industry (10), read from the company
        assert properties["account_tier"] == account["tier"]
        reasons = properties["account_score_reasons"]
        assert "Ada (+50): Requested a demo" in reasons and "Bo (+25): Attended a webinar" in reasons
        assert sorted(contact["name"] for contact in account["contacts"]) == ["Ada", "Bo"]
        lead = get("/leads/hubspot:2001").json()
        assert lead["account"]["key"] == "hubspot:555" and lead["account"]["score"] == account["score"]

        grouped = get("/leads/user:s3").json()
        assert grouped["account"]["key"] == "group:grp-make" and grouped["account"]["name"] == "Make Co"
        _until("the group's roll-up", lambda: get("/accounts/group:grp-make").json().get("engaged_contacts") == 1)
