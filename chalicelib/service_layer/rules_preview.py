"""`POST /rules/preview`: what a rules file would do to the live leads, before it goes live.

Every listed lead (the leads list's pages, so no Scan) is rescored from its stored events with the
proposed rules and compared with the card it shows now: a tier migration matrix and the biggest
movers, a page at a time, with a count of all leads for progress. Nothing is written.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.folding import full_basis
from chalicelib.domain.named_scores import NamedCard
from chalicelib.domain.named_scoring import named_full
from chalicelib.domain.rules import Rules
from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_diff import rules_diff
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.domain.scoring import card_from_basis
from chalicelib.service_layer.errors import BadPayload, ClientError
from chalicelib.service_layer.leads_query import known_tiers
from chalicelib.storage.ports import Storage

MAX_RULES_CHARACTERS = 256 * 1024
MOVERS = 20  # per page: the console keeps the biggest over all pages


class InvalidRules(ClientError):
    status = 400
    code = "invalid_rules"

    def __init__(self, error: RulesError) -> None:
        super().__init__(f"the rules file has {len(error.issues)} problem(s)")
        # `text` is the line `rules validate` prints, so the console shows the same detail.
        self.details["issues"] = [
            {"path": issue.path, "message": issue.message, "line": issue.line, "text": str(issue)}
            for issue in error.issues
        ]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: str = Field(min_length=1, max_length=MAX_RULES_CHARACTERS, description="the proposed rules file (YAML)")
    cursor: str | None = Field(default=None, max_length=2048, description="next_cursor of the previous page")
    limit: int = Field(default=100, ge=1, le=500)


def _tally_named(named: dict[str, Counter[str]], before: dict[str, int], cards: list[NamedCard]) -> None:
    for card in cards:
        counts, was = named[card.name], before.get(card.name)
        counts["leads"] += 1
        counts["total"] += card.score
        counts["new"] += was is None
        counts["rose"] += was is not None and card.score > was
        counts["fell"] += was is not None and card.score < was


def preview_rules(storage: Storage, current: Rules, request: PreviewRequest, now: datetime) -> dict[str, Any]:
    try:
        proposed = parse_rules(request.rules, source="preview")
    except RulesError as exc:
        raise InvalidRules(exc) from exc
    tiers = known_tiers(current)
    try:
        page = storage.listing.leads_page(tiers, None, request.limit, request.cursor)
    except ValueError as exc:
        raise BadPayload(str(exc), field="cursor") from exc
    moves: Counter[tuple[str, str]] = Counter()
    movers: list[dict[str, Any]] = []
    named: dict[str, Counter[str]] = {name: Counter() for name in proposed.scores}
    for row in page.rows:
        record = storage.leads.load(row.lead_id, now)
        if record is None or record.card is None or record.merged_into:
            continue
        before = record.card
        _, basis = full_basis(record.events, proposed, now)
        after = card_from_basis(basis, proposed, now, previous_tier=before.tier)
        moves[(before.tier, after.tier)] += 1
        if proposed.scores:
            _tally_named(named, before.named_visible, named_full(record.events, proposed, now)[1])
        profile = json.loads(record.profile_json or "{}")
        movers.append({
            "lead_id": record.lead_id, "name": row.name, "email": profile.get("email"),
            "company": profile.get("company"),
            "score_before": before.score, "score_after": after.score, "change": after.score - before.score,
            "tier_before": before.tier, "tier_after": after.tier,
        })  # fmt: skip
    # A lead whose score and tier stay is no mover.
    movers = [mover for mover in movers if mover["change"] or mover["tier_before"] != mover["tier_after"]]
    movers.sort(key=lambda mover: (-abs(mover["change"]), mover["lead_id"]))
    answer: dict[str, Any] = {
        "rules": {"name": proposed.name, "fingerprint": proposed.fingerprint},
        "current_rules": {"name": current.name, "fingerprint": current.fingerprint},
        "scanned": sum(moves.values()),
        "moves": [{"from": before, "to": after, "leads": count} for (before, after), count in sorted(moves.items())],
        "movers": movers[:MOVERS],
        # Each named score on this page: how many leads it rose or fell for, and the sum of its
        # scores (the console adds pages up), against what the leads show now.
        "named": [{"name": name, "label": proposed.scores[name].label, **counts} for name, counts in named.items()],
        "next_cursor": page.cursor,
    }
    if request.cursor is None:
        answer["total"] = storage.listing.count_leads(tiers)  # for the progress bar: how many pages to expect
        answer["diff"] = rules_diff(current, proposed)  # what the edit changes, in words
    return answer
