"""HTTP glue between Chalice and the use cases: request translation, auth, error mapping.

Every failure a sender can cause becomes a 4xx naming the problem; a failure of ours that a retry
can fix (DynamoDB, SSM, the CRM) becomes a 503 so HubSpot, Salesforce and the SDKs deliver again,
and the retried delivery is deduplicated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

from chalice.app import Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import sources
from chalicelib.bootstrap import container
from chalicelib.domain.rules import Rules
from chalicelib.domain.unscored import REPORT_RETENTION_DAYS
from chalicelib.errors import RequestRefused, Unavailable
from chalicelib.observability import count_events, count_not_scored, logger
from chalicelib.rules.active import ActiveRules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import BadPayload, ClientError, PayloadTooLarge
from chalicelib.settings import Settings
from chalicelib.sources.base import IncomingRequest, bad_payload, decoded_body, load_json, same
from chalicelib.sources.registry import Receiver

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------- webhooks
def ingest(request: Request, source: str, clock: Clock = utc_now) -> Response:
    """Verify, parse, store and rescore one delivery."""
    found = sources.receiver(source)
    if found is None:
        raise LookupError(f"no receiver {source!r}")  # app.py names only registered sources
    return _ingest(request, found, clock)


def form_ingest(request: Request, provider: str, clock: Clock = utc_now) -> Response:
    found = sources.receiver(provider) if "." not in provider else None
    if found is None or found.route != "form":
        return _error(None, 404, "not_found", f"no form provider {provider!r}")
    return _ingest(request, found, clock)


def _ingest(request: Request, receiver: Receiver, clock: Clock) -> Response:
    parts = container()
    source = receiver.metric_source
    now = clock()  # one instant for the whole delivery: signature window, event times and scoring agree
    try:
        delivery = _receive(receiver, incoming(request, parts.settings, now), parts.settings, parts.rules())
        result = parts.ingestion.ingest(delivery, now)
    except ClientError as exc:
        logger.info("delivery rejected", extra={"source": source, "result": exc.code, "status": exc.status})
        count_events(source, "rejected", 1)
        return _error(receiver, exc.status, exc.code, exc.message, exc.field)
    except RequestRefused as exc:
        logger.info("delivery refused by storage", extra={"source": source, "result": "rejected", "status": 400})
        count_events(source, "rejected", 1)
        return _error(receiver, 400, exc.code, "the delivery holds a value storage refuses")
    except Unavailable as exc:
        logger.warning("dependency unavailable", extra={"source": source, "result": "retry", "reason": str(exc)})
        return _error(receiver, 503, exc.code, exc.advice)
    rejected = [{"field": item.field, "message": item.message} for item in delivery.rejected]
    for name, value in (
        ("accepted", result.accepted),
        ("duplicate", result.duplicates),
        ("ignored", result.ignored),
        ("rejected", len(rejected)),
    ):
        count_events(source, name, value)
    count_not_scored(source, result.not_scored)
    logger.info(
        "delivery ingested",
        extra={
            "source": source,
            "result": "accepted",
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "ignored": result.ignored,
            "rejected": len(rejected),
            "deleted": result.deleted,
            "not_scored": dict(result.not_scored),
            "lead_ids": result.lead_ids,
        },
    )
    if receiver.soap is not None:
        return Response(body=receiver.soap.ack, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})
    body: dict[str, Any] = {
        "success": True,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "ignored": result.ignored,
    }
    if rejected:
        body["rejected"] = rejected  # the messages of a batch that were not accepted, and why
    return Response(body=body, status_code=200)


def _receive(receiver: Receiver, request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    """The vendor module's verify-and-parse; a model it builds that does not validate (an identity
    too long to be anyone's, say) is the sender's 400 too, never a 500."""
    try:
        return receiver.receive(request, settings, rules)
    except ValidationError as exc:
        raise bad_payload(exc) from exc


def incoming(request: Request, settings: Settings, now: datetime) -> IncomingRequest:
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {settings.max_body_bytes}")
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = decoded_body(body, headers.get("content-encoding"), settings.max_body_bytes)
    query = dict(request.query_params or {})
    return IncomingRequest(
        method=request.method,
        url=public_url(request, headers, query, settings),
        headers=headers,
        body=body,
        query=query,
        received_at=now,
    )


def public_url(request: Request, headers: dict[str, str], query: dict[str, str], settings: Settings) -> str:
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


def _error(receiver: Receiver | None, status: int, code: str, message: str, field: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Retry-After": "60"} if status == 503 else {}
    if receiver is not None and receiver.soap is not None:
        xml = receiver.soap.fault(message, status < 500)
        return Response(body=xml, status_code=status, headers={"Content-Type": "text/xml; charset=utf-8", **headers})
    # `code` too: Segment's SDKs read {"code", "message"} from an error reply.
    body: dict[str, Any] = {"error": code, "code": code, "message": message}
    if field:
        body["field"] = field
    if status == 401:
        tracking = receiver is not None and receiver.route == "tracking"
        headers["WWW-Authenticate"] = 'Basic realm="leadscore"' if tracking else "Signature"
    return Response(body=body, status_code=status, headers=headers)


def health() -> Response:
    """200 while the service can score; "degraded" names a rules version that could not be read
    (the last good one stays in force); 503 when nothing can be scored."""
    rules = container().rules
    try:
        rules()
        status = rules.status() if isinstance(rules, ActiveRules) else {}
    except Unavailable as exc:
        problems = rules.problems if isinstance(rules, ActiveRules) else []
        return Response(body={"status": "unavailable", "code": exc.code, "message": str(exc), "problems": problems},
                        status_code=503, headers={"Retry-After": "60"})  # fmt: skip
    state = "degraded" if status.get("problems") else "ok"
    return Response(body={"status": state, **({"rules": status} if status else {})}, status_code=200)


# ------------------------------------------------------------------------------------ leads API
def refuse_unless_allowed(request: Request, admin: bool) -> Response | None:
    """None when the request carries `Authorization: Bearer <key>` with the ADMIN_API_KEY, or for
    a read-only route (`admin` False) the VIEWER_API_KEY; else the 401 (no or wrong key) or the 403
    (the viewer key on an admin route)."""
    header = str(request.headers.get("authorization") or "")
    scheme, _, token = header.partition(" ")
    try:
        settings = container().settings
        admin_key, viewer_key = settings.secret("admin_api_key"), settings.secret("viewer_api_key")
    except Unavailable as exc:
        return _error(None, 503, exc.code, exc.advice)
    bearer = scheme.lower() == "bearer" and bool(token)
    if bearer and admin_key and same(admin_key, token):
        return None
    if bearer and viewer_key and same(viewer_key, token):
        if not admin:
            return None
        return _error(None, 403, "forbidden", "this needs the ADMIN_API_KEY; the viewer key is read-only")
    wanted = "<ADMIN_API_KEY>" if admin else "<ADMIN_API_KEY> or <VIEWER_API_KEY>"
    refused = _error(None, 401, "unauthorized", f"Authorization: Bearer {wanted} is required")
    refused.headers["WWW-Authenticate"] = "Bearer"
    return refused


def lead(key: str, clock: Clock = utc_now) -> Response:
    return _answer(lambda: container().lead_views.lead(key, clock()))


def leaderboard(request: Request, clock: Clock = utc_now) -> Response:
    from chalicelib.service_layer.leads_query import LeadsQuery

    def top() -> dict[str, Any]:
        parts = container()
        rules = parts.rules()
        return parts.lead_views.leads(LeadsQuery.from_params(request.query_params or {}, rules), clock())

    return _answer(top)


def accounts(request: Request) -> Response:
    return _answer(lambda: container().account_views.accounts(request.query_params or {}))


def account(key: str, request: Request) -> Response:
    found = lambda: container().account_views.account(key, request.query_params or {})  # noqa: E731
    return _answer(found, missing="no such account")


def recycle(key: str, request: Request, clock: Clock = utc_now) -> Response:
    """`POST /leads/{key}/recycle`, `?undo=true` to take the latest recycle back."""
    from chalicelib.service_layer.errors import BadPayload

    def run() -> dict[str, Any] | None:
        params: dict[str, str] = dict(request.query_params or {})
        undo = params.get("undo", "false").lower()
        if undo not in ("true", "false"):
            raise BadPayload("undo must be true or false", field="undo")
        return container().recycling.recycle(key, clock(), undo=undo == "true")

    return _answer(run)


def timeline(key: str, clock: Clock = utc_now) -> Response:
    return _answer(lambda: container().lead_views.timeline(key, clock()))


def activity(key: str, request: Request, clock: Clock = utc_now) -> Response:
    from chalicelib.service_layer.lead_views import ActivityQuery

    def page() -> dict[str, Any] | None:
        query = ActivityQuery.model_validate(dict(request.query_params or {}))
        return container().lead_views.activity(key, query, clock())

    return _answer(page)


def rules_in_force() -> Response:
    from chalicelib.rules.summary import rules_summary

    def summary() -> dict[str, Any]:
        rules = container().rules
        found = rules_summary(rules())
        if isinstance(rules, ActiveRules):
            found["active_version"] = rules.active_version()
            shadow = rules.shadow()
            found["shadow"] = None if shadow is None else {
                "version": rules.pointer.shadow, "name": shadow.name, "fingerprint": shadow.fingerprint,
                "since": rules.pointer.shadow_since.isoformat() if rules.pointer.shadow_since else None,
            }  # fmt: skip
        return found

    return _answer(summary)


def rules_versions(clock: Clock = utc_now) -> Response:
    return _answer(lambda: container().releases.listed(clock()))


def rules_version(number: str) -> Response:
    from chalicelib.service_layer.rules_releases import UnknownVersion

    def shown() -> dict[str, Any]:
        if not number.isdigit() or len(number) > 9:
            raise UnknownVersion(f"there is no rules version {number!r}", field="version")
        version = container().releases.show(int(number))
        return {"version": version.number, "name": version.name, "fingerprint": version.fingerprint,
                "deployed_by": version.deployed_by, "deployed_at": version.deployed_at.isoformat(),
                "message": version.message, "rules": version.text}  # fmt: skip

    return _answer(shown)


MAX_RULES_CHARACTERS = 256 * 1024  # as a preview takes (service_layer/rules_preview.py)


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: str = Field(min_length=1, max_length=MAX_RULES_CHARACTERS, description="the rules file (YAML)")
    message: str = Field(default="", max_length=500)
    role: Literal["shadow", "active", "stored"] = "shadow"


def deploy_rules(request: Request, clock: Clock = utc_now) -> Response:
    def run() -> dict[str, Any]:
        body = request.raw_body or b""
        if len(body) > 2 * MAX_RULES_CHARACTERS:
            raise PayloadTooLarge(f"body is {len(body)} bytes; too large for a rules file")
        data = load_json(body or b"null")
        query = DeployRequest.model_validate(data if isinstance(data, dict) else {})
        parts = container()
        done = parts.releases.deploy(query.rules, "console (admin key)", query.message, clock(),
                                     shadow=query.role == "shadow", activate=query.role == "active")  # fmt: skip
        refresh = getattr(parts.rules, "refresh", None)
        if refresh is not None:
            refresh()  # this container scores with it at once; the others within RULES_RECHECK_SECONDS
        return done

    return _answer(run)


def health_report() -> Response:
    return _answer(lambda: container().reports.health_report())


def shadow_report(clock: Clock = utc_now) -> Response:
    return _answer(lambda: container().reports.shadow_report(clock()))


def rules_preview(request: Request, clock: Clock = utc_now) -> Response:
    from chalicelib.service_layer.rules_preview import MAX_RULES_CHARACTERS, PreviewRequest, preview_rules

    def run() -> dict[str, Any]:
        body = request.raw_body or b""
        if len(body) > 2 * MAX_RULES_CHARACTERS:
            limit = 2 * MAX_RULES_CHARACTERS
            raise PayloadTooLarge(f"body is {len(body)} bytes; a rules preview takes at most {limit}")
        try:
            data = load_json(body or b"null")
        except BadPayload as exc:
            raise BadPayload(
                f'{exc.message}; the body must be JSON: {{"rules": "<the rules file>", "cursor": ..., "limit": ...}}'
            ) from exc
        query = PreviewRequest.model_validate(data if isinstance(data, dict) else {})
        parts = container()
        return preview_rules(parts.storage, parts.rules(), query, clock())

    return _answer(run)


CONSOLE = Path(__file__).resolve().parent.parent / "console"
CONSOLE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# The page runs only its own script and style and talks only to this API; it may not be framed.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def console_file(name: str) -> Response:
    """The console's static files, shipped in the package (no CDN, no build step). Public: the key
    is asked for in the page and sent only to the API."""
    content_type = CONSOLE_FILES.get(name)
    if content_type is None:
        return _error(None, 404, "not_found", "no such console file")
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Content-Security-Policy": CONSOLE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return Response(body=(CONSOLE / name).read_text(encoding="utf-8"), status_code=200, headers=headers)


def tier_report() -> Response:
    return _answer(lambda: container().reports.tier_report())


class ExceptionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=10, ge=1, le=100)


def exceptions_report(request: Request) -> Response:
    def report() -> dict[str, Any]:
        query = ExceptionsQuery.model_validate(dict(request.query_params or {}))
        return container().reports.exceptions_report(query.limit)

    return _answer(report)


class UnscoredQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=30, ge=1, le=REPORT_RETENTION_DAYS)


def unscored_report(request: Request, clock: Clock = utc_now) -> Response:
    def report() -> dict[str, Any]:
        query = UnscoredQuery.model_validate(dict(request.query_params or {}))
        return container().reports.unscored_report(clock(), query.days)

    return _answer(report)


def _answer(action: Callable[[], Any], missing: str = "no such lead") -> Response:
    """The action's result as the JSON body (None: 404), its failures as 4xx or 503."""
    try:
        result = action()
    except ClientError as exc:
        refused = _error(None, exc.status, exc.code, exc.message, exc.field)
        if isinstance(refused.body, dict):
            refused.body.update(exc.details)
        return refused
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return _error(None, 400, "bad_request", f"{field}: {first['msg']}", field)
    except RequestRefused as exc:
        return _error(None, 400, exc.code, "the request holds a value storage refuses")
    except Unavailable as exc:
        return _error(None, 503, exc.code, exc.advice)
    if result is None:
        return _error(None, 404, "not_found", missing)
    return Response(body=json.loads(json.dumps(result, default=str)), status_code=200)
