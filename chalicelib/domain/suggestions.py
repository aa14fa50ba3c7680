"""The closest valid name to a misspelt one, for messages: "did you mean `unsubscribe`?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# difflib's ratio: 0.6 takes `pionts` -> `points` and `unsubscibe` -> `unsubscribe`, not `decay` -> `day`.
CUTOFF = 0.6


def closest(word: str, candidates: Iterable[str]) -> str | None:
    options = sorted({str(candidate) for candidate in candidates} - {word})
    folded = {option.casefold(): option for option in options}
    if word.casefold() in folded:
        return folded[word.casefold()]  # only the case differs
    found = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=CUTOFF)
    return folded[found[0]] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """ "; did you mean `x`?" to end a message with, or "" when nothing is close."""
    found = closest(word, candidates)
    return f"; did you mean `{found}`?" if found else ""
