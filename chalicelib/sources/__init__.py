"""Inbound adapters: one module per vendor; `receive` verifies a delivery, then parses it."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.settings import Settings

from . import generic, hubspot, salesforce, segment, tally, typeform, webflow
from .base import IncomingRequest, ParsedDelivery, SourceError

Receiver = Callable[[IncomingRequest, Settings], ParsedDelivery]


def _hubspot(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    secret = settings.secret("hubspot_client_secret")
    hubspot.verify(request, secret, request.received_at, settings.signature_tolerance_seconds)
    return hubspot.parse(request, settings.hubspot_own_property_prefix)


def _salesforce(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    salesforce.verify_token(request, settings.secret("salesforce_webhook_token"))
    return salesforce.parse(request, settings.salesforce_org_id, settings.salesforce_integration_user_id)


def _typeform(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    typeform.verify(request, settings.secret("typeform_secret"))
    return typeform.parse(request)


def _tally(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    tally.verify(request, settings.secret("tally_secret"))
    return tally.parse(request)


def _webflow(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    webflow.verify(
        request, settings.secret("webflow_secret"), request.received_at, settings.signature_tolerance_seconds
    )
    return webflow.parse(request)


def _generic(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
    generic.verify(request, settings.secret("forms_secret"), request.received_at, settings.signature_tolerance_seconds)
    return generic.parse(request)


def _tracking(kind: str) -> Receiver:
    def receive(request: IncomingRequest, settings: Settings) -> ParsedDelivery:
        segment.verify(request, settings.secret("events_write_key"))
        return segment.parse(request, kind)

    return receive


RECEIVERS: dict[str, Receiver] = {
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "typeform": _typeform,
    "tally": _tally,
    "webflow": _webflow,
    "generic": _generic,
    "segment.batch": _tracking("batch"),
    "segment.track": _tracking("track"),
    "segment.page": _tracking("page"),
    "segment.identify": _tracking("identify"),
}
FORM_PROVIDERS = ("typeform", "tally", "webflow", "generic")

__all__ = ["FORM_PROVIDERS", "RECEIVERS", "IncomingRequest", "ParsedDelivery", "SourceError"]
