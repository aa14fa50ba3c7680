"""HubSpot's owners, id -> name and email, for the leads' `owner` and alert routing: `GET
/crm/v3/owners` a page of 500 at a time (`paging.next.after`), the archived ones too (a lead may
still name an owner who left)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalicelib.service_layer.owners import Owner

from ..pacing import CrmCalls

PAGE = 500
MAX_PAGES = 40  # 20,000 owners: far beyond any portal, and a bound on a misbehaving API


class HubSpotOwners:
    crm = "hubspot"

    def __init__(self, calls: CrmCalls) -> None:
        self.calls = calls

    def owners(self) -> dict[str, Owner]:
        found: dict[str, Owner] = {}
        for archived in ("false", "true"):
            after: str | None = None
            for _ in range(MAX_PAGES):
                path = f"/crm/v3/owners?limit={PAGE}&archived={archived}" + (f"&after={quote(after)}" if after else "")
                body = self.calls.request("GET", path)
                for owner in _results(body):
                    name = " ".join(str(owner.get(part) or "").strip() for part in ("firstName", "lastName")).strip()
                    email = str(owner.get("email") or "")
                    found.setdefault(str(owner["id"]), Owner(name or email, email))
                after = _after(body)
                if after is None:
                    break
        return {owner: known for owner, known in found.items() if known.name}


def _results(body: Any) -> list[dict[str, Any]]:
    found = body.get("results") if isinstance(body, dict) else None
    return [item for item in found if isinstance(item, dict) and item.get("id")] if isinstance(found, list) else []


def _after(body: Any) -> str | None:
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after else None
