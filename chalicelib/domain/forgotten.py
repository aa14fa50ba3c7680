"""What a bounded memory had to let go of while it still mattered.

A lead's basis remembers at most REMEMBERED emails, and repeat scopes per rule (the most recently
active). A lead can have more alive at once (a shared inbox, a heavy newsletter reader), and
forgetting one would change what a later event earns: a repeat open would earn first-open points,
a click would lose its email's multipliers. So what is let go of while still alive is written into
a Bloom filter: an event that names something the filter may hold is not folded but rescored from
the events (exact), and anything else is certainly new. The filter is cleared once everything in it
has ended. A false positive costs a rescore, never a wrong score.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from typing import Any

MICRO = 1_000_000

BITS = 2048  # 256 bytes: 1% false positives with 120 names let go of, 5% with 300
HASHES = 7
_POSITION_BITS = 11  # 2**11 == BITS
_MASK = BITS - 1


@functools.lru_cache(maxsize=8192)
def _positions(name: str) -> tuple[int, ...]:
    value = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=10).digest(), "big")
    return tuple((value >> (_POSITION_BITS * number)) & _MASK for number in range(HASHES))


class Forgotten:
    """A Bloom filter of names, and when the last of them ends (epoch s; 0: one never does)."""

    __slots__ = ("bits", "until")

    def __init__(self, bits: int = 0, until: int = -1) -> None:
        self.bits = bits
        self.until = until  # -1: empty

    def __bool__(self) -> bool:
        return self.until != -1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Forgotten) and (self.bits, self.until) == (other.bits, other.until)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Forgotten(until={self.until}, names~{self.bits.bit_count() // HASHES})"

    def add(self, name: str, ends_s: int) -> None:
        for position in _positions(name):
            self.bits |= 1 << position
        self.until = 0 if (ends_s == 0 or self.until == 0) else max(self.until, ends_s)

    def may_hold(self, name: str) -> bool:
        if self.until == -1:
            return False
        bits = self.bits
        return all(bits >> position & 1 for position in _positions(name))

    def forget_ended(self, now_us: int) -> None:
        """Empty once every name in it has ended by `now_us`: none can matter again."""
        if self.until > 0 and self.until * MICRO <= now_us:
            self.bits, self.until = 0, -1

    def to_json(self) -> list[object]:
        return [base64.b64encode(self.bits.to_bytes(BITS // 8, "big")).decode(), self.until]

    @classmethod
    def from_json(cls, data: list[object] | None) -> Forgotten:
        if not data:
            return cls()
        bits, until = data
        return cls(int.from_bytes(base64.b64decode(str(bits)), "big"), int(str(until)))


def let_go(memory: dict[str, Any], limit: int, forgotten: Forgotten, ends_s: Callable[[Any], int]) -> None:
    """Keep the `limit` most recently active entries of `memory` (dicts keep activity order: an
    entry is moved to the end when used); the rest go into `forgotten` with when they end
    (`ends_s(entry)`, epoch s, 0: never)."""
    excess = len(memory) - limit
    if excess <= 0:
        return
    for name in list(memory)[:excess]:
        forgotten.add(name, ends_s(memory.pop(name)))
