"""Sending an alert: to Slack through slack_sdk's webhook client, to Teams and JSON receivers
through one `requests` Session, each with explicit timeouts and no retries of its own (the task
queue retries, with backoff). A 429 or 5xx (or no answer) is tried again later; any other 4xx
will never succeed and is refused, so the task is dead-lettered with the reason."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from chalicelib.domain.alerts import Alert
from chalicelib.errors import Unavailable

from .slack import slack_digest, slack_message
from .teams import teams_digest, teams_message

Format = Literal["slack", "teams", "json"]
FORMATS: tuple[Format, ...] = ("slack", "teams", "json")
CONNECT_TIMEOUT, READ_TIMEOUT = 3.05, 10.0
# Teams' incoming webhooks (Office 365 connectors) and the Workflows app's webhook URLs.
TEAMS_HOSTS = (".webhook.office.com", ".logic.azure.com", ".powerplatform.com", ".powerautomate.com")


class AlertUnavailable(Unavailable):
    code = "alert_unavailable"
    advice = "the alert's destination did not answer; sent again later"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AlertRefused(Exception):
    """The destination refused the message for good (a 4xx other than 429): a removed webhook, a
    body it will never take."""


def format_for(url: str, configured: str = "") -> Format:
    """NOTIFY_FORMAT when set; else from the URL's host (Slack's, Teams'), else JSON."""
    if configured:
        if configured not in FORMATS:
            raise ValueError(f"NOTIFY_FORMAT must be one of {', '.join(FORMATS)}")
        return configured
    host = (urlsplit(url).hostname or "").lower()
    if host == "hooks.slack.com" or host.endswith(".slack.com"):
        return "slack"
    if host.endswith(TEAMS_HOSTS):
        return "teams"
    return "json"


class AlertSender:
    refused = AlertRefused

    def __init__(self, configured_format: str = "") -> None:
        self.configured_format = configured_format
        self.session = requests.Session()

    def send(self, url: str, alert: Alert) -> None:
        kind = format_for(url, self.configured_format)
        if kind == "slack":
            self._answered(kind, *self._slack(url, slack_message(alert)))
        else:
            self._answered(kind, *self._post(url, teams_message(alert) if kind == "teams" else alert.to_json()))

    def send_digest(self, url: str, alerts: list[Alert], title: str) -> None:
        """A day's alerts for one destination, in one message."""
        kind = format_for(url, self.configured_format)
        if kind == "slack":
            self._answered(kind, *self._slack(url, slack_digest(alerts, title)))
        elif kind == "teams":
            self._answered(kind, *self._post(url, teams_digest(alerts, title)))
        else:
            body = {"event": "digest", "text": title, "alerts": [alert.to_json() for alert in alerts]}
            self._answered(kind, *self._post(url, body))

    def _answered(self, kind: str, status: int, body: str, retry_after: float | None) -> None:
        if 200 <= status < 300:
            return
        said = " ".join(body.split())[:200]
        if status == 429 or status >= 500:
            raise AlertUnavailable(f"the {kind} destination answered {status}", retry_after)
        raise AlertRefused(f"the {kind} destination answered {status}: {said}" if said else f"answered {status}")

    def _slack(self, url: str, message: dict[str, Any]) -> tuple[int, str, float | None]:
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(url, timeout=int(READ_TIMEOUT), retry_handlers=[])
        try:
            response = client.send_dict(message)
        except OSError as exc:  # urllib's URLError, a timeout, a refused connection
            raise AlertUnavailable(f"Slack did not answer: {type(exc).__name__}") from exc
        return response.status_code, response.body or "", _seconds((response.headers or {}).get("Retry-After"))

    def _post(self, url: str, payload: dict[str, Any]) -> tuple[int, str, float | None]:
        try:
            response = self.session.post(url, json=payload, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except requests.RequestException as exc:
            raise AlertUnavailable(f"the destination did not answer: {type(exc).__name__}") from exc
        return response.status_code, response.text, _seconds(response.headers.get("Retry-After"))


def _seconds(value: object) -> float | None:
    try:
        return max(0.0, float(str(value))) if value is not None else None
    except ValueError:
        return None
