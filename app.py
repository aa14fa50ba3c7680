"""Chalice entry point: routes only. Each handler hands the request to one function in chalicelib."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, Response

from chalicelib import web
from chalicelib.leads_query import LeadsQuery
from chalicelib.observability import logger
from chalicelib.sources import FORM_PROVIDERS

app = Chalice(app_name="leadscore")
WRITEBACK_QUEUE = os.environ.get("WRITEBACK_QUEUE", "leadscore-writeback")
DECAY_SCHEDULE = os.environ.get("DECAY_SCHEDULE", "rate(1 hour)")
JSON = ["application/json", "text/plain"]
XML = ["text/xml", "application/xml", "application/soap+xml"]


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
    return web.ingest(app.current_request, "hubspot")


@app.route("/webhooks/salesforce", methods=["POST"], content_types=XML)
def salesforce_webhook() -> Response:
    return web.ingest(app.current_request, "salesforce")


@app.route("/webhooks/forms/{provider}", methods=["POST"], content_types=JSON)
def form_webhook(provider: str) -> Response:
    if provider not in FORM_PROVIDERS:
        return Response(body={"error": "not_found", "message": f"no form provider {provider!r}"}, status_code=404)
    return web.ingest(app.current_request, provider)


@app.route("/v1/batch", methods=["POST"], content_types=JSON)
def track_batch() -> Response:
    return web.ingest(app.current_request, "segment.batch")


@app.route("/v1/track", methods=["POST"], content_types=JSON)
def track_event() -> Response:
    return web.ingest(app.current_request, "segment.track")


@app.route("/v1/page", methods=["POST"], content_types=JSON)
def track_page() -> Response:
    return web.ingest(app.current_request, "segment.page")


@app.route("/v1/identify", methods=["POST"], content_types=JSON)
def track_identify() -> Response:
    return web.ingest(app.current_request, "segment.identify")


@app.route("/leads/{key}", methods=["GET"])
def get_lead(key: str) -> Response:
    return web.admin(app.current_request, lambda: web.lead_service().lead(unquote(key)))


@app.route("/leads", methods=["GET"])
def list_leads() -> Response:
    request = app.current_request

    def leaderboard() -> dict[str, Any]:
        query = LeadsQuery.from_params(request.query_params or {})
        return {"leads": web.lead_service().leaderboard(query.tiers(), query.limit)}

    return web.admin(request, leaderboard)


@app.on_sqs_message(queue=WRITEBACK_QUEUE, batch_size=1000, maximum_batching_window_in_seconds=20)
def writeback(event: Any) -> dict[str, Any]:
    return web.consume_writebacks(event.to_dict()["Records"])


@app.schedule(DECAY_SCHEDULE)
def decay(event: Any) -> dict[str, Any]:
    context = event.context
    return web.scheduled_decay(lambda: context.get_remaining_time_in_millis() / 1000)
