"""What every inbound adapter shares: the request it reads, its parsing helpers and
the signing primitives. Vendor modules only translate their own format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib.domain.events import parse_instant
from chalicelib.service_layer.errors import BadPayload, PayloadTooLarge, Unauthorized


@dataclass(frozen=True)
class IncomingRequest:
    """A webhook delivery as the adapters see it: exact bytes, lower-cased headers, the public URL."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str]
    received_at: datetime

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadPayload("body is not UTF-8 text") from exc


# ------------------------------------------------------------------------------------- parsing
MAX_JSON_DEPTH = 32  # real payloads nest under 10; deeper is hostile, and recursion is finite


def parse_json(request: IncomingRequest) -> Any:
    return load_json(request.text())


def load_json(text: str | bytes) -> Any:
    """JSON a sender wrote, no deeper than MAX_JSON_DEPTH; anything else is its 400."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayload(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise BadPayload(f"body: JSON nested more than {MAX_JSON_DEPTH} deep") from exc
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise BadPayload(f"body: JSON nested more than {MAX_JSON_DEPTH} deep")
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Iterative, so that checking depth cannot itself run out of stack."""
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth >= limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def decoded_body(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as the sender meant it: `Content-Encoding: gzip` (RudderStack's and other SDKs'
    default) is inflated, never past `limit` bytes, so a small bomb cannot fill the memory."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip"):
        raise BadPayload(f"Content-Encoding {coding!r} is not supported (gzip is)", field="Content-Encoding")
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadPayload("body is not valid gzip", field="Content-Encoding") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed body is over the {limit}-byte limit")
    if not inflater.eof:
        raise BadPayload("body is truncated gzip", field="Content-Encoding")
    return data


def validate(model: type[BaseModel], data: Any, prefix: str = "") -> Any:
    """pydantic validation whose failure is a 400 naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_payload(exc, prefix) from exc


def bad_payload(exc: ValidationError, prefix: str = "") -> BadPayload:
    """A pydantic failure as the sender's 400, naming the first bad field."""
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"])
    where = f"{prefix}.{path}" if prefix and path else (prefix or path)
    return BadPayload(f"{where or 'body'}: {first['msg']}", field=where or None)


def instant(value: Any, field: str, default: datetime) -> datetime:
    """A vendor timestamp, or `default` when absent; a malformed one is the sender's 400."""
    try:
        return parse_instant(value) or default
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise BadPayload(f"{field}: not a timestamp", field=field) from exc


# ------------------------------------------------------------------------------------- signing
def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison, so a signature cannot be guessed byte by byte from timings."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def verify_body_signature(request: IncomingRequest, secret: str, source: str, header: str, prefix: str = "") -> None:
    """The common form-builder scheme: `header` = prefix + base64(HMAC-SHA256(secret, raw body))."""
    expected = prefix + b64(hmac_sha256(require_secret(secret, source), request.body))
    if not same(expected, request.header(header)):
        raise Unauthorized(f"{header} does not match")


def require_secret(secret: str, source: str) -> str:
    if not secret:
        # Unconfigured means closed: an empty secret must never verify anything.
        raise Unauthorized(f"{source} webhooks are not configured on this deployment")
    return secret


def check_fresh(
    timestamp: str | None, now: datetime, tolerance_seconds: int, header: str, per_second: int = 1000
) -> None:
    """Reject replays: `timestamp` (milliseconds by default, as HubSpot and Webflow send it) must be
    within the tolerance of now."""
    if not timestamp:
        raise Unauthorized(f"missing {header}")
    try:
        sent = float(timestamp) / per_second
    except ValueError as exc:
        raise Unauthorized(f"{header} is not a timestamp") from exc
    if abs(now.timestamp() - sent) > tolerance_seconds:
        raise Unauthorized(f"stale delivery: {header} is more than {tolerance_seconds // 60} minutes from now")
