"""Tier-change notifications to `NOTIFY_URL` (a Slack incoming webhook, a workflow trigger ...)."""

from __future__ import annotations

from chalicelib.crm.http_client import CrmUnavailable, JsonClient
from chalicelib.service_layer.messages import Notify


class Notifier:
    def __init__(self, url: str) -> None:
        self.client = JsonClient(url, token="", read_timeout=5.0)

    def send(self, change: Notify) -> None:
        direction = "entered" if change.mql else "left"
        moved = f"{change.from_tier or 'new'} -> {change.to}"  # a lead seen for the first time has no tier before
        text = f"Lead {change.lead_id} {direction} MQL: {moved} (score {change.score})"
        response = self.client.request("POST", "", {"text": text, **change.to_json()})
        if not 200 <= response.status < 300:
            raise CrmUnavailable(f"NOTIFY_URL answered {response.status}")
