"""Documented limits on what a lead event may carry, so that no delivery, however large or odd,
can produce an item DynamoDB refuses (400 KB an item, 4 MB a transaction, 1 KB a sort key) and
turn into a retry that can never succeed. Values over a limit are cut, never rejected: a tracker's
one huge property must not lose the event.

- text: lone UTF-16 surrogates (valid in JSON, not in UTF-8) become U+FFFD; bidirectional controls
  and other invisible format characters are removed (a company "Acme\u202egnp.exe\u202c" would
  otherwise show as "Acmeexe.png"); the joiners scripts and emoji need (U+200C, U+200D) are kept
- a string property: at most MAX_TEXT characters
- a list or object: at most MAX_ITEMS entries, nested at most MAX_DEPTH deep
- all properties of one event: about MAX_EVENT_BYTES of UTF-8 (what does not fit is dropped)
- an event id: at most MAX_EVENT_ID characters; a longer one is replaced by its SHA-256 (stable,
  so a redelivery still deduplicates)
- an identity value (email, user id ...): at most MAX_IDENTITY characters, else the event is refused
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

MAX_TEXT = 1_000
MAX_ITEMS = 100
MAX_DEPTH = 6
MAX_EVENT_BYTES = 16_000
MAX_EVENT_ID = 200
MAX_IDENTITY = 256
_SURROGATE = re.compile("[\ud800-\udfff]")
# Bidirectional embeddings, overrides, isolates and marks; zero-width space, word joiner and the
# invisible operators; the Mongolian vowel separator; the byte order mark; interlinear annotation.
_INVISIBLE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def clean_text(text: str) -> str:
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text


def bounded_event_id(event_id: str) -> str:
    event_id = clean_text(event_id)
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


def bounded_properties(properties: dict[str, Any]) -> dict[str, Any]:
    budget = [MAX_EVENT_BYTES]
    result = _bounded(properties, 0, budget)
    return result if isinstance(result, dict) else {}


def _bounded(value: Any, depth: int, budget: list[int]) -> Any:
    if isinstance(value, str):
        text = clean_text(value[:MAX_TEXT])
        budget[0] -= len(text) if text.isascii() else 4 * len(text)
        return text
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return None
        out: dict[str, Any] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            if budget[0] <= 0:
                break
            name = clean_text(str(key)[:MAX_TEXT])
            budget[0] -= len(name) + 4
            out[name] = _bounded(item, depth + 1, budget)
        return out
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            return None
        items: list[Any] = []
        for item in list(value)[:MAX_ITEMS]:
            if budget[0] <= 0:
                break
            items.append(_bounded(item, depth + 1, budget))
        return items
    budget[0] -= 8
    return value
