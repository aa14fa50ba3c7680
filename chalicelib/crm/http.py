"""The one HTTP client the CRM adapters share: JSON in and out over urllib3 (already in the
Lambda runtime through botocore), with timeouts that fit inside a webhook's 10 s budget."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class CrmUnavailable(Exception):
    """The CRM did not answer usefully; the caller should let the sender retry later."""


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: Any
    headers: dict[str, str]


class JsonClient:
    def __init__(self, base_url: str, token: str, connect_timeout: float = 2.0, read_timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            import urllib3

            timeout = urllib3.Timeout(connect=self.connect_timeout, read=self.read_timeout)
            self._pool = urllib3.PoolManager(timeout=timeout, retries=False)
        return self._pool

    def request(self, method: str, path: str, payload: Any = None) -> JsonResponse:
        import urllib3

        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        try:
            response = self.pool.request(method, self.base_url + path, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise CrmUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        try:
            parsed = json.loads(response.data) if response.data else None
        except ValueError:
            parsed = None
        return JsonResponse(response.status, parsed, {k.lower(): v for k, v in response.headers.items()})
