"""The API calls a CRM reader makes (import, reconciliation, email events), under the CRM's rate
limit: a rolling window paced on our side, a 429 waited out as Retry-After says, a daily limit
reported as QuotaExhausted so the job stops with its cursor kept. Time is injected, so tests
never sleep."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.crm.http_client import JsonResponse
from chalicelib.errors import CrmUnavailable, QuotaExhausted

MAX_RETRIES = 5
LONGEST_WAIT_SECONDS = 120.0  # a longer Retry-After is a quota, not a burst: stop instead


class Requester(Protocol):
    def request(self, method: str, path: str, payload: Any = None) -> JsonResponse: ...


class RateLimit:
    """At most `calls` requests in any `per_seconds` window (HubSpot: 100 per 10 s rolling for a
    private app on Free and Starter, 190 on Professional and Enterprise)."""

    def __init__(
        self,
        calls: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.calls = calls
        self.per_seconds = per_seconds
        self.clock = clock
        self.sleep = sleep
        self.sent: deque[float] = deque()
        self.waited = 0.0

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= self.per_seconds:
            self.sent.popleft()
        if len(self.sent) >= self.calls:
            pause = self.per_seconds - (now - self.sent[0])
            self.pause(pause)
            now = self.clock()
            self.sent.popleft()
        self.sent.append(now)

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)


# (response) -> None, or the reason the daily quota is spent
QuotaCheck = Callable[[JsonResponse], str | None]


class CrmCalls:
    """Paced, counted calls to one CRM: `made` is how many requests this reader sent."""

    def __init__(self, client: Requester, limit: RateLimit, quota: QuotaCheck, name: str) -> None:
        self.client = client
        self.limit = limit
        self.quota = quota
        self.name = name
        self.made = 0

    def request(
        self, method: str, path: str, payload: Any = None, limit: RateLimit | None = None, wait_out: bool = True
    ) -> Any:
        """The JSON body of a 2xx answer; waits out 429s (Retry-After), raises QuotaExhausted on a
        daily limit and CrmUnavailable on anything else. `wait_out` False: a 429 or 5xx is
        CrmUnavailable at once, for a caller on the task queue that retries with the queue's
        backoff rather than sleep inside its Lambda."""
        pacing = limit or self.limit
        for _ in range(MAX_RETRIES if wait_out else 1):
            self.limit.wait()
            if limit is not None:
                limit.wait()
            self.made += 1
            response = self.client.request(method, path, payload)
            if 200 <= response.status < 300:
                return response.body
            spent = self.quota(response)
            if spent:
                raise QuotaExhausted(f"{self.name}: {spent}", header_seconds(response.headers.get("retry-after")))
            if (response.status == 429 or response.status >= 500) and wait_out:
                wait = header_seconds(response.headers.get("retry-after")) or (10.0 if response.status == 429 else 2.0)
                if wait > LONGEST_WAIT_SECONDS:
                    raise QuotaExhausted(f"{self.name}: asked to wait {wait:.0f} s", wait)
                pacing.pause(wait)
                continue
            raise CrmUnavailable(f"{self.name} answered {response.status} to {method} {path.split('?')[0]}")
        raise CrmUnavailable(f"{self.name} kept refusing {method} {path.split('?')[0]}")


class PacedReader:
    """What the record readers share: their calls go through one CrmCalls, which counts them."""

    calls: CrmCalls

    @property
    def calls_made(self) -> int:
        return self.calls.made


def header_seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def hubspot_quota(response: JsonResponse) -> str | None:
    body = response.body if isinstance(response.body, dict) else {}
    if response.status == 429 and body.get("policyName") == "DAILY":
        return "the daily API limit is spent"
    return None


def salesforce_quota(response: JsonResponse) -> str | None:
    body = response.body
    errors = body if isinstance(body, list) else [body]
    if response.status == 403 and any(
        isinstance(error, dict) and error.get("errorCode") == "REQUEST_LIMIT_EXCEEDED" for error in errors
    ):
        return "REQUEST_LIMIT_EXCEEDED (the org's 24-hour API limit)"
    return None
