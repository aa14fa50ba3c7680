"""What a storage write raises when someone else wrote first (the ports name them; storage.ports
re-exports them)."""

from __future__ import annotations


class VersionConflict(Exception):
    """Another writer saved the lead since we read it: read again and rescore."""


class IdentityConflict(Exception):
    """An identity key was claimed by another lead between resolution and write: resolve again."""


class LeadMerged(Exception):
    """The lead was merged into another while we were writing to it: write to that one."""


class DuplicateEvents(Exception):
    """Some events of an append were stored before: fold again without them (nothing was written)."""

    def __init__(self, event_ids: list[str]) -> None:
        super().__init__(f"{len(event_ids)} events were stored before")
        self.event_ids = event_ids


class VersionTaken(Exception):
    """Another deploy stored this version number first."""


class PointerMoved(Exception):
    """Another command changed the active or shadow version since it was read."""
