"""CRM merges (a HubSpot `contact.merge`): the leads of the merged records become one lead under
the record that remains. The merge is stored as an event of that lead (a fixed id: a redelivery
is a no-op), any other lead the records had is folded into it (events copied, each counted once;
identities re-pointed), the merged-away ids are retired (they still find the lead, for a late
event of theirs, but no write-back goes to them), and the lead is rescored, the merge named as
the reason. A merge of records leadscore never saw leaves a lead holding their ids, so their
later events join it."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.alerts import CRM_NAMES
from chalicelib.domain.identity import LeadPlan
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.domain.recycle import SOURCE as OWN_SOURCE
from chalicelib.storage.ports import Storage

from .commands import RecordMerge
from .lead_writes import LeadWrites
from .rescoring import Rescored, Rescorer


class RecordMerges:
    def __init__(self, storage: Storage, writes: LeadWrites, rescorer: Rescorer) -> None:
        self.storage = storage
        self.writes = writes
        self.rescorer = rescorer

    def unite(self, merge: RecordMerge, now: datetime) -> Rescored:
        winner = f"{merge.kind}:{merge.winner}"
        losers = [f"{merge.kind}:{loser}" for loser in merge.losers]
        keys = [winner, *losers]
        known = self.storage.leads.resolve(keys)
        # The winner's lead survives (else the first of the others'): its card is what the CRM shows.
        owners = sorted(set(known.values()), key=lambda lead: (lead != known.get(winner), lead))
        plan = LeadPlan([], keys, owners[0] if owners else None, owners[1:])
        written = self.writes.store([_merge_event(merge)], plan, known)
        self.storage.leads.retire_keys(written.lead_id, losers)
        crm = CRM_NAMES.get(merge.kind, merge.kind)
        reason = f"merged in {crm}: {', '.join(merge.losers)} into {merge.winner}"
        rescored = self.rescorer.rescore(written.lead_id, now, reason=reason)
        # The card goes to the record that remains, changed or not (it may never have had it).
        self.storage.outbox.reopen(written.lead_id, now)
        return rescored


def _merge_event(merge: RecordMerge) -> LeadEvent:
    """The merge in the lead's history (a profile change that changes nothing in its profile)."""
    losers = "-".join(sorted(merge.losers))
    return LeadEvent(
        event_id=f"merge-{merge.kind}-{merge.winner}-{losers}"[:200],
        source=OWN_SOURCE,
        type=PROFILE_EVENT,
        occurred_at=merge.at,
        identities=Identities(**{f"{merge.kind}_id": merge.winner}),  # the lead's record from now on
        properties={"profile": {}, "merged": {"crm": merge.kind, "into": merge.winner, "from": list(merge.losers)}},
    )
