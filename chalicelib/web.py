"""HTTP glue between Chalice and the use cases: request translation, auth, error mapping.

Every failure a sender can cause becomes a 4xx naming the problem; a failure of ours that a retry
can fix (DynamoDB, the CRM) becomes a 503 so HubSpot, Salesforce and the SDKs deliver again, and
the retried delivery is deduplicated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Response
from pydantic import ValidationError

from chalicelib.crm.http import CrmUnavailable, JsonClient
from chalicelib.crm.notify import Notifier
from chalicelib.observability import count_events, logger
from chalicelib.queue import WritebackQueue, parse_message
from chalicelib.rules import active_rules
from chalicelib.service import LeadService
from chalicelib.settings import Settings, current_settings, forget_secrets
from chalicelib.sources import FORM_PROVIDERS, RECEIVERS, IncomingRequest, SourceError
from chalicelib.sources.base import PayloadTooLarge, Unauthorized, same
from chalicelib.sources.salesforce import ACK, fault
from chalicelib.storage.dynamodb import LeadRepository
from chalicelib.writeback import WritebackService

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def lead_service() -> LeadService:
    settings = current_settings()
    contacts = None
    token = settings.secret("hubspot_access_token")
    if token:
        from chalicelib.crm.hubspot import HubSpotContacts

        contacts = HubSpotContacts(JsonClient(settings.hubspot_api_base, token))
    queue = WritebackQueue(settings.writeback_queue, settings.writeback_dlq)
    return LeadService(LeadRepository(settings.table_name), active_rules, contacts, queue=queue)


@lru_cache(maxsize=1)
def writeback_service() -> WritebackService:
    settings = current_settings()
    writers: list[Any] = []
    token = settings.secret("hubspot_access_token")
    if token:
        from chalicelib.crm.hubspot import HubSpotWriter

        client = JsonClient(settings.hubspot_api_base, token, read_timeout=10.0)
        writers.append(HubSpotWriter(client, settings.hubspot_property_prefix))
    sf_token, sf_secret = settings.secret("salesforce_access_token"), settings.secret("salesforce_client_secret")
    if settings.salesforce_instance_url and (sf_token or (settings.salesforce_client_id and sf_secret)):
        from chalicelib.crm.salesforce import SalesforceAuth, SalesforceWriter

        auth = SalesforceAuth(settings.salesforce_instance_url, sf_token, settings.salesforce_client_id, sf_secret)
        fields = {
            "score": settings.salesforce_score_field,
            "tier": settings.salesforce_tier_field,
            "grade": settings.salesforce_grade_field,
        }
        writers.append(SalesforceWriter(auth, fields))
    if not writers:
        from chalicelib.crm.dry_run import DryRunWriter

        writers.append(DryRunWriter())
    notify_url = settings.secret("notify_url")
    notifier = Notifier(notify_url) if notify_url else None
    service = lead_service()
    assert service.queue is not None
    return WritebackService(service.repository, service.queue, writers, notifier)


def reset() -> None:
    """Forget settings and clients (tests change the environment between cases)."""
    lead_service.cache_clear()
    writeback_service.cache_clear()
    current_settings.cache_clear()
    forget_secrets()


def consume_writebacks(records: list[dict[str, Any]], clock: Clock = utc_now) -> dict[str, Any]:
    """The SQS event's records -> SQS partial batch response (ReportBatchItemFailures)."""
    messages = [
        parse_message(record["messageId"], record["receiptHandle"], record["body"], record.get("attributes", {}))
        for record in records
    ]
    report = writeback_service().handle(messages, clock())
    logger.info(
        "write-back batch",
        extra={
            "messages": len(messages),
            "written": len(report.written),
            "retried": len(report.retried),
            "dead_lettered": len(report.dead_lettered),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed_message_ids]}


def scheduled_decay(time_left: Callable[[], float], clock: Clock = utc_now) -> dict[str, Any]:
    from chalicelib.decay import run_decay

    settings = current_settings()
    grace = timedelta(seconds=settings.sync_grace_seconds)
    report = run_decay(lead_service(), clock(), time_left, sync_grace=grace)
    summary = {
        "due": report.due,
        "changed": len(report.changed),
        "full_rescores": report.full_rescores,
        "requeued": report.requeued,
        "stopped_early": report.stopped_early,
        "rules_sweep_done": report.rules_sweep.get("done"),
    }
    logger.info("decay run", extra=summary)
    return summary


def incoming(request: Any, settings: Settings, now: datetime) -> IncomingRequest:
    body = request.raw_body or b""
    if len(body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {settings.max_body_bytes}")
    headers = {name.lower(): value for name, value in request.headers.items()}
    query = dict(request.query_params or {})
    return IncomingRequest(
        method=request.method,
        url=public_url(request, headers, query, settings),
        headers=headers,
        body=body,
        query=query,
        received_at=now,
    )


def public_url(request: Any, headers: dict[str, str], query: dict[str, str], settings: Settings) -> str:
    """The URL the sender called, which is what HubSpot signs. Behind API Gateway the Host header
    and the stage-prefixed path rebuild it; PUBLIC_BASE_URL wins when a custom domain is in front."""
    context = request.context or {}
    route = context.get("resourcePath") or "/"
    path = route.format(**(request.uri_params or {}))
    if settings.public_base_url:
        base = settings.public_base_url.rstrip("/")
    else:
        scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
        base = f"{scheme}://{headers.get('host', 'localhost')}"
        path = context.get("path") or path
    suffix = f"?{urlencode(query, quote_via=quote)}" if query else ""
    return f"{base}{path}{suffix}"


def ingest(request: Any, source: str, clock: Clock = utc_now) -> Response:
    """Verify, parse, store and rescore one delivery."""
    settings = current_settings()
    metric_source = source.split(".")[0]
    now = clock()  # one instant for the whole delivery: signature window, event times and scoring agree
    try:
        delivery = RECEIVERS[source](incoming(request, settings, now), settings)
        outcome = lead_service().ingest(delivery, now)
    except SourceError as exc:
        logger.info("delivery rejected", extra={"source": metric_source, "outcome": exc.code, "status": exc.status})
        count_events(metric_source, "rejected", 1)
        return _error(source, exc.status, exc.code, exc.message, exc.field)
    except CrmUnavailable as exc:
        logger.warning("CRM unavailable", extra={"source": metric_source, "outcome": "retry", "reason": str(exc)})
        return _error(source, 503, "crm_unavailable", "the CRM did not answer; deliver again later")
    except Exception as exc:
        if not _is_storage_error(exc):
            raise
        logger.exception("storage unavailable", extra={"source": metric_source, "outcome": "retry"})
        return _error(source, 503, "storage_unavailable", "storage is unavailable; deliver again later")
    for outcome_name, value in (
        ("accepted", outcome.accepted),
        ("duplicate", outcome.duplicates),
        ("ignored", outcome.ignored),
    ):
        count_events(metric_source, outcome_name, value)
    logger.info(
        "delivery ingested",
        extra={
            "source": metric_source,
            "outcome": "accepted",
            "accepted": outcome.accepted,
            "duplicates": outcome.duplicates,
            "ignored": outcome.ignored,
            "deleted": outcome.deleted,
            "lead_ids": outcome.lead_ids,
        },
    )
    if source == "salesforce":
        return Response(body=ACK, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})
    body = {"success": True, "accepted": outcome.accepted, "duplicates": outcome.duplicates, "ignored": outcome.ignored}
    return Response(body=body, status_code=200)


def _is_storage_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("botocore", "boto3")) or "ClientError" in type(exc).__name__


def _error(source: str, status: int, code: str, message: str, field: str | None = None) -> Response:
    headers = {"Retry-After": "60"} if status == 503 else {}
    if source == "salesforce":
        xml = fault(message, "soapenv:Client" if status < 500 else "soapenv:Server")
        return Response(body=xml, status_code=status, headers={"Content-Type": "text/xml; charset=utf-8", **headers})
    # `code` too: Segment's SDKs read {"code", "message"} from an error reply.
    body: dict[str, Any] = {"error": code, "code": code, "message": message}
    if field:
        body["field"] = field
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="leadscore"' if source.startswith("segment") else "Signature"
    return Response(body=body, status_code=status, headers=headers)


def form_ingest(request: Any, provider: str) -> Response:
    if provider not in FORM_PROVIDERS:
        return _error(provider, 404, "not_found", f"no form provider {provider!r}")
    return ingest(request, provider)


# ------------------------------------------------------------------------------------------ admin
def admin(request: Any, action: Callable[[], Any]) -> Response:
    """Bearer ADMIN_API_KEY, then the action; its result is the JSON body (None: 404)."""
    settings = current_settings()
    header = (request.headers or {}).get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.secret("admin_api_key")
    if not expected or scheme.lower() != "bearer" or not same(expected, token):
        return Response(
            body={"error": "unauthorized", "message": "Authorization: Bearer <ADMIN_API_KEY> is required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        result = action()
    except SourceError as exc:
        return _error("admin", exc.status, exc.code, exc.message, exc.field)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return _error("admin", 400, "bad_request", f"{field}: {first['msg']}", field)
    if result is None:
        return _error("admin", 404, "not_found", "no such lead")
    return Response(body=json.loads(json.dumps(result, default=str)), status_code=200)


def leaderboard(request: Any) -> Response:
    from chalicelib.leads_query import LeadsQuery

    def top() -> dict[str, Any]:
        query = LeadsQuery.from_params(request.query_params or {})
        return {"leads": lead_service().leaderboard(query.tiers(), query.limit)}

    return admin(request, top)


__all__ = ["Unauthorized", "admin", "ingest", "lead_service", "reset"]
