"""Chalice entry point: the route table, the task queue's consumer and the schedules.

Each handler hands its trigger to one entry module in chalicelib/entrypoints/ (imported on first
use, so Lambda's init pays only for Chalice and the logger, and each function loads only what its
trigger needs: `make bench` measures each path). Routes marked @readable need
`Authorization: Bearer <ADMIN_API_KEY>` or `<VIEWER_API_KEY>`, @admin_only the admin key; the
webhooks verify their vendor's signature instead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from chalice.app import Chalice, Request, Response

from chalicelib.observability import logger

# Chalice would configure the logger named after the app (ours, Powertools', "leadscore") and set it
# to ERROR unless it finds a handler on the same sys.stdout: never leave that to import order.
app = Chalice(app_name="leadscore", configure_logs=False)
TASK_QUEUE = os.environ.get("TASK_QUEUE", "leadscore-tasks")
UPKEEP_SCHEDULE = os.environ.get("UPKEEP_SCHEDULE", "rate(1 hour)")
# Reconciliation and email events: often enough that a lost webhook is scored within the hour.
CRM_SYNC_SCHEDULE = os.environ.get("CRM_SYNC_SCHEDULE", "rate(15 minutes)")
JSON = ["application/json", "text/plain"]
XML = ["text/xml", "application/xml", "application/soap+xml"]


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before any route runs
    return request


def _guarded(view: Callable[..., Response], admin: bool) -> Callable[..., Response]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        from chalicelib.entrypoints import http

        refused = http.refuse_unless_allowed(_request(), admin)
        return refused if refused is not None else view(*args, **kwargs)

    return guarded


def admin_only(view: Callable[..., Response]) -> Callable[..., Response]:
    return _guarded(view, admin=True)


def readable(view: Callable[..., Response]) -> Callable[..., Response]:
    """The admin key or the read-only viewer key."""
    return _guarded(view, admin=False)


@app.middleware("http")
def request_context(event: Any, get_response: Any) -> Any:
    context = getattr(event, "lambda_context", None)
    logger.append_keys(request_id=getattr(context, "aws_request_id", None) or event.context.get("requestId"))
    try:
        return _our_error_shape(get_response(event))
    finally:
        logger.remove_keys(["request_id"])


def _our_error_shape(response: Response) -> Response:
    """Chalice answers a wrong method (405), content type (415) or a crash (500) itself, as
    {"Code", "Message"}; every error of ours is {"error", "code", "message"}."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = CHALICE_CODES.get(str(body["Code"]), "error")
        response.body = {"error": code, "code": code, "message": str(body["Message"])}
    return response


CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}


@app.route("/health", methods=["GET"])
def health() -> Response:
    """200 when the service can score: its rules load (503 `rules_invalid` naming the problem, else)."""
    from chalicelib.entrypoints import http

    return http.health()


# ------------------------------------------------------------------- webhooks (vendor signatures)
@app.route("/webhooks/hubspot", methods=["POST"], content_types=JSON)
def hubspot_webhook() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "hubspot")


@app.route("/webhooks/salesforce", methods=["POST"], content_types=XML)
def salesforce_webhook() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "salesforce")


@app.route("/webhooks/pipedrive", methods=["POST"], content_types=JSON)
def pipedrive_webhook() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "pipedrive")


@app.route("/webhooks/calendly", methods=["POST"], content_types=JSON)
def calendly_webhook() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "calendly")


@app.route("/webhooks/calcom", methods=["POST"], content_types=JSON)
def calcom_webhook() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "calcom")


@app.route("/webhooks/forms/{provider}", methods=["POST"], content_types=JSON)
def form_webhook(provider: str) -> Response:
    from chalicelib.entrypoints import http

    return http.form_ingest(_request(), provider)


# ---------------------------------------------------------------- tracking API (write key)
@app.route("/v1/batch", methods=["POST"], content_types=JSON)
def track_batch() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.batch")


@app.route("/v1/track", methods=["POST"], content_types=JSON)
def track_event() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.track")


@app.route("/v1/page", methods=["POST"], content_types=JSON)
def track_page() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.page")


@app.route("/v1/identify", methods=["POST"], content_types=JSON)
def track_identify() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.identify")


@app.route("/v1/screen", methods=["POST"], content_types=JSON)
def track_screen() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.screen")


@app.route("/v1/group", methods=["POST"], content_types=JSON)
def track_group() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.group")


@app.route("/v1/alias", methods=["POST"], content_types=JSON)
def track_alias() -> Response:
    from chalicelib.entrypoints import http

    return http.ingest(_request(), "segment.alias")


# ---------------------------------------------------------------- the console (static, public)
@app.route("/console", methods=["GET"])
def console() -> Response:
    from chalicelib.entrypoints import http

    return http.console_file("index.html")


@app.route("/console/{name}", methods=["GET"])
def console_asset(name: str) -> Response:
    from chalicelib.entrypoints import http

    return http.console_file(name)


# ---------------------------------------------------------- accounts API (admin or viewer key)
@app.route("/accounts", methods=["GET"])
@readable
def list_accounts() -> Response:
    from chalicelib.entrypoints import http

    return http.accounts(_request())


@app.route("/accounts/{key}", methods=["GET"])
@readable
def get_account(key: str) -> Response:
    from chalicelib.entrypoints import http

    return http.account(unquote(key), _request())


# ------------------------------------------------------------- leads API (admin or viewer key)
@app.route("/leads/{key}", methods=["GET"])
@readable
def get_lead(key: str) -> Response:
    from chalicelib.entrypoints import http

    return http.lead(unquote(key))


@app.route("/leads/{key}/timeline", methods=["GET"])
@readable
def lead_timeline(key: str) -> Response:
    from chalicelib.entrypoints import http

    return http.timeline(unquote(key))


@app.route("/leads/{key}/activity", methods=["GET"])
@readable
def lead_activity(key: str) -> Response:
    from chalicelib.entrypoints import http

    return http.activity(unquote(key), _request())


@app.route("/leads/{key}/recycle", methods=["POST"])
@admin_only
def recycle_lead(key: str) -> Response:
    from chalicelib.entrypoints import http

    return http.recycle(unquote(key), _request())


@app.route("/rules", methods=["GET"])
@readable
def rules_in_force() -> Response:
    from chalicelib.entrypoints import http

    return http.rules_in_force()


@app.route("/rules/versions", methods=["GET"])
@readable
def rules_versions() -> Response:
    """The rules versions of the stack, which is active and which the shadow, and the log."""
    from chalicelib.entrypoints import http

    return http.rules_versions()


@app.route("/rules/versions", methods=["POST"], content_types=JSON)
@admin_only
def deploy_rules() -> Response:
    """A rules file stored as a new version: the shadow (default), or active."""
    from chalicelib.entrypoints import http

    return http.deploy_rules(_request())


@app.route("/rules/versions/{number}", methods=["GET"])
@readable
def rules_version(number: str) -> Response:
    from chalicelib.entrypoints import http

    return http.rules_version(number)


@app.route("/rules/preview", methods=["POST"], content_types=JSON)
@admin_only
def rules_preview() -> Response:
    from chalicelib.entrypoints import http

    return http.rules_preview(_request())


@app.route("/leads", methods=["GET"])
@readable
def list_leads() -> Response:
    from chalicelib.entrypoints import http

    return http.leaderboard(_request())


@app.route("/reports/tiers", methods=["GET"])
@readable
def tier_report() -> Response:
    from chalicelib.entrypoints import http

    return http.tier_report()


@app.route("/reports/exceptions", methods=["GET"])
@readable
def exceptions_report() -> Response:
    """Won leads that scored in the lowest tier, lost ones that scored MQL: what to review."""
    from chalicelib.entrypoints import http

    return http.exceptions_report(_request())


@app.route("/reports/shadow", methods=["GET"])
@readable
def shadow_report() -> Response:
    """The active and the shadow rules side by side since the shadow started."""
    from chalicelib.entrypoints import http

    return http.shadow_report()


@app.route("/reports/health", methods=["GET"])
@readable
def health_report() -> Response:
    """Per month and rules version: tier mix, conversion by tier, MQLs converted, tier inflation."""
    from chalicelib.entrypoints import http

    return http.health_report()


@app.route("/reports/unscored", methods=["GET"])
@readable
def unscored_report() -> Response:
    """Event names that earned nothing in a window (default 30 days), and why."""
    from chalicelib.entrypoints import http

    return http.unscored_report(_request())


# ------------------------------------------------------------------------- other triggers
@app.on_sqs_message(queue=TASK_QUEUE, batch_size=1000, maximum_batching_window_in_seconds=20)
def tasks(event: Any) -> dict[str, Any]:
    """Write-backs, notifications and CRM record reads: every call out that a webhook queued."""
    from chalicelib.entrypoints.sqs import run_tasks

    return run_tasks(event.to_dict()["Records"])


@app.schedule(UPKEEP_SCHEDULE)
def upkeep(event: Any) -> dict[str, Any]:
    """Decay, the rescore after a rules change, and the outbox sweep (lost write-backs queued again)."""
    from chalicelib.entrypoints.schedule import run_upkeep

    context = event.context
    return run_upkeep(lambda: context.get_remaining_time_in_millis() / 1000)


@app.schedule(CRM_SYNC_SCHEDULE)
def crm_sync(event: Any) -> dict[str, Any]:
    from chalicelib.entrypoints.schedule import run_crm_sync

    context = event.context
    return run_crm_sync(lambda: context.get_remaining_time_in_millis() / 1000)
