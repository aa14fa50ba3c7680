"""`GET /reports/shadow`: the active and the shadow rules side by side on live leads, since the
shadow started. The tier migration matrix (active tier → shadow tier, every live lead), the
biggest movers with both versions' reasons, and on the leads whose sales outcome arrived since:
each version's AUC and conversion and win rate by tier, each by the card it showed when sales
acted (stored with the outcome)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.metrics import auc, rates_by
from chalicelib.domain.rules import Rules

MOVERS = 20


def shadow_report(
    rows: Iterable[Mapping[str, Any]], active: Rules, shadow: Rules, since: datetime | None
) -> dict[str, Any]:
    """`rows`: each lead's active tier, score, reasons and outcome, and `shadow` (its shadow card
    now, None when it has none from these rules yet)."""
    moves: Counter[tuple[str, str]] = Counter()
    movers: list[dict[str, Any]] = []
    resolved: list[Mapping[str, Any]] = []
    unscored = 0
    for row in rows:
        outcome = row.get("outcome") or {}
        if outcome.get("state") in ("won", "lost") and _since(outcome.get("at"), since):
            resolved.append(row)
        card = row.get("shadow")
        if card is None:
            unscored += 1
            continue
        moves[(row["tier"], card["tier"])] += 1
        movers.append({
            "lead_id": row["lead_id"], "name": row.get("name"), "email": row.get("email"),
            "score": row["score"], "shadow_score": card["score"], "change": card["score"] - row["score"],
            "tier": row["tier"], "shadow_tier": card["tier"],
            "reasons": list(row.get("reasons", [])), "shadow_reasons": list(card.get("reasons", [])),
        })  # fmt: skip
    movers = [mover for mover in movers if mover["change"] or mover["tier"] != mover["shadow_tier"]]
    movers.sort(key=lambda mover: (-abs(mover["change"]), mover["lead_id"]))
    tiers = _tiers(active) + [tier for tier in _tiers(shadow) if tier not in _tiers(active)]
    return {
        "active": {"name": active.name, "fingerprint": active.fingerprint},
        "shadow": {"name": shadow.name, "fingerprint": shadow.fingerprint},
        "since": since.isoformat() if since else None,
        "leads": sum(moves.values()),
        "not_yet_scored": unscored,
        "tiers": tiers,
        "moves": [{"from": before, "to": after, "leads": count} for (before, after), count in sorted(moves.items())],
        "changed_tier": sum(count for (before, after), count in moves.items() if before != after),
        "movers": movers[:MOVERS],
        "outcomes": _outcomes(resolved, active, shadow),
    }


def _outcomes(resolved: list[Mapping[str, Any]], active: Rules, shadow: Rules) -> dict[str, Any]:
    def won(row: Mapping[str, Any]) -> bool:
        return bool(row["state"] == "won")

    counted_active = [{"state": row["outcome"]["state"], "tier": row["outcome"].get("tier", row["tier"]),
                       "score": row["outcome"].get("score", row["score"])} for row in resolved]  # fmt: skip
    counted_shadow = []
    for row in resolved:
        then = row["outcome"].get("shadow") or {}
        if then.get("fingerprint") == shadow.fingerprint:
            counted_shadow.append({"state": row["outcome"]["state"], "tier": then["tier"], "score": then["score"]})

    def version(counted: list[dict[str, Any]], rules: Rules) -> dict[str, Any]:
        value = auc([row["score"] for row in counted], [won(row) for row in counted])
        by_tier = rates_by(counted, lambda row: row["tier"], won, lambda row: True, order=_tiers(rules))
        return {
            "leads": len(counted),
            "won": sum(1 for row in counted if won(row)),
            "auc": None if value is None else round(value, 4),
            "tiers": {rate.group: rate.as_dict() for rate in by_tier},
        }

    return {
        "leads": len(resolved),
        "active": version(counted_active, active),
        "shadow": version(counted_shadow, shadow),
    }


def _tiers(rules: Rules) -> list[str]:
    return [band.name for band in reversed(rules.tiers.bands)] + [rules.tiers.disqualified]


def _since(at: str | None, since: datetime | None) -> bool:
    return since is None or (at is not None and datetime.fromisoformat(at) >= since)
