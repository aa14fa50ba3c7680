"""Pipedrive's write-back: score, tier, grade and reasons into the person's custom fields
(`PATCH /v2/persons/{id}` with `custom_fields`, keyed by the fields' keys, read by name once).

Pipedrive has no batch update for persons: a write-back run sends one request per changed lead,
paced under the token's burst limit (PIPEDRIVE_REQUESTS_PER_2S a 2-second window); a 429 stops the
run and hands every lead not yet written back to the queue for after the wait Pipedrive asks
for, so a burst never spends the daily token budget on refusals."""

from __future__ import annotations

from typing import Any

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse
from chalicelib.settings import Settings

from ..pacing import CrmCalls, RateLimit, header_seconds
from ..ports import WRITTEN, WriteRequest, WriteResult, retry_keys
from .fields import field_keys


def pipedrive_calls(settings: Settings, read_timeout: float) -> CrmCalls:
    """Paced, counted calls to Pipedrive's API (`x-api-token`), under this caller's share of the
    token's burst limit."""
    client = JsonClient(settings.pipedrive_api, settings.secret_source("pipedrive_api_token"),
                        read_timeout=read_timeout, crm="pipedrive", token_header="x-api-token")  # fmt: skip
    limit = RateLimit(settings.pipedrive_requests_per_2s // settings.crm_callers or 1, 2.0)
    return CrmCalls(client, limit, pipedrive_quota, "Pipedrive")


SETUP_HINT = "Pipedrive has no leadscore person fields: run `leadscore crm setup pipedrive`"


class PipedriveWriter:
    name = "pipedrive"

    def __init__(self, calls: CrmCalls) -> None:
        self.calls = calls
        self.client = calls.client
        self.limit = calls.limit
        self._keys: dict[str, str] = {}

    def keys(self) -> dict[str, str]:
        if not self._keys:
            self._keys = field_keys(self.calls, wait_out=False)
        return self._keys

    def fields(self, request: WriteRequest, keys: dict[str, str]) -> dict[str, Any]:
        card = request.card
        values: dict[str, Any] = {"score": card.score, "tier": card.tier, "grade": card.grade,
                                  "reasons": card.reasons_line()}  # fmt: skip
        return {keys[name]: value for name, value in values.items() if name in keys}

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]:
        results = {
            r.lead_id: WriteResult("not_in_crm", "no Pipedrive person id") for r in requests if not r.pipedrive_id
        }
        addressed = [request for request in requests if request.pipedrive_id]
        if not addressed:
            return results
        try:
            keys = self.keys()
        except CrmUnavailable as exc:
            return {**results, **retry_keys([r.lead_id for r in addressed], str(exc))}
        if not keys:
            return {**results, **retry_keys([r.lead_id for r in addressed], SETUP_HINT, after=300)}
        for position, request in enumerate(addressed):
            result = self._send(request, keys)
            results[request.lead_id] = result
            if result.status == "retry":  # a limit, a refused token, Pipedrive down: the rest wait too
                rest = [later.lead_id for later in addressed[position + 1 :]]
                results.update(retry_keys(rest, result.reason, result.retry_after))
                break
        return results

    def _send(self, request: WriteRequest, keys: dict[str, str]) -> WriteResult:
        self.limit.wait()
        try:
            response = self.client.request(
                "PATCH", f"/v2/persons/{request.pipedrive_id}", {"custom_fields": self.fields(request, keys)}
            )
        except CrmUnavailable as exc:
            return WriteResult("retry", str(exc))
        if 200 <= response.status < 300:
            return WRITTEN
        if response.status == 404:
            return WriteResult("not_in_crm", "the person is no longer in Pipedrive")
        if response.status == 429:
            return WriteResult("retry", pipedrive_quota(response) or "Pipedrive rate limit", wait_of(response))
        if response.status in (401, 403):
            return WriteResult("retry", f"Pipedrive refused the token ({response.status})", 300)
        if 400 <= response.status < 500:
            return WriteResult("permanent", error_message(response))
        return WriteResult("retry", f"Pipedrive answered {response.status}")


def wait_of(response: JsonResponse) -> float:
    """Seconds Pipedrive asks us to wait: Retry-After, else its rate-limit window's reset, else
    the 2-second burst window."""
    headers = response.headers
    return header_seconds(headers.get("retry-after")) or header_seconds(headers.get("x-ratelimit-reset")) or 2.0


def pipedrive_quota(response: JsonResponse) -> str | None:
    """The daily token budget spent (a 429 that names it, or no daily requests left)."""
    if response.status != 429:
        return None
    left = response.headers.get("x-daily-requests-left")
    text = str((response.body or {}).get("error", "")) if isinstance(response.body, dict) else ""
    if left == "0" or "daily" in text.lower():
        return "Pipedrive daily API budget spent"
    return None


def error_message(response: JsonResponse) -> str:
    body = response.body if isinstance(response.body, dict) else {}
    return f"Pipedrive answered {response.status}: {str(body.get('error') or body.get('message') or '')[:200]}"
