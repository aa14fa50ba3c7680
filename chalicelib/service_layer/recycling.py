"""Recycle a lead (`POST /leads/{key}/recycle`, `leadscore recycle KEY`): what it earned before no
longer counts, its fit stays; or undo the latest recycle. The recycle is an event in the lead's
history (domain/recycle.py), the lead is rescored from its events at once, the tier change is
recorded with the reason "recycled" (or "recycle undone"), and the new card is written back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.events import iso_z
from chalicelib.domain.recycle import recycle_event
from chalicelib.storage.ports import Storage, StoredEvent

from .errors import Conflict
from .publishing import ChangePublisher
from .rescoring import Rescorer


class Recycling:
    def __init__(
        self,
        storage: Storage,
        rescorer: Rescorer,
        publisher: ChangePublisher,
        find_lead: Callable[[str], str | None],
    ) -> None:
        """`find_lead`: the lead a key names now (merges followed); None when none does."""
        self.storage = storage
        self.rescorer = rescorer
        self.publisher = publisher
        self.find_lead = find_lead

    def recycle(self, key: str, now: datetime, undo: bool = False) -> dict[str, Any] | None:
        """The lead's card after it; None when no lead has the key. An undo with no recycle to take
        back is a ClientError (409)."""
        lead_id = self.find_lead(key)
        record = self.storage.leads.get_lead(lead_id) if lead_id else None
        if record is None or record.card is None:
            return None
        recycled = (record.basis or {}).get("recycled_us")
        if undo and recycled is None:
            raise Conflict("the lead is not recycled: there is nothing to undo")
        self.storage.events.store(record.lead_id, [StoredEvent(recycle_event(now, undo), None)], [])
        rescored = self.rescorer.rescore(record.lead_id, now, reason="recycle undone" if undo else "recycled")
        self.publisher.publish([rescored])
        card = rescored.after
        return {
            "lead_id": record.lead_id,
            "recycled": not undo,
            "at": iso_z(now),
            "score": card.score, "tier": card.tier, "grade": card.grade, "fit": card.fit,
            "engagement": card.engagement,
            "before": {"score": record.card.score, "tier": record.card.tier, "engagement": record.card.engagement},
        }  # fmt: skip
