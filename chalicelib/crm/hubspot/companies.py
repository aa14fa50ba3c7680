"""HubSpot companies, inbound: a company a `company.creation` webhook named (without its
properties) read with `POST /crm/v3/objects/companies/batch/read`, 100 a call, as the account
changes its properties make (sources/hubspot.py maps them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.crm.pacing import CrmCalls
from chalicelib.service_layer.commands import CompanyChange
from chalicelib.sources.hubspot import COMPANY_PROPERTY_MAP

from .contacts import BATCH_LIMIT, batch_results


class HubSpotCompanies:
    def __init__(self, calls: CrmCalls) -> None:
        self.calls = calls

    def read_companies(self, record_ids: Sequence[str]) -> list[CompanyChange]:
        changes = []
        for start in range(0, len(record_ids), BATCH_LIMIT):
            chunk = record_ids[start : start + BATCH_LIMIT]
            body = self.calls.request(
                "POST",
                "/crm/v3/objects/companies/batch/read",
                {"properties": [*COMPANY_PROPERTY_MAP, "hs_lastmodifieddate"], "inputs": [{"id": i} for i in chunk]},
                wait_out=False,  # on the task queue: a refusal is retried with the queue's backoff
            )
            for item in batch_results(body):
                if "id" not in item:
                    continue
                properties = item.get("properties") or {}
                profile = {attribute: properties.get(name) for name, attribute in COMPANY_PROPERTY_MAP.items()}
                changes.append(CompanyChange(f"hubspot:{item['id']}", _modified(item), profile))
        return changes


def _modified(company: dict[str, Any]) -> datetime:
    found = company.get("updatedAt") or (company.get("properties") or {}).get("hs_lastmodifieddate")
    try:
        return datetime.fromisoformat(str(found).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
