"""HubSpot CRM API, outbound: scores written back to contacts in batches of 100 (the properties
are created once by setup.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse

from ..pacing import header_seconds
from ..ports import WRITTEN, AccountWriteRequest, WriteRequest, WriteResult, retry_keys

BATCH_LIMIT = 100
GROUP = "leadscore"
CONTACTS = "/crm/v3/objects/contacts/batch/update"
COMPANIES = "/crm/v3/objects/companies/batch/update"
# The company properties `crm setup hubspot` creates (group leadscore), whatever the lead prefix.
ACCOUNT_PROPERTIES = {
    "score": "account_score",
    "tier": "account_tier",
    "engaged_contacts": "account_engaged_contacts",
    "reasons": "account_score_reasons",
}
Input = tuple[str, dict[str, Any]]  # (our key for it: a lead id or an account key, the batch input)


def property_names(prefix: str) -> dict[str, str]:
    return {
        "score": f"{prefix}score",
        "fit": f"{prefix}score_fit",
        "engagement": f"{prefix}score_engagement",
        "tier": f"{prefix}tier",
        "grade": f"{prefix}grade",
        "tier_changed_at": f"{prefix}tier_changed_at",
        "reasons": f"{prefix}score_reasons",
        "likelihood": f"{prefix}score_likelihood",
    }


class HubSpotWriter:
    """POST /crm/v3/objects/contacts/batch/update, by contact id or `idProperty: email`."""

    name = "hubspot"

    def __init__(
        self,
        client: JsonClient,
        prefix: str = "lead_",
        clock: Callable[[], datetime] | None = None,
        reasons: bool = True,
    ) -> None:
        self.client = client
        self.names = property_names(prefix)
        self.reasons = reasons  # `crm setup hubspot` creates the property; off for a portal without it
        self.clock = clock or (lambda: datetime.now(UTC))

    def _input(self, request: WriteRequest) -> dict[str, Any] | None:
        card, names = request.card, self.names
        properties = {
            names["score"]: str(card.score),
            names["fit"]: str(card.fit),
            names["engagement"]: str(card.engagement),
            names["tier"]: card.tier,
            names["grade"]: card.grade,
        }
        if request.tier_changed_at:
            properties[names["tier_changed_at"]] = hubspot_datetime(request.tier_changed_at)
        if self.reasons:
            properties[names["reasons"]] = card.reasons_line()
        if card.likelihood is not None:  # only rules with a calibration (a fitted file) give one
            properties[names["likelihood"]] = f"{card.likelihood:.4f}"
        for named in card.named:  # the rules' named scores, in the same batch call
            if named.properties.get(self.name):
                properties[named.properties[self.name]] = str(named.score)
        properties.update(request.moves.get(self.name, {}))  # crm_actions: the lifecycle stage forward
        if request.hubspot_id:
            return {"id": request.hubspot_id, "properties": properties}
        if request.email:
            return {"id": request.email, "idProperty": "email", "properties": properties}
        return None

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        addressed: list[Input] = []
        for request in requests:
            item = self._input(request)
            if item is None:
                results[request.lead_id] = WriteResult("not_in_crm", "no HubSpot id or email")
            else:
                addressed.append((request.lead_id, item))
        return {**results, **self._batches(CONTACTS, addressed)}

    def write_accounts(self, requests: list[AccountWriteRequest]) -> dict[str, WriteResult]:
        """POST /crm/v3/objects/companies/batch/update, by company id."""
        names = ACCOUNT_PROPERTIES
        addressed = []
        for request in requests:
            card = request.card
            properties = {names["score"]: str(card.score), names["tier"]: card.tier,
                          names["engaged_contacts"]: str(card.engaged_contacts)}  # fmt: skip
            if self.reasons:
                properties[names["reasons"]] = card.reasons_line()
            addressed.append((request.key, {"id": request.record_id, "properties": properties}))
        return self._batches(COMPANIES, addressed)

    def _batches(self, path: str, addressed: list[Input]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        for start in range(0, len(addressed), BATCH_LIMIT):
            results.update(self._send(path, addressed[start : start + BATCH_LIMIT]))
            if any(result.reason.startswith("HubSpot DAILY") for result in results.values()):
                # The daily quota is spent: every further call would fail too until it resets.
                rest = [key for key, _ in addressed[start + BATCH_LIMIT :]]
                results.update(retry_keys(rest, "HubSpot DAILY limit", self._until_reset()))
                break
        return results

    def _send(self, path: str, chunk: list[Input]) -> dict[str, WriteResult]:
        keys = [key for key, _ in chunk]
        try:
            response = self.client.request("POST", path, {"inputs": [item for _, item in chunk]})
        except CrmUnavailable as exc:
            return retry_keys(keys, str(exc))
        if response.status == 200:
            return dict.fromkeys(keys, WRITTEN)
        if response.status == 207:
            return self._per_record(chunk, response)
        if response.status == 429:
            return self._rate_limited(keys, response)
        if response.status in (401, 403):
            # A bad or revoked token is fixed by a person: keep the updates until then.
            return retry_keys(keys, f"HubSpot refused the token ({response.status})", after=300)
        if 400 <= response.status < 500:
            if len(chunk) == 1:
                return {keys[0]: WriteResult("permanent", error_message(response))}
            # One bad input fails the whole batch: split it to find which, and write the rest.
            middle = len(chunk) // 2
            return {**self._send(path, chunk[:middle]), **self._send(path, chunk[middle:])}
        return retry_keys(keys, f"HubSpot answered {response.status}")

    def _per_record(self, chunk: list[Input], response: JsonResponse) -> dict[str, WriteResult]:
        results = {key: WRITTEN for key, _ in chunk}
        by_id = {str(item["id"]): key for key, item in chunk}
        for error in (response.body or {}).get("errors", []) if isinstance(response.body, dict) else []:
            category = str(error.get("category", ""))
            ids = (error.get("context") or {}).get("ids") or []
            for failed_id in ids:
                key = by_id.get(str(failed_id))
                if key is None:
                    continue
                if category == "OBJECT_NOT_FOUND":
                    results[key] = WriteResult("not_in_crm", category)
                elif category in ("RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"):
                    results[key] = WriteResult("retry", category)
                else:
                    results[key] = WriteResult("permanent", f"{category}: {error.get('message', '')}")
        return results

    def _rate_limited(self, keys: list[str], response: JsonResponse) -> dict[str, WriteResult]:
        policy = str((response.body or {}).get("policyName", "")) if isinstance(response.body, dict) else ""
        retry_after = header_seconds(response.headers.get("retry-after"))
        if policy == "DAILY":
            return retry_keys(keys, "HubSpot DAILY limit", retry_after or self._until_reset())
        return retry_keys(keys, f"HubSpot {policy or 'rate'} limit", retry_after or 10.0)

    def _until_reset(self) -> float:
        # HubSpot resets the daily quota at midnight in the account's time zone: wait for the next
        # UTC midnight and a margin (a few hours early or late at worst, never a lost update).
        now = self.clock()
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return (midnight - now).total_seconds() + 300


def hubspot_datetime(iso: str) -> str:
    """HubSpot documents datetime property values as UTC ISO 8601 with milliseconds and `Z`."""
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_message(response: JsonResponse) -> str:
    body = response.body if isinstance(response.body, dict) else {}
    return f"HubSpot {response.status} {body.get('category', '')}: {body.get('message', '')}".strip()
