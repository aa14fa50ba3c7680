"""Chalice entry point: routes only. Each handler hands the request to one function in chalicelib.

The three Lambda functions (API, write-back consumer, decay) all load this module, so it imports
only Chalice and the logger: each handler imports what it needs on first use (`_web()`), and the
write-back consumer never loads the webhook parsers or the rules engine. `make bench` measures it.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, Response

from chalicelib.observability import logger

app = Chalice(app_name="leadscore")
WRITEBACK_QUEUE = os.environ.get("WRITEBACK_QUEUE", "leadscore-writeback")
DECAY_SCHEDULE = os.environ.get("DECAY_SCHEDULE", "rate(1 hour)")
JSON = ["application/json", "text/plain"]
XML = ["text/xml", "application/xml", "application/soap+xml"]


def _web() -> Any:
    from chalicelib import web

    return web


@app.middleware("http")
def request_context(event: Any, get_response: Any) -> Any:
    context = getattr(event, "lambda_context", None)
    logger.append_keys(request_id=getattr(context, "aws_request_id", None) or event.context.get("requestId"))
    try:
        return get_response(event)
    finally:
        logger.remove_keys(["request_id"])


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/webhooks/hubspot", methods=["POST"], content_types=JSON)
def hubspot_webhook() -> Response:
    return _web().ingest(app.current_request, "hubspot")


@app.route("/webhooks/salesforce", methods=["POST"], content_types=XML)
def salesforce_webhook() -> Response:
    return _web().ingest(app.current_request, "salesforce")


@app.route("/webhooks/forms/{provider}", methods=["POST"], content_types=JSON)
def form_webhook(provider: str) -> Response:
    return _web().form_ingest(app.current_request, provider)


@app.route("/v1/batch", methods=["POST"], content_types=JSON)
def track_batch() -> Response:
    return _web().ingest(app.current_request, "segment.batch")


@app.route("/v1/track", methods=["POST"], content_types=JSON)
def track_event() -> Response:
    return _web().ingest(app.current_request, "segment.track")


@app.route("/v1/page", methods=["POST"], content_types=JSON)
def track_page() -> Response:
    return _web().ingest(app.current_request, "segment.page")


@app.route("/v1/identify", methods=["POST"], content_types=JSON)
def track_identify() -> Response:
    return _web().ingest(app.current_request, "segment.identify")


@app.route("/leads/{key}", methods=["GET"])
def get_lead(key: str) -> Response:
    return _web().admin(app.current_request, lambda: _web().lead_service().lead(unquote(key)))


@app.route("/leads", methods=["GET"])
def list_leads() -> Response:
    return _web().leaderboard(app.current_request)


@app.route("/reports/tiers", methods=["GET"])
def tier_report() -> Response:
    return _web().admin(app.current_request, lambda: _web().lead_service().tier_report())


@app.on_sqs_message(queue=WRITEBACK_QUEUE, batch_size=1000, maximum_batching_window_in_seconds=20)
def writeback(event: Any) -> dict[str, Any]:
    return _web().consume_writebacks(event.to_dict()["Records"])


@app.schedule(DECAY_SCHEDULE)
def decay(event: Any) -> dict[str, Any]:
    context = event.context
    return _web().scheduled_decay(lambda: context.get_remaining_time_in_millis() / 1000)
