"""Salesforce's owners, id -> name (and a user's email), for the leads' `owner` and alert routing:
a Lead or Contact is owned by a User or, for Leads, a queue (a Group of Type Queue). Two SOQL
queries through the query API, following `nextRecordsUrl`; inactive users too (a lead may still be
theirs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalicelib.service_layer.owners import Owner

from ..pacing import CrmCalls
from .records import API

QUERIES = ("SELECT Id, Name, Email FROM User", "SELECT Id, Name FROM Group WHERE Type = 'Queue'")
MAX_PAGES = 20


class SalesforceOwners:
    crm = "salesforce"

    def __init__(self, calls: CrmCalls) -> None:
        self.calls = calls

    def owners(self) -> dict[str, Owner]:
        found: dict[str, Owner] = {}
        for soql in QUERIES:
            path: str | None = f"{API}/query?q={quote(soql)}"
            for _ in range(MAX_PAGES):
                if path is None:
                    break
                body = self.calls.request("GET", path)
                for record in _records(body):
                    found[str(record["Id"])] = Owner(str(record.get("Name") or ""), str(record.get("Email") or ""))
                following = body.get("nextRecordsUrl") if isinstance(body, dict) else None
                path = str(following) if following and not body.get("done", True) else None
        named = {owner: known for owner, known in found.items() if known.name}
        # Records name owners by 18-character ids, some older integrations by the 15-character form.
        return {**{owner[:15]: name for owner, name in named.items()}, **named}


def _records(body: Any) -> list[dict[str, Any]]:
    found = body.get("records") if isinstance(body, dict) else None
    return [item for item in found if isinstance(item, dict) and item.get("Id")] if isinstance(found, list) else []
