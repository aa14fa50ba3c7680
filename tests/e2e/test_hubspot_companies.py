"""HubSpot company webhooks end to end (signed as HubSpot signs, verified like contact ones): a
company's properties feed its account's profile and fit; a merge moves its contacts to the company
that remains and a deletion to their next account, and no contact loses its score."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import SECRETS, json_body
from tests.e2e.test_hubspot import hubspot_event, post
from tests.integration.crm_fakes import Worker


def company(event_id: int, kind: str, company_id: int, **extra: Any) -> dict[str, Any]:
    return hubspot_event(event_id, kind, company_id, **extra)


def get(client: Any, path: str) -> Any:
    return json_body(client.http.get(path, headers={"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}))


def _contacts_engage(client: Any) -> None:
    changes = [
        hubspot_event(11, "contact.propertyChange", 601, propertyName="email", propertyValue="ada@initech.com"),
        hubspot_event(12, "contact.propertyChange", 601, propertyName="associatedcompanyid", propertyValue="555"),
        hubspot_event(13, "contact.propertyChange", 602, propertyName="email", propertyValue="grace@initech.com"),
        hubspot_event(14, "contact.propertyChange", 602, propertyName="associatedcompanyid", propertyValue="555"),
    ]
    assert post(client, changes).status_code == 200
    now = datetime.now(UTC)
    demos = [LeadEvent(event_id=f"demo-{contact}", source="segment", type="Demo Requested", occurred_at=now,
                       identities=Identities(hubspot_id=contact)) for contact in ("601", "602")]  # fmt: skip
    container().ingestion.ingest(ParsedDelivery(events=demos), now)


def test_company_properties_feed_the_accounts_profile_and_fit(client: Any) -> None:
    properties = [("name", "Initech"), ("numberofemployees", "5000"), ("industry", "Software"), ("country", "US"),
                  ("account_score", "999"), ("hs_lastmodifieddate", "1")]  # fmt: skip
    payload = [company(100 + index, "company.propertyChange", 555, propertyName=name, propertyValue=value)
               for index, (name, value) in enumerate(properties)]  # fmt: skip
    payload.append(company(120, "object.propertyChange", 556, objectTypeId="0-2", propertyName="name",
                           propertyValue="Globex"))  # fmt: skip
    reply = post(client, payload)
    assert reply.status_code == 200 and json_body(reply)["ignored"] == 2  # our own property, and one not scored
    _contacts_engage(client)
    Worker().drain()
    account = get(client, "/accounts/hubspot:555")
    assert account["name"] == "Initech" and account["via"] == "HubSpot company"
    assert account["profile"] == {"company": "Initech", "company_size": 5000, "industry": "Software", "country": "US"}
    assert account["fit"] == 45  # 1,000+ employees, a target industry and country
    assert account["engaged_contacts"] == 2 and account["engagement"] == 100
    assert get(client, "/accounts/hubspot:556")["name"] == "Globex"  # the generic format, objectTypeId 0-2

    # An older change delivered late never overwrites a newer one.
    stale = company(130, "company.propertyChange", 555, propertyName="name", propertyValue="Initech (old)")
    stale["occurredAt"] = int(time.time() * 1000) - 3_600_000
    assert post(client, [stale]).status_code == 200
    assert get(client, "/accounts/hubspot:555")["name"] == "Initech"


def test_a_merge_moves_the_contacts_and_a_deletion_moves_them_on(client: Any) -> None:
    _contacts_engage(client)
    Worker().drain()
    scores = {contact: get(client, f"/leads/hubspot:{contact}")["score"] for contact in ("601", "602")}
    assert get(client, "/accounts/hubspot:555")["engaged_contacts"] == 2

    merge = company(200, "company.merge", 777, primaryObjectId=777, mergedObjectIds=[555], newObjectId=777)
    assert post(client, [merge]).status_code == 200
    Worker().drain()
    survivor = get(client, "/accounts/hubspot:777")
    assert sorted(contact["email"] for contact in survivor["contacts"]) == ["ada@initech.com", "grace@initech.com"]
    assert survivor["engaged_contacts"] == 2
    merged = get(client, "/accounts/hubspot:555")
    assert merged["contacts"] == [] and merged["score"] is None
    assert [row["key"] for row in get(client, "/accounts")["accounts"]] == ["hubspot:777"]

    assert post(client, [company(201, "company.deletion", 777)]).status_code == 200
    Worker().drain()
    for contact in ("601", "602"):
        lead = get(client, f"/leads/hubspot:{contact}")
        assert lead["account"]["key"] == "domain:initech.com" and lead["score"] == scores[contact]
    assert get(client, "/accounts/domain:initech.com")["engaged_contacts"] == 2
    assert get(client, "/accounts/hubspot:777")["contacts"] == []


def test_a_company_webhook_with_a_bad_signature_stores_nothing(client: Any) -> None:
    from tests import signing

    body, headers = signing.hubspot_v3("/webhooks/hubspot", [company(300, "company.creation", 900)])
    headers["X-HubSpot-Signature-v3"] = "AAAA" + headers["X-HubSpot-Signature-v3"][4:]
    assert client.http.post("/webhooks/hubspot", body=body, headers=headers).status_code == 401
    assert container().storage.accounts.get("hubspot:900") is None
    assert post(client, [company(301, "company.creation", 900)]).status_code == 200
    assert container().storage.accounts.get("hubspot:900") is not None
