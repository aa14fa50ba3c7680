"""The one HTTP client the CRM adapters share: JSON over `requests`, one Session (connection pool)
per client, explicit connect and read timeouts, no automatic retries (the callers decide: a
webhook answers 503, the task consumer backs off through the queue).

The token may be a function, read on every request, so a rotated secret is used as soon as the
settings re-read it. A client named after its CRM reports each call's latency as a metric."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.errors import CrmUnavailable

if TYPE_CHECKING:
    import requests

__all__ = ["CrmUnavailable", "JsonClient", "JsonResponse"]


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: Any
    headers: dict[str, str]


class JsonClient:
    def __init__(
        self,
        base_url: str,
        token: str | Callable[[], str],
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        crm: str = "",
        token_header: str = "Authorization",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_header = token_header  # "Authorization" sends `Bearer <token>`; any other, the token as is
        self.token = token
        self.crm = crm  # "hubspot", "salesforce": the CrmLatency metric's dimension; empty: none
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            import requests  # on first use: a Lambda that never calls a CRM never imports it

            self._session = requests.Session()
            self._session.headers["Accept"] = "application/json"
        return self._session

    def request(
        self, method: str, path: str, payload: Any = None, *, form: dict[str, str] | None = None
    ) -> JsonResponse:
        """`payload` is sent as JSON, `form` as application/x-www-form-urlencoded."""
        import requests

        token = self.token() if callable(self.token) else self.token
        value = f"Bearer {token}" if self.token_header == "Authorization" else token
        headers = {self.token_header: value} if token else {}
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=payload,
                data=form,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise CrmUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        finally:
            if self.crm:
                from chalicelib.observability import crm_latency

                crm_latency(self.crm, (time.perf_counter() - started) * 1000)
        try:
            parsed = json.loads(response.content) if response.content else None
        except ValueError:
            parsed = None
        return JsonResponse(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})
