"""The storage ports: what the use cases need from storage, one interface per role, and the
records they get back:
- `LeadRepository`: the lead item and who it is (identities, merges, deletion);
- `EventLog`: new events written with their identity claims (and the card folded from them);
- `ChangeOutbox`: visible changes waiting for their write-back, and what each attempt did;
- `LeadListing`: what the console lists and the reports read;
- `JobState`: what the scheduled jobs work through and where they stopped;
- `EventNameCounts`: the daily counts of events that earned nothing;
- `RulesVersions`: the rules versions deployed to the stack, and which are active and shadow;
- `Accounts`: the companies and their contacts ranked by engagement (account_ports.py).

`Storage` holds one of each. Implemented by `storage.dynamodb.DynamoStorage` (production, tested
against moto) and `storage.memory.InMemoryStorage` (fast use-case tests); the same contract tests
run against both. The use cases depend on this module only."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from chalicelib.domain.events import LeadEvent
from chalicelib.domain.releases import RulesPointer
from chalicelib.domain.scorecard import CardChange, ScoreCard, Visible
from chalicelib.domain.unscored import UnscoredCount
from chalicelib.errors import StorageUnavailable

from .account_ports import Accounts
from .conflicts import DuplicateEvents, IdentityConflict, LeadMerged, PointerMoved, VersionConflict, VersionTaken

__all__ = [
    "ChangeOutbox",
    "DueLead",
    "DuplicateEvents",
    "EventLog",
    "EventNameCounts",
    "IdentityConflict",
    "JobState",
    "LeadListing",
    "LeadMerged",
    "LeadPage",
    "LeadRecord",
    "LeadRepository",
    "LeadRow",
    "LeadSave",
    "Order",
    "PointerMoved",
    "RulesPointer",
    "RulesVersion",
    "RulesVersions",
    "Storage",
    "StorageUnavailable",
    "StoreResult",
    "StoredEvent",
    "VersionConflict",
    "VersionTaken",
]


@dataclass
class LeadRow:
    """A line of the leads list: what the leads page shows, read without the card or basis.
    Times are ISO 8601 UTC with `Z`."""

    lead_id: str
    score: int
    fit: int
    engagement: float
    tier: str
    grade: str
    reasons: list[str]
    updated_at: str | None
    name: str | None = None
    email: str | None = None
    company: str | None = None
    last_active_at: str | None = None
    next_change_at: str | None = None
    # Where the lead lives in the CRMs and how it ended, for the view to turn into links, owner
    # and stage (domain/crm_context.py); not shown as they are.
    profile_json: str | None = None
    keys: list[str] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    change_1d: int | None = None  # the score's change since yesterday and over the week (None: not asked)
    change_7d: int | None = None
    account: str | None = None  # the account it belongs to (its key)


READ_BOUND = 10  # leads a filtered page may read per lead it can show
Order = Literal["score", "change", "last_active"]  # the leads list's orders (listing_order.py)


@dataclass
class LeadPage:
    rows: list[LeadRow]
    cursor: str | None  # opaque: where the next page starts; None at the end


@dataclass(frozen=True)
class StoredEvent:
    event: LeadEvent
    expires_at: datetime | None


@dataclass(frozen=True)
class EventPage:
    events: list[LeadEvent]  # newest first
    cursor: str | None  # opaque: where the next page starts; None at the end


@dataclass(frozen=True)
class StoreResult:
    stored: list[str]
    duplicates: list[str]


@dataclass
class LeadRecord:
    lead_id: str
    version: int
    keys: list[str]
    card: ScoreCard | None
    events: list[LeadEvent] = field(default_factory=list)
    profile_json: str | None = None
    basis: dict[str, Any] | None = None
    crm: dict[str, Any] | None = None  # what the last write-back wrote, when and where
    crm_attempt: dict[str, Any] | None = None  # the last write-back that did not write, and why
    sync_pending_since: str | None = None
    tier_changed_at: str | None = None
    merged_into: str | None = None
    outcome: dict[str, Any] | None = None  # the last sales outcome (won/lost/reopened), with the card then
    # Set by `EventLog.store` (events written apart from the card): the basis lacks them until a
    # full rescore, which saves only if the mark is still the one it read.
    rescore_mark: str | None = None
    day_starts: dict[date, int] = field(default_factory=dict)  # the score each day started at (domain/score_change.py)
    crm_moves: dict[str, dict[str, str]] = field(default_factory=dict)  # what the next write-back moves
    shadow: dict[str, Any] | None = None  # the shadow rules' score (domain/shadow.py), while one runs
    account: str | None = None  # the account it belongs to (domain/accounts.py), as last saved
    retired: set[str] = field(default_factory=set)  # CRM ids merged away in their CRM: never written to
    # The fold's memory stored beside the basis (domain/fold_memory.py), when it was read with it.
    memory: dict[str, Any] | None = None

    @property
    def crm_visible(self) -> list[Any] | None:
        return self.crm.get("visible") if self.crm else None


@dataclass(frozen=True)
class LeadSave:
    """One rescore to store. `before` is the visible card it replaces (None: a new lead); the
    optional parts are left as they are when None (the decay job saves a card and nothing else)."""

    lead_id: str
    expected_version: int
    card: ScoreCard
    before: Visible | None
    now: datetime
    basis: dict[str, Any] | None = None
    keys: Sequence[str] | None = None
    profile_json: str | None = None
    reason: str = ""
    sales_outcome: dict[str, Any] | None = None
    # The profile it replaces (None: unknown), so an unchanged name is not written again.
    profile_before_json: str | None = None
    # What the write-back moves in each CRM (domain/crm_actions.py); {}: nothing; None: as it was.
    crm_moves: dict[str, dict[str, str]] | None = None
    # "full": scored from every stored event (clears the rescore mark seen when loaded,
    # `seen_rescore_mark`); "fold": new events folded into the basis (only while there is no rescore
    # mark); "card": decay.
    kind: str = "card"
    seen_rescore_mark: str | None = None
    # The shadow rules' score (domain/shadow.py); {}: none (removed); None: as it was.
    shadow: dict[str, Any] | None = None
    # The account it belongs to (domain/accounts.py); "": none; None: as it was (decay knows no profile).
    account: str | None = None
    named_before: dict[str, int] = field(default_factory=dict)  # the named scores the CRM showed
    # The fold's memory (domain/fold_memory.py): None leaves it as stored, {} deletes it, else put.
    memory: dict[str, Any] | None = None

    @property
    def card_change(self) -> CardChange:
        return CardChange(self.before, self.card, self.named_before)


@dataclass(frozen=True)
class DueLead:
    """A lead whose next visible change is due, as the due index projects it: enough to decay it
    from its basis without reading its events."""

    lead_id: str
    version: int
    basis: dict[str, Any] | None
    visible: Visible


class LeadRepository(Protocol):
    """The lead item and who it is: what rescoring, look-ups and the write-back read and save."""

    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        """identity key -> lead id, for the keys that are known."""
        ...

    def remember_identity(self, lead_id: str, key: str) -> None:
        """A key learnt outside a delivery (a Salesforce id found by email): claim it for the lead."""
        ...

    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        """The lead with its live (unexpired) events."""
        ...

    def get_lead(self, lead_id: str, memory: bool = False) -> LeadRecord | None:
        """The lead item; with `memory`, the fold's memory beside it (LeadRecord.memory)."""
        ...

    def get_leads(self, lead_ids: Sequence[str], memory: Collection[str] = ()) -> dict[str, LeadRecord]:
        """The lead items, in one request per 100; the fold's memory beside those in `memory`."""
        ...

    def save(self, change: LeadSave) -> int:
        """Store the card if nobody saved the lead since `expected_version`, else VersionConflict;
        returns the new version. A visible change opens an outbox entry, a tier change is recorded."""
        ...

    def merged_into(self, lead_id: str) -> str | None: ...

    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None: ...

    def retire_keys(self, lead_id: str, keys: Iterable[str]) -> None:
        """Keys merged away in their CRM: they still find the lead, it is never written to them."""
        ...

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None: ...


NewLead = tuple[str, Sequence[StoredEvent], Sequence[str], LeadSave]  # create's arguments


class EventLog(Protocol):
    """New events, each stored once ever, with the identity keys they claim for their lead."""

    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        """Write new events and claim identity keys for the lead, apart from its card (the lead is
        marked for a rescore from its events). Raises LeadMerged or IdentityConflict when the lead
        or a key changed hands meanwhile."""
        ...

    def create(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> int | None:
        """A new lead's claims, events and first card at once; None when it cannot be done in one
        write (the caller stores and rescores as usual). Raises IdentityConflict, writing nothing."""
        ...

    def create_many(self, leads: Sequence[NewLead]) -> list[int | None]:
        """`create` for each lead, in as few writes as hold them; an IdentityConflict answers None."""
        ...

    def append(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave) -> int:
        """New events, identity claims and the card folded from them, in one write: only if the lead
        is still at `change.expected_version`, not merged and not marked for a rescore. Returns the
        new version. Raises VersionConflict (read the lead again), DuplicateEvents or
        IdentityConflict, writing nothing. At most `append_room(len(claim_keys))` events at once."""
        ...

    def append_room(self, claims: int) -> int: ...

    def page(self, lead_id: str, limit: int, cursor: str | None, now: datetime) -> EventPage:
        """The lead's live events, newest first, `limit` at most (fewer when some have expired);
        each page costs the same whatever the lead's history. Raises ValueError for a cursor this
        lead's pages did not hand out."""
        ...

    def add_feed_keys(self, lead_id: str) -> int:
        """Give what was stored before the indexes that list it its keys there: the lead's events and
        tier changes (`page`, `tier_changes_on`), the lead item by its last activity and its name
        (sort=last_active, search); how many needed it (0 once done: safe to repeat)."""
        ...


class ChangeOutbox(Protocol):
    """Visible changes not yet written back (opened by `LeadRepository.save`), closed by a write."""

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        """Leads whose visible change has waited since before `older_than` for its write-back."""
        ...

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        """Close the outbox entry unless the lead changed since `version`."""
        ...

    def reopen(self, lead_id: str, now: datetime) -> None:
        """Open the lead's outbox entry though its card did not change (its CRM record did)."""
        ...

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        """Why the last write-back did not write (cleared by the next that does); never creates a lead."""
        ...

    def claim_alert(self, lead_id: str, kind: str, at: datetime, quiet: timedelta, token: str) -> bool:
        """Whether an alert of this kind about the lead may go out for a change at `at`: none went
        within `quiet` before it, or the one that did was claimed with `token` (the same task, tried
        again). A claim that succeeds records `at` and `token`."""
        ...

    def release_alert(self, lead_id: str, kind: str, token: str) -> None:
        """Take back the claim `token` made (its alert was never delivered), so a redrive may send it."""
        ...

    def hold_alert(self, destination: str, day: date, name: str, alert: dict[str, Any]) -> None:
        """Keep an alert for `destination`'s digest of `day` (the same name again replaces it)."""
        ...

    def held_alerts(self, destination: str, before: date) -> list[tuple[str, dict[str, Any]]]:
        """The alerts held for `destination` for days before `before`, oldest first: (id, alert)."""
        ...

    def drop_held(self, destination: str, ids: Sequence[str]) -> None: ...


class LeadListing(Protocol):
    """What the console lists and the reports read, without the cards' details or the events."""

    def leads_page(
        self,
        tiers: Sequence[str],
        grade: str | None,
        limit: int,
        cursor: str | None,
        keep: Callable[[LeadRow], bool] | None = None,
        order: Order = "score",
        today: date | None = None,
    ) -> LeadPage:
        """Leads of these tiers that `keep` keeps, a page at a time, in `order` (listing_order.py:
        score: tier by tier in the order given, each by score, highest first; change; last_active);
        with `today` (which change and last_active need), each row's change. A page stops early
        (with a cursor) after reading READ_BOUND x `limit` leads, so a rare match never costs a
        read of the table. Raises ValueError for a cursor it did not hand out."""
        ...

    def search(self, text: str, limit: int, today: date | None = None) -> list[LeadRow]:
        """Leads whose company or name starts with `text` (case, accents and punctuation ignored;
        a name by any of its words: "lovelace" finds Ada Lovelace), highest score first."""
        ...

    def lead_rows(self, lead_ids: Sequence[str], today: date | None = None) -> list[LeadRow]: ...

    def count_leads(self, tiers: Sequence[str]) -> int:
        """How many leads these tiers hold (a count from the index, not a read of the leads)."""
        ...

    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]: ...

    def tier_changes_on(self, day: date, limit: int = 1000) -> list[dict[str, Any]]:
        """Every lead's tier changes of one UTC day, newest first: lead_id, from, to, at, score."""
        ...

    def report_rows(self) -> Iterator[dict[str, Any]]:
        """Every lead's tier, grade, score, sales outcome and reasons."""
        ...


class JobState(Protocol):
    """What the scheduled jobs work through (due leads, every lead) and where each stopped."""

    def due_leads(self, now: datetime) -> Iterator[DueLead]: ...

    def scan_leads(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]: ...

    def rules_progress(self) -> dict[str, Any]: ...

    def save_rules_progress(self, progress: dict[str, Any]) -> None: ...

    def job_state(self, name: str) -> dict[str, Any]:
        """A background job's stored progress (an import's cursor, say); {} before its first run."""
        ...

    def save_job_state(self, name: str, state: dict[str, Any]) -> None: ...


class EventNameCounts(Protocol):
    """The unscored report's counts: events that earned nothing, per day, source, name and reason."""

    def count_unscored(self, lines: Sequence[UnscoredCount], now: datetime) -> None:
        """Add one delivery's events that earned nothing to the day's report lines (one write a line)."""
        ...

    def unscored_lines(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The report lines of these UTC days (ISO dates), one per day and line."""
        ...


@dataclass(frozen=True)
class RulesVersion:
    """One deployed rules file: its text as deployed, and who deployed it, when and why."""

    number: int
    text: str
    fingerprint: str
    name: str
    deployed_by: str
    deployed_at: datetime
    message: str = ""


class RulesVersions(Protocol):
    """The rules versions of one stack. Versions are immutable once stored; the pointer moves."""

    def add(self, version: RulesVersion) -> None:
        """Store a new version; VersionTaken when its number is stored already."""
        ...

    def get(self, number: int) -> RulesVersion | None: ...

    def listed(self) -> list[RulesVersion]:
        """Every version, oldest first, without its text (`text` is "")."""
        ...

    def pointer(self, consistent: bool = False) -> RulesPointer: ...

    def move_pointer(self, pointer: RulesPointer) -> None:
        """Save `pointer` (its revision one more than the one read); PointerMoved if another
        command saved first."""
        ...


@dataclass
class Storage:
    """One implementation of each role, over the same store."""

    leads: LeadRepository
    events: EventLog
    outbox: ChangeOutbox
    listing: LeadListing
    jobs: JobState
    counts: EventNameCounts
    rules_versions: RulesVersions
    accounts: Accounts
