"""The fold's memory, stored apart from the rest of the basis: the emails a lead was sent (what a
later click or reply earns by) and each repeat rule's scopes ("+5, then +2 per message").

The card and its next change never need them; only folding an email send, click or reply, or an
event of a rule that counts repeats, does. Kept apart, a page view (most events) reads and writes
the basis without them, and a busy lead's hundred remembered emails cost nothing to it.

The memory is addressed by its content (`stamp`): the basis names the stamp of the memory it goes
with, so a memory read beside a basis is used only when the stamps agree (a basis and memory from
different saves cannot be mixed, whatever order a concurrent write landed in), and a fold that
leaves the memory as it was writes nothing for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from .compiled_rules import CompiledRules
from .events import LeadEvent

STAMP = "memory"  # in a basis stored without its memory: the stamp of the memory it goes with
_BASIS_KEYS = ("messages", "forgotten")  # the email memory (engagement.Folder)
_RULE_KEYS = ("s", "f")  # a rule's repeat scopes and the ones it let go of (basis._tally_json)


def needs_memory(events: Iterable[LeadEvent], compiled: CompiledRules) -> bool:
    """Whether folding these events reads the memory (decided from their types, before reading)."""
    canonical = compiled.canonical_type
    return any(compiled.plan(canonical(event.type)).remembers for event in events)


def split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A whole basis (`ScoreBasis.to_json`) as (the basis without its memory, the memory with its
    stamp; None when there is nothing to remember). The basis names the memory's stamp."""
    core = {key: value for key, value in data.items() if key not in _BASIS_KEYS}
    memory: dict[str, Any] = {key: data[key] for key in _BASIS_KEYS if data.get(key)}
    rules: dict[str, Any] = {}
    core_rules = []
    for item in data.get("rules", []):
        kept = {key: item[key] for key in _RULE_KEYS if item.get(key)}
        if kept:
            rules[str(item["i"])] = kept
            item = {key: value for key, value in item.items() if key not in _RULE_KEYS}
        core_rules.append(item)
    core["rules"] = core_rules
    if rules:
        memory["rules"] = rules
    if not memory:
        return core, None
    memory["stamp"] = _stamp(memory)
    core[STAMP] = memory["stamp"]
    return core, memory


def join(core: dict[str, Any], memory: dict[str, Any] | None) -> dict[str, Any] | None:
    """The whole basis from a stored one and the memory read beside it; None when they do not go
    together (the memory is missing or from another save: fold without it, see `ScoreBasis`)."""
    stamp = core.get(STAMP)
    if stamp is None:
        return core  # stored whole, or with nothing to remember
    if memory is None or memory.get("stamp") != stamp:
        return None
    whole = {key: value for key, value in core.items() if key != STAMP}
    whole.update((key, memory[key]) for key in _BASIS_KEYS if key in memory)
    rules = memory.get("rules", {})
    whole["rules"] = [{**item, **rules.get(str(item["i"]), {})} for item in core.get("rules", [])]
    return whole


def stored_parts(data: dict[str, Any], stored: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What to store for a basis, in place of the `stored` one: (the basis without its memory, the
    memory write: None to leave the stored memory as it is, {} to delete it, else the memory to
    put). A basis folded without its memory (it names a stamp) leaves the memory alone."""
    if STAMP in data:
        return data, None
    stamp_before = (stored or {}).get(STAMP)
    core, memory = split(data)
    if memory is None:
        return core, {} if stamp_before is not None else None
    return core, None if memory["stamp"] == stamp_before else memory


def _stamp(memory: dict[str, Any]) -> str:
    text = json.dumps(memory, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.blake2b(text.encode(), digest_size=9).digest()).decode()
