"""Where vendor modules register what they receive. A new source is one module in `sources/`
that calls `register` (plus its tests); the HTTP entry point finds it here by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.settings import Settings

from .base import IncomingRequest

# (request, settings, rules in force): the rules map vendor records to events (crm_activity)
Receive = Callable[[IncomingRequest, Settings, Rules], ParsedDelivery]
Route = Literal["own", "form", "tracking"]


@dataclass(frozen=True)
class SoapReplies:
    """For a sender that speaks SOAP (Salesforce outbound messages): the acknowledgement and faults."""

    ack: str
    fault: Callable[[str, bool], str]  # (message, the sender's fault?) -> envelope


@dataclass(frozen=True)
class Receiver:
    """`name` is what the route names (`hubspot`, `typeform`, `segment.track`); `route` says under
    which URL it is reached: its own, `/webhooks/forms/{name}` or the tracking API."""

    name: str
    route: Route
    receive: Receive
    soap: SoapReplies | None = None

    @property
    def metric_source(self) -> str:
        return self.name.split(".")[0]


RECEIVERS: dict[str, Receiver] = {}


def register(name: str, route: Route = "own", soap: SoapReplies | None = None) -> Callable[[Receive], Receive]:
    def add(receive: Receive) -> Receive:
        if name in RECEIVERS:
            raise ValueError(f"two sources register {name!r}")
        RECEIVERS[name] = Receiver(name, route, receive, soap)
        return receive

    return add
