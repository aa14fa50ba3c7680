"""The org's REST API session, shared by what reads Salesforce (import, campaign members) and what
writes to it (the write-back): a static `SALESFORCE_ACCESS_TOKEN` or the OAuth client-credentials
flow, refreshed once on a 401 INVALID_SESSION_ID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.crm.http_client import CrmUnavailable, JsonClient, JsonResponse


class SalesforceAuth:
    """The org's session: a static token, or one from the client-credentials flow, refreshed on the
    writer's one HTTP client (the token endpoint is on the same My Domain host). The static token
    and the client secret may be functions (the settings' secrets, read again after rotation)."""

    def __init__(
        self,
        instance_url: str,
        access_token: str | Callable[[], str] = "",
        client_id: str = "",
        client_secret: str | Callable[[], str] = "",
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self._static = access_token if callable(access_token) else (lambda: access_token)
        self._secret = client_secret if callable(client_secret) else (lambda: client_secret)
        self._issued = ""  # from the client-credentials flow
        self.client_id = client_id

    @property
    def token(self) -> str:
        return self._issued or self._static()

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self._secret())

    def refresh(self, client: JsonClient) -> str:
        """OAuth 2.0 client credentials: POST {my-domain}/services/oauth2/token."""
        client.base_url, client.token = self.instance_url, ""
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret()}
        response = client.request("POST", "/services/oauth2/token", form=form)
        if response.status != 200 or not isinstance(response.body, dict) or "access_token" not in response.body:
            raise CrmUnavailable(f"Salesforce token endpoint answered {response.status}")
        self._issued = str(response.body["access_token"])
        self.instance_url = str(response.body.get("instance_url", self.instance_url)).rstrip("/")
        return self._issued


class SalesforceSession:
    """Calls to the org's REST API with its session, refreshed once on INVALID_SESSION_ID: shared by
    the writer and the record reader, so they use one token."""

    def __init__(self, auth: SalesforceAuth, read_timeout: float = 20.0) -> None:
        self.auth = auth
        self.client = JsonClient(auth.instance_url, auth.token, read_timeout=read_timeout, crm="salesforce")

    def request(self, method: str, path: str, payload: Any = None) -> JsonResponse:
        if not self.auth.token and self.auth.can_refresh:
            self.auth.refresh(self.client)
        response = self._call(method, path, payload)
        if response.status == 401 and self.auth.can_refresh and "INVALID_SESSION_ID" in str(response.body):
            self.auth.refresh(self.client)  # once: a second 401 is reported, not looped on
            response = self._call(method, path, payload)
        return response

    def _call(self, method: str, path: str, payload: Any) -> JsonResponse:
        self.client.base_url, self.client.token = self.auth.instance_url, self.auth.token
        return self.client.request(method, path, payload)
