"""The handler of `Notify` tasks: a lead that entered MQL (and, with NOTIFY_ON_LEAVE, one that left
it) is announced where its owner wants it (NOTIFY_ROUTES: the owner's email or `crm:id` -> a
webhook URL), else at NOTIFY_URL, by name, with its standing, its top reasons and links to act on
(domain/alerts.py; chalicelib/alerts/ sends it as Slack, Teams or JSON).

Restraint: at most one alert per lead and kind within NOTIFY_MIN_INTERVAL_HOURS of the change, so
a lead that dips below the line and comes back the same day is announced once. The claim is made
before sending and names the task, so the same task tried again passes it and a duplicate or a
later crossing does not. A destination that is down (429, 5xx, no answer) is tried again later,
with backoff; one that refuses the message (another 4xx) never will take it: dead-lettered with
the reason.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.alerts import Alert, AlertKind, alert_from_json, alert_from_lead
from chalicelib.domain.events import parse_instant
from chalicelib.errors import Unavailable
from chalicelib.observability import logger
from chalicelib.storage.ports import Storage

from .messages import Notify, ReceivedTask, TaskQueue
from .owners import OwnerNames
from .task_report import TaskReport, backoff_seconds


class AlertTransport(Protocol):
    """Where alerts go (chalicelib/alerts/sender.py): raises Unavailable to be tried again later,
    `refused` (an exception type) when the destination will never take it."""

    @property
    def refused(self) -> type[Exception]: ...

    def send(self, url: str, alert: Alert) -> None: ...

    def send_digest(self, url: str, alerts: list[Alert], title: str) -> None: ...


@dataclass(frozen=True)
class AlertSettings:
    default_url: str = ""  # NOTIFY_URL
    routes: Mapping[str, str] | None = None  # owner email or crm:id -> URL (NOTIFY_ROUTES)
    quiet: timedelta = timedelta(hours=24)  # NOTIFY_MIN_INTERVAL_HOURS
    on_leave: bool = False  # NOTIFY_ON_LEAVE
    digest: bool = False  # NOTIFY_DIGEST: held, and sent a day at a time by the upkeep
    console_base: str = ""  # PUBLIC_BASE_URL: alerts link the console's lead page

    @property
    def configured(self) -> bool:
        return bool(self.default_url or self.routes)

    def destinations(self) -> list[str]:
        return sorted({url for url in [self.default_url, *(self.routes or {}).values()] if url})


def destination_id(url: str) -> str:
    """How a destination is named in storage: a digest of its URL (the URL is a secret)."""
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def parse_routes(text: str) -> dict[str, str]:
    """NOTIFY_ROUTES: a JSON object, owner email (any case) or `crm:id` -> webhook URL."""
    if not text.strip():
        return {}
    found = json.loads(text)
    urls = found.values() if isinstance(found, dict) else []
    if not found or not all(isinstance(url, str) and url.startswith(("https://", "http://")) for url in urls):
        raise ValueError("NOTIFY_ROUTES must be a JSON object of owner email or crm:id to a webhook URL")
    return {str(key).strip().lower() if "@" in str(key) else str(key).strip(): url for key, url in found.items()}


class Notifications:
    def __init__(
        self,
        queue: TaskQueue,
        transport: AlertTransport | None,
        settings: Callable[[], AlertSettings],
        lead: Callable[[str, datetime], dict[str, Any] | None],
        storage: Storage,
        rng: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """`settings` are read when an alert is handled (its routes are a secret); `lead`: the lead
        as GET /leads/{key} shows it (LeadViews.lead)."""
        self.queue = queue
        self.transport = transport
        self.settings = settings
        self.lead = lead
        self.storage = storage
        self.rng = rng

    def handle(self, message: ReceivedTask, change: Notify, report: TaskReport, now: datetime) -> None:
        settings = self.settings()
        if self.transport is None or not settings.configured or (not change.mql and not settings.on_leave):
            return
        kind: AlertKind = "entered_mql" if change.mql else "left_mql"
        lead = self.lead(change.lead_id, now)
        if lead is None:
            return  # deleted since: nobody to act on
        url = self.route(lead)
        if not url:
            return
        at = parse_instant(change.at) or now
        token = message.message_id
        if not self.storage.outbox.claim_alert(lead["lead_id"], kind, at, settings.quiet, token):
            report.statuses[("alert", "suppressed")] += 1
            return
        console = (
            f"{settings.console_base.rstrip('/')}/console#/lead/{lead['lead_id']}" if settings.console_base else None
        )
        alert = alert_from_lead(lead, kind, change.from_tier, change.at, console)
        if settings.digest:
            self.storage.outbox.hold_alert(destination_id(url), at.date(), f"{alert.lead_id}#{kind}", alert.to_json())
            report.statuses[("alert", "held")] += 1
            return
        try:
            self.transport.send(url, alert)
        except Unavailable as exc:
            delay = getattr(exc, "retry_after", None) or backoff_seconds(message.receive_count, self.rng)
            self.queue.retry_later(message, delay)
            report.failed_message_ids.append(message.message_id)
            report.retried[change.lead_id] = str(exc)
            return
        except self.transport.refused as exc:
            # Never delivered: a redrive, once the destination is fixed, may send it.
            self.storage.outbox.release_alert(lead["lead_id"], kind, token)
            self.queue.dead_letter(change.to_json(), str(exc))
            report.dead_lettered[change.lead_id] = str(exc)
            logger.error("alert dead-lettered", extra={"lead_id": change.lead_id, "reason": str(exc)})
            return
        report.statuses[("alert", "sent")] += 1

    def route(self, lead: Mapping[str, Any]) -> str:
        """The owner's destination when NOTIFY_ROUTES names them (by email or crm:id), else NOTIFY_URL."""
        settings = self.settings()
        routes = settings.routes or {}
        owner = lead.get("owner")
        if owner and routes:
            key = f"{owner['crm']}:{owner['id']}"
            if key in routes:
                return routes[key]
            email = OwnerNames(self.storage).emails([owner["crm"]]).get((owner["crm"], str(owner["id"])))
            if email and email in routes:
                return routes[email]
        return settings.default_url

    def send_digests(self, now: datetime) -> dict[str, int]:
        """Each destination's alerts held for the days before today, in one message a destination
        (the upkeep runs it): sent ones are let go of; one whose destination is down waits for the
        next run; one it refuses is let go of, and logged."""
        settings = self.settings()
        sent: dict[str, int] = {"sent": 0, "waiting": 0, "refused": 0}
        if self.transport is None or not settings.digest:
            return sent
        for url in settings.destinations():
            destination = destination_id(url)
            held = self.storage.outbox.held_alerts(destination, now.date())
            if not held:
                continue
            alerts = [alert_from_json(body) for _, body in held]
            entered = sum(1 for alert in alerts if alert.entered)
            days = sorted({name[:10] for name, _ in held})
            when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
            title = f"{entered} lead{'' if entered == 1 else 's'} entered MQL ({when})"
            if entered != len(alerts):
                title += f", {len(alerts) - entered} left it"
            try:
                self.transport.send_digest(url, alerts, title)
            except Unavailable:
                sent["waiting"] += len(alerts)
                continue
            except self.transport.refused as exc:
                logger.error("alert digest refused", extra={"reason": str(exc), "alerts": len(alerts)})
                sent["refused"] += len(alerts)
            else:
                sent["sent"] += len(alerts)
            self.storage.outbox.drop_held(destination, [name for name, _ in held])
        return sent
