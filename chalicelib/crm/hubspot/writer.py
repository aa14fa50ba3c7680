"""HubSpot CRM API, outbound: scores written back to contacts in batches of 100 (the properties
are created once by setup.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse

from ..ports import WRITTEN, WriteRequest, WriteResult, retry_all

BATCH_LIMIT = 100
GROUP = "leadscore"


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
        properties.update(request.moves.get(self.name, {}))  # crm_actions: the lifecycle stage forward
        if request.hubspot_id:
            return {"id": request.hubspot_id, "properties": properties}
        if request.email:
            return {"id": request.email, "idProperty": "email", "properties": properties}
        return None

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        addressed: list[tuple[WriteRequest, dict[str, Any]]] = []
        for request in requests:
            item = self._input(request)
            if item is None:
                results[request.lead_id] = WriteResult("not_in_crm", "no HubSpot id or email")
            else:
                addressed.append((request, item))
        for start in range(0, len(addressed), BATCH_LIMIT):
            chunk = addressed[start : start + BATCH_LIMIT]
            results.update(self._send(chunk))
            if any(result.reason.startswith("HubSpot DAILY") for result in results.values()):
                # The daily quota is spent: every further call would fail too until it resets.
                rest = [request for request, _ in addressed[start + BATCH_LIMIT :]]
                results.update(retry_all(rest, "HubSpot DAILY limit", self._until_reset()))
                break
        return results

    def _send(self, chunk: list[tuple[WriteRequest, dict[str, Any]]]) -> dict[str, WriteResult]:
        requests = [request for request, _ in chunk]
        try:
            response = self.client.request(
                "POST", "/crm/v3/objects/contacts/batch/update", {"inputs": [item for _, item in chunk]}
            )
        except CrmUnavailable as exc:
            return retry_all(requests, str(exc))
        if response.status == 200:
            return {request.lead_id: WRITTEN for request in requests}
        if response.status == 207:
            return self._per_record(chunk, response)
        if response.status == 429:
            return self._rate_limited(requests, response)
        if response.status in (401, 403):
            # A bad or revoked token is fixed by a person: keep the updates until then.
            return retry_all(requests, f"HubSpot refused the token ({response.status})", after=300)
        if 400 <= response.status < 500:
            if len(chunk) == 1:
                return {requests[0].lead_id: WriteResult("permanent", error_message(response))}
            # One bad input fails the whole batch: split it to find which, and write the rest.
            middle = len(chunk) // 2
            return {**self._send(chunk[:middle]), **self._send(chunk[middle:])}
        return retry_all(requests, f"HubSpot answered {response.status}")

    def _per_record(
        self, chunk: list[tuple[WriteRequest, dict[str, Any]]], response: JsonResponse
    ) -> dict[str, WriteResult]:
        results = {request.lead_id: WRITTEN for request, _ in chunk}
        by_id = {str(item["id"]): request for request, item in chunk}
        for error in (response.body or {}).get("errors", []) if isinstance(response.body, dict) else []:
            category = str(error.get("category", ""))
            ids = (error.get("context") or {}).get("ids") or []
            for failed_id in ids:
                request = by_id.get(str(failed_id))
                if request is None:
                    continue
                if category == "OBJECT_NOT_FOUND":
                    results[request.lead_id] = WriteResult("not_in_crm", category)
                elif category in ("RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"):
                    results[request.lead_id] = WriteResult("retry", category)
                else:
                    results[request.lead_id] = WriteResult("permanent", f"{category}: {error.get('message', '')}")
        return results

    def _rate_limited(self, requests: list[WriteRequest], response: JsonResponse) -> dict[str, WriteResult]:
        policy = str((response.body or {}).get("policyName", "")) if isinstance(response.body, dict) else ""
        retry_after = _seconds(response.headers.get("retry-after"))
        if policy == "DAILY":
            return retry_all(requests, "HubSpot DAILY limit", retry_after or self._until_reset())
        return retry_all(requests, f"HubSpot {policy or 'rate'} limit", retry_after or 10.0)

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


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_message(response: JsonResponse) -> str:
    body = response.body if isinstance(response.body, dict) else {}
    return f"HubSpot {response.status} {body.get('category', '')}: {body.get('message', '')}".strip()
