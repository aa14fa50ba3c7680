"""The activity page's cursor: where the next page of a lead's events starts (the last event's time
and key), opaque to the client and checked on the way back (a tampered cursor is a 400)."""

from __future__ import annotations

import base64
import binascii
import json

MAX_KEY = 2048


def encode(event_us: int, sort_key: str) -> str:
    raw = json.dumps({"u": event_us, "s": sort_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        event_us, sort_key = data["u"], data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a cursor this list handed out") from exc
    if type(event_us) is not int or not isinstance(sort_key, str) or not 0 < len(sort_key) <= MAX_KEY:
        raise ValueError("not a cursor this list handed out")
    return event_us, sort_key
