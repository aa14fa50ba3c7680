"""Salesforce REST API: scores written with `PATCH composite/sobjects`, 200 records a call.

Auth is a static `SALESFORCE_ACCESS_TOKEN` or the OAuth client-credentials flow; a 401
INVALID_SESSION_ID refreshes the token once. A lead known only by email is looked up (Lead, then
Contact) once; the id found is returned so the service remembers it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse
from chalicelib.crm.salesforce.session import SalesforceAuth, SalesforceSession

from ..ports import WRITTEN, AccountWriteRequest, WriteRequest, WriteResult, retry_all, retry_keys

__all__ = ["SalesforceAuth", "SalesforceSession", "SalesforceWriter"]

BATCH_LIMIT = 200
API_VERSION = "v60.0"
LOOKUP_LIMIT = 100
# Record errors worth another try; anything else is a problem with the record or the org's setup.
TRANSIENT = {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT"}
NOT_FOUND = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND", "INVALID_ID_FIELD"}


class SalesforceWriter:
    name = "salesforce"

    def __init__(self, session: SalesforceSession, fields: dict[str, str]) -> None:
        self.session = session
        self.fields = fields

    @property
    def client(self) -> JsonClient:
        return self.session.client

    def request(self, method: str, path: str, payload: Any = None) -> JsonResponse:
        return self.session.request(method, path, payload)

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        try:
            found = self._look_up([r.email for r in requests if not r.salesforce_id and r.email])
        except CrmUnavailable as exc:
            return retry_all(requests, str(exc))
        records: list[tuple[WriteRequest, str]] = []
        for request in requests:
            record_id = request.salesforce_id or found.get((request.email or "").lower())
            if record_id:
                records.append((request, record_id))
            else:
                results[request.lead_id] = WriteResult("not_in_crm", "no Salesforce Lead or Contact")
        for start in range(0, len(records), BATCH_LIMIT):
            results.update(self._send(records[start : start + BATCH_LIMIT]))
        for request, record_id in records:
            if not request.salesforce_id and results[request.lead_id].status == "written":
                results[request.lead_id] = WriteResult("written", discovered={"salesforce": record_id})
        return results

    def write_accounts(self, requests: list[AccountWriteRequest]) -> dict[str, WriteResult]:
        """The account score on the Account record, 200 a call (fields created by `crm setup`)."""
        results: dict[str, WriteResult] = {}
        for start in range(0, len(requests), BATCH_LIMIT):
            chunk = requests[start : start + BATCH_LIMIT]
            results.update(self._patch([(request.key, _account_record(request)) for request in chunk]))
        return results

    def _send(self, records: list[tuple[WriteRequest, str]]) -> dict[str, WriteResult]:
        return self._patch([(request.lead_id, self._record(request, record_id)) for request, record_id in records])

    def _patch(self, records: list[tuple[str, dict[str, Any]]]) -> dict[str, WriteResult]:
        """PATCH composite/sobjects: `records` as (our key for it, the record), results by key."""
        keys = [key for key, _ in records]
        body = {"allOrNone": False, "records": [record for _, record in records]}
        try:
            response = self.request("PATCH", f"/services/data/{API_VERSION}/composite/sobjects", body)
        except CrmUnavailable as exc:
            return retry_keys(keys, str(exc))
        if response.status == 200 and isinstance(response.body, list) and len(response.body) == len(records):
            return {key: _result(result) for key, result in zip(keys, response.body, strict=True)}
        if response.status == 401:
            return retry_keys(keys, "Salesforce session invalid", after=300)
        if response.status == 403 and "REQUEST_LIMIT_EXCEEDED" in str(response.body):
            return retry_keys(keys, "Salesforce REQUEST_LIMIT_EXCEEDED", after=900)
        if 400 <= response.status < 500 and response.status != 429:
            return {key: WriteResult("permanent", f"Salesforce {response.status}") for key in keys}
        return retry_keys(keys, f"Salesforce answered {response.status}")

    def _record(self, request: WriteRequest, record_id: str) -> dict[str, Any]:
        card = request.card
        object_type = "Contact" if record_id.startswith("003") else "Lead"  # key prefixes: 00Q Lead, 003 Contact
        record = {
            "attributes": {"type": object_type},
            "id": record_id,
            self.fields["score"]: card.score,
            self.fields["tier"]: card.tier,
            self.fields["grade"]: card.grade,
        }
        if self.fields.get("reasons"):
            record[self.fields["reasons"]] = card.reasons_line()  # Text(255): reasons_line fits it
        if self.fields.get("likelihood") and card.likelihood is not None:
            record[self.fields["likelihood"]] = round(card.likelihood, 4)  # Number(1, 4): 0 to 1
        for named in card.named:  # the rules' named scores, in the same call
            if named.properties.get(self.name):
                record[named.properties[self.name]] = named.score
        if object_type == "Lead":  # crm_actions: a Lead's Status (a Contact has none)
            record.update(request.moves.get(self.name, {}))
        return record

    def _look_up(self, emails: list[str]) -> dict[str, str]:
        """email -> Lead id (or Contact id when no Lead has it), one SOQL query per 100 emails."""
        found: dict[str, str] = {}
        wanted = sorted({email.lower() for email in emails})
        for object_type in ("Lead", "Contact"):
            missing = [email for email in wanted if email not in found]
            for start in range(0, len(missing), LOOKUP_LIMIT):
                quoted = ",".join(_soql_string(email) for email in missing[start : start + LOOKUP_LIMIT])
                soql = f"SELECT Id, Email FROM {object_type} WHERE Email IN ({quoted})"
                response = self.request("GET", f"/services/data/{API_VERSION}/query?q={urllib.parse.quote(soql)}")
                if response.status != 200 or not isinstance(response.body, dict):
                    raise CrmUnavailable(f"Salesforce query answered {response.status}")
                for row in response.body.get("records", []):
                    if row.get("Email"):
                        found.setdefault(str(row["Email"]).lower(), str(row["Id"]))
        return found


# The Account fields `crm setup salesforce` creates.
ACCOUNT_FIELDS = {
    "score": "Account_Score__c",
    "tier": "Account_Tier__c",
    "engaged_contacts": "Account_Engaged_Contacts__c",
    "reasons": "Account_Score_Reasons__c",
}


def _account_record(request: AccountWriteRequest) -> dict[str, Any]:
    card, names = request.card, ACCOUNT_FIELDS
    return {
        "attributes": {"type": "Account"},
        "id": request.record_id,
        names["score"]: card.score,
        names["tier"]: card.tier,
        names["engaged_contacts"]: card.engaged_contacts,
        names["reasons"]: card.reasons_line(),  # Text(255): reasons_line fits it
    }


def _soql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _result(result: dict[str, Any]) -> WriteResult:
    if result.get("success"):
        return WRITTEN
    errors = result.get("errors") or [{}]
    code = str(errors[0].get("statusCode", "UNKNOWN"))
    message = f"{code}: {errors[0].get('message', '')}"
    if code in TRANSIENT:
        return WriteResult("retry", message)
    if code in NOT_FOUND:
        return WriteResult("not_in_crm", message)
    return WriteResult("permanent", message)
