"""One contract, two storages: every promise of the storage port, checked against the DynamoDB
adapter (on moto) and the in-memory one the fast use-case tests rely on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.domain import Identities, LeadEvent, Profile, score
from chalicelib.domain.events import to_us
from chalicelib.domain.scorecard import ScoreCard
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.memory import InMemoryStorage
from chalicelib.storage.ports import (
    IdentityConflict,
    LeadMerged,
    LeadRow,
    LeadSave,
    Storage,
    StoredEvent,
    VersionConflict,
)
from tests.conftest import TABLE
from tests.helpers import NOW, default_rules

DAY = timedelta(days=1)


@pytest.fixture(params=["memory", "dynamodb"])
def storage(request: pytest.FixtureRequest) -> Storage:
    if request.param == "memory":
        return InMemoryStorage()
    request.getfixturevalue("aws")
    return DynamoStorage(TABLE)


def stored(event_id: str, kind: str = "Demo Requested", expires_in: timedelta | None = None) -> StoredEvent:
    event = LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=NOW, identities=Identities())
    return StoredEvent(event, NOW + expires_in if expires_in is not None else None)


def card(*kinds: str, at=NOW) -> ScoreCard:
    events = [
        LeadEvent(event_id=f"c{index}", source="segment", type=kind, occurred_at=at - DAY, identities=Identities())
        for index, kind in enumerate(kinds)
    ]
    return score(Profile(), events, default_rules(), at)


def test_events_are_stored_once(storage: Storage) -> None:
    first = storage.events.store("ld_a", [stored("e1"), stored("e2")], ["user:a"])
    again = storage.events.store("ld_a", [stored("e2"), stored("e3")], [])
    assert (first.stored, first.duplicates) == (["e1", "e2"], [])
    assert (again.stored, again.duplicates) == (["e3"], ["e2"])
    record = storage.leads.load("ld_a", NOW)
    assert record is not None and sorted(e.event_id for e in record.events) == ["e1", "e2", "e3"]
    assert storage.leads.resolve(["user:a", "user:b"]) == {"user:a": "ld_a"}


def test_a_key_owned_by_another_lead_cannot_be_claimed(storage: Storage) -> None:
    storage.events.store("ld_a", [stored("e1")], ["email:jo@acme.io"])
    with pytest.raises(IdentityConflict):
        storage.events.store("ld_b", [stored("e2")], ["email:jo@acme.io"])
    assert storage.leads.load("ld_b", NOW) is None  # nothing of the refused write was kept


def test_expired_events_are_not_loaded(storage: Storage) -> None:
    storage.events.store("ld_a", [stored("old", expires_in=timedelta(hours=1)), stored("kept")], [])
    record = storage.leads.load("ld_a", NOW + DAY)
    assert record is not None and [e.event_id for e in record.events] == ["kept"]


def test_saves_are_optimistic_and_open_the_outbox(storage: Storage) -> None:
    first = card("Demo Requested")
    version = storage.leads.save(LeadSave("ld_a", 0, first, None, NOW, keys=["user:a"], basis={"b": 1}))
    assert version == 1
    with pytest.raises(VersionConflict):
        storage.leads.save(LeadSave("ld_a", 0, first, None, NOW))
    record = storage.leads.get_lead("ld_a")
    assert record is not None and record.card == first and record.keys == ["user:a"] and record.basis == {"b": 1}
    assert record.sync_pending_since == NOW.isoformat() and record.tier_changed_at == first.scored_at.isoformat()
    assert storage.outbox.pending_sync(older_than=NOW + timedelta(minutes=1)) == ["ld_a"]
    assert storage.outbox.mark_written("ld_a", 0, {"visible": list(first.visible)}) is False  # an older version
    assert storage.outbox.mark_written("ld_a", 1, {"visible": list(first.visible)}) is True
    assert storage.outbox.pending_sync(older_than=NOW + timedelta(minutes=1)) == []
    written = storage.leads.get_lead("ld_a")
    assert written is not None and written.crm == {"visible": list(first.visible)} and written.basis == {"b": 1}


def test_tier_changes_are_recorded_newest_first(storage: Storage) -> None:
    warm, hot = card("Demo Requested"), card("Demo Requested", "Quote Requested", at=NOW + DAY)
    storage.leads.save(LeadSave("ld_a", 0, warm, None, NOW))
    storage.leads.save(LeadSave("ld_a", 1, hot, warm.visible, NOW + DAY, reason="quote"))
    storage.leads.save(LeadSave("ld_a", 2, hot, hot.visible, NOW + DAY))  # same tier: no record
    changes = storage.listing.tier_changes("ld_a")
    assert [(c["from"], c["to"], c["reason"]) for c in changes] == [
        ("warm", "hot", "quote"),
        (None, "warm", changes[1]["reason"]),
    ]
    assert [row.lead_id for row in storage.listing.leads_page(["hot"], None, 10, None).rows] == ["ld_a"]
    assert storage.listing.leads_page(["warm"], None, 10, None).rows == []


def _listed(storage: Storage, lead_id: str, kinds: list[str], company: str, first: str = "Ann") -> None:
    profile = Profile(first_name=first, last_name="Lee", email=f"{lead_id}@x.io", company=company)
    basis = {"last_active_us": 1_795_000_000_000_000}
    storage.leads.save(
        LeadSave(lead_id, 0, card(*kinds), None, NOW, basis=basis, profile_json=profile.model_dump_json())
    )


def test_the_leads_list_pages_tier_by_tier_and_searches_companies(storage: Storage) -> None:
    """A page reads only its leads; the cursor carries on across tiers; a company is found by its
    start whatever its case, accents or punctuation."""
    _listed(storage, "ld_1", ["Demo Requested", "Quote Requested", "Meeting Booked"], "Acme, Inc.")
    _listed(storage, "ld_2", ["Demo Requested", "Quote Requested"], "Acmé Labs")
    _listed(storage, "ld_3", ["Demo Requested"], "Globex")
    _listed(storage, "ld_4", ["Quote Requested"], "Initech")
    _listed(storage, "ld_5", [], "Umbrella")
    tiers = ["super_hot", "hot", "warm", "cold", "disqualified"]
    seen, cursor, pages = [], None, 0
    while True:
        page = storage.listing.leads_page(tiers, None, 2, cursor)
        seen += page.rows
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert [row.lead_id for row in seen] == ["ld_1", "ld_2", "ld_3", "ld_4", "ld_5"]
    assert [row.score for row in seen] == sorted((row.score for row in seen), reverse=True)
    assert pages <= 4
    first = seen[0]
    assert (first.name, first.email, first.company) == ("Ann Lee", "ld_1@x.io", "Acme, Inc.")
    assert first.last_active_at == "2026-11-18T11:06:40Z" and first.updated_at == "2026-11-22T12:00:00Z"
    assert [row.lead_id for row in storage.listing.search("ACME", 10)] == ["ld_1", "ld_2"]
    assert [row.lead_id for row in storage.listing.search("acme inc", 10)] == ["ld_1"]
    assert storage.listing.search("glo", 10)[0].company == "Globex"
    assert [row.lead_id for row in storage.listing.lead_rows(["ld_4", "ld_3", "ld_missing"])] == ["ld_4", "ld_3"]
    grade = seen[0].grade
    assert all(row.grade == grade for row in storage.listing.leads_page(tiers, grade, 10, None).rows)
    with pytest.raises(ValueError):
        storage.listing.search("a", 10)
    with pytest.raises(ValueError):
        storage.listing.leads_page(tiers, None, 2, "not-a-cursor")


def test_a_company_changed_or_dropped_is_searched_no_more(storage: Storage) -> None:
    _listed(storage, "ld_1", ["Demo Requested"], "Acme")
    storage.leads.save(
        LeadSave("ld_1", 1, card("Demo Requested"), None, NOW, profile_json=Profile(company="Hooli").model_dump_json())
    )
    assert storage.listing.search("acme", 10) == [] and storage.listing.search("hoo", 10)[0].lead_id == "ld_1"
    storage.leads.save(LeadSave("ld_1", 2, card("Demo Requested"), None, NOW, profile_json=Profile().model_dump_json()))
    assert storage.listing.search("hoo", 10) == [] and storage.listing.lead_rows(["ld_1"])[0].company is None


def test_a_name_is_found_by_any_of_its_words_and_not_after_it_changes(storage: Storage) -> None:
    _listed(storage, "ld_1", ["Demo Requested"], "Initech", first="Ada Maria")
    _listed(storage, "ld_2", ["Quote Requested"], "Lovelace Robotics", first="Bob")
    assert [row.lead_id for row in storage.listing.search("ada", 10)] == ["ld_1"]
    assert [row.lead_id for row in storage.listing.search("maria l", 10)] == ["ld_1"]
    _listed(storage, "ld_3", ["Demo Requested", "Meeting Booked"], "Lovely Labs", first="Lovell")
    # Found by company, by name, by both (once), highest score first.
    assert [row.lead_id for row in storage.listing.search("LOVE", 10)] == ["ld_3", "ld_2"]
    renamed = Profile(first_name="Grace", last_name="Hopper", company="Initech")
    before = Profile(first_name="Ada Maria", last_name="Lee", company="Initech").model_dump_json()
    storage.leads.save(LeadSave("ld_1", 1, card("Demo Requested"), None, NOW, profile_json=renamed.model_dump_json(),
                                profile_before_json=before))  # fmt: skip
    assert storage.listing.search("ada", 10) == [] and storage.listing.search("maria", 10) == []
    assert [row.lead_id for row in storage.listing.search("hopper", 10)] == ["ld_1"]


def _pages(storage: Storage, order: str, today: object, limit: int = 1) -> list[LeadRow]:
    tiers = ["super_hot", "hot", "warm", "cold", "disqualified"]
    rows: list[LeadRow] = []
    cursor = None
    for _ in range(40):
        page = storage.listing.leads_page(tiers, None, limit, cursor, None, order, today)  # type: ignore[arg-type]
        rows += page.rows
        cursor = page.cursor
        if cursor is None:
            return rows
    raise AssertionError("the list did not end")


def test_the_list_sorts_by_change_since_yesterday_and_by_latest_activity(storage: Storage) -> None:
    """A lead's day starts where its first save of the day found it; today's risers come first,
    biggest rise first, then the leads that did not move, then today's fallers."""
    earlier = NOW - timedelta(days=3)

    def save(lead_id: str, version: int, kinds: list[str], at: datetime, before: ScoreCard | None,
             active: datetime | None = None) -> ScoreCard:  # fmt: skip
        saved = card(*kinds, at=at)
        basis = {"last_active_us": to_us(active)} if active else None
        storage.leads.save(LeadSave(lead_id, version, saved, before.visible if before else None, at, basis=basis))
        return saved

    still = save("ld_still", 0, ["Demo Requested"], earlier, None, active=NOW - timedelta(days=700))
    low = save("ld_up", 0, ["Quote Requested"], earlier, None)
    up = save("ld_up", 1, ["Demo Requested", "Quote Requested"], NOW, low, active=NOW - timedelta(hours=2))
    high = save("ld_down", 0, ["Demo Requested", "Quote Requested", "Meeting Booked"], earlier, None)
    midway = save("ld_down", 1, ["Demo Requested", "Quote Requested"], NOW - timedelta(hours=1), high)
    down = save("ld_down", 2, ["Demo Requested"], NOW, midway)  # the day started before the first save
    new = save("ld_new", 0, ["Meeting Booked"], NOW, None, active=NOW - timedelta(days=3 * 366))
    today = NOW.date()
    found = {row.lead_id: row for row in storage.listing.lead_rows(["ld_still", "ld_up", "ld_down", "ld_new"], today)}
    assert (found["ld_up"].change_1d, found["ld_up"].change_7d) == (up.score - low.score, up.score)
    assert found["ld_down"].change_1d == down.score - high.score < 0
    assert (found["ld_still"].change_1d, found["ld_still"].change_7d) == (0, still.score)
    assert found["ld_new"].change_1d == new.score
    assert storage.listing.lead_rows(["ld_up"])[0].change_1d is None  # not asked
    risers = sorted(["ld_up", "ld_new"], key=lambda lead_id: -found[lead_id].change_1d)  # type: ignore[operator]
    assert [row.lead_id for row in _pages(storage, "change", today)] == [*risers, "ld_still", "ld_down"]
    # Tomorrow nothing has moved since yesterday; the week still has.
    tomorrow = {row.lead_id: row for row in _pages(storage, "change", today + timedelta(days=1), limit=10)}
    assert {row.change_1d for row in tomorrow.values()} == {0} and tomorrow["ld_up"].change_7d == up.score
    # Latest activity first; activity older than the months read, or none, after it by score.
    by_activity = [row.lead_id for row in _pages(storage, "last_active", today)]
    tail = sorted(["ld_down", "ld_new"], key=lambda lead_id: -found[lead_id].score)
    assert by_activity == ["ld_up", "ld_still", *tail]
    with pytest.raises(ValueError):
        storage.listing.leads_page(["hot"], None, 1, storage.listing.leads_page(["hot", "warm"], None, 1, None).cursor,
                                   None, "change", today)  # fmt: skip


def test_activity_a_sender_stamped_ahead_of_our_clock_is_still_listed_first(storage: Storage) -> None:
    for lead_id, active in (("ld_now", NOW), ("ld_ahead", NOW + timedelta(days=12)), ("ld_far", NOW + DAY * 90)):
        basis = {"last_active_us": to_us(active)}
        storage.leads.save(LeadSave(lead_id, 0, card("Demo Requested"), None, NOW, basis=basis))
    # A month ahead at most is read as the latest; further ahead is not believed, and sorts with none.
    assert [row.lead_id for row in _pages(storage, "last_active", NOW.date())] == ["ld_ahead", "ld_now", "ld_far"]


def test_due_leads_are_those_whose_next_change_has_come(storage: Storage) -> None:
    decaying = card("Demo Requested")
    assert decaying.next_change_at is not None
    storage.leads.save(LeadSave("ld_a", 0, decaying, None, NOW, basis={"x": 1}))
    storage.leads.save(LeadSave("ld_b", 0, card(), None, NOW))  # nothing ahead: never due
    assert list(storage.jobs.due_leads(decaying.next_change_at - timedelta(seconds=1))) == []
    (due,) = storage.jobs.due_leads(decaying.next_change_at)
    assert (due.lead_id, due.version, due.basis, due.visible) == ("ld_a", 1, {"x": 1}, decaying.visible)


def test_a_merge_moves_events_and_keys_and_leaves_a_forwarding_address(storage: Storage) -> None:
    storage.events.store("ld_a", [stored("e1")], ["anon:x"])
    storage.leads.save(LeadSave("ld_a", 0, card("Demo Requested"), None, NOW, keys=["anon:x"], account="group:g"))
    storage.events.store("ld_b", [stored("e2")], ["email:jo@acme.io"])
    storage.leads.merge("ld_a", "ld_b", ["anon:x"])
    assert storage.accounts.ranked("group:g", 5).contacts == []  # a forwarding address is no contact
    assert storage.leads.merged_into("ld_a") == "ld_b"
    assert storage.leads.resolve(["anon:x"]) == {"anon:x": "ld_b"}
    record = storage.leads.load("ld_b", NOW)
    assert record is not None and sorted(e.event_id for e in record.events) == ["e1", "e2"]
    with pytest.raises(LeadMerged):
        storage.events.store("ld_a", [stored("e3")], [])
    assert [row["lead_id"] for row in storage.listing.report_rows()] == []  # a forwarding address is no lead


def test_a_deleted_lead_leaves_nothing(storage: Storage) -> None:
    storage.events.store("ld_a", [stored("e1")], ["hubspot:1"])
    storage.leads.save(LeadSave("ld_a", 0, card("Demo Requested"), None, NOW, keys=["hubspot:1", "email:jo@acme.io"]))
    storage.leads.delete_lead("ld_a")
    assert storage.leads.load("ld_a", NOW) is None and storage.leads.get_lead("ld_a") is None
    assert storage.leads.resolve(["hubspot:1", "email:jo@acme.io"]) == {}


def test_the_fold_memory_is_read_only_when_asked_and_kept_until_changed(storage: Storage) -> None:
    memory = {"messages": {"abc": [1, {}, 0]}, "stamp": "s1"}
    storage.leads.save(LeadSave("ld_a", 0, card("Demo Requested"), None, NOW, basis={"memory": "s1"}, memory=memory))
    assert storage.leads.get_lead("ld_a").memory is None  # a page view's read: the lead item alone
    assert storage.leads.get_lead("ld_a", memory=True).memory == memory
    assert storage.leads.get_leads(["ld_a"], ["ld_a"])["ld_a"].memory == memory
    storage.leads.save(LeadSave("ld_a", 1, card("Demo Requested"), None, NOW, basis={"memory": "s1"}))  # left alone
    assert storage.leads.get_lead("ld_a", memory=True).memory == memory
    storage.leads.save(LeadSave("ld_a", 2, card("Demo Requested"), None, NOW, basis={}, memory={}))  # nothing left
    assert storage.leads.get_lead("ld_a", memory=True).memory is None
    storage.leads.save(LeadSave("ld_a", 3, card("Demo Requested"), None, NOW, basis={"memory": "s1"}, memory=memory))
    storage.leads.delete_lead("ld_a")
    assert storage.leads.get_lead("ld_a", memory=True) is None
    storage.leads.save(LeadSave("ld_a", 0, card(), None, NOW))  # the id again: nothing of the old lead's
    assert storage.leads.get_lead("ld_a", memory=True).memory is None


def test_identities_learnt_later_join_the_lead_unless_owned(storage: Storage) -> None:
    storage.leads.save(LeadSave("ld_a", 0, card(), None, NOW, keys=["email:jo@acme.io"]))
    storage.events.store("ld_b", [stored("e1")], ["salesforce:00Q2"])
    storage.leads.remember_identity("ld_a", "salesforce:00Q1")
    storage.leads.remember_identity("ld_a", "salesforce:00Q2")  # owned by ld_b: left alone
    record = storage.leads.get_lead("ld_a")
    assert record is not None and record.keys == ["email:jo@acme.io", "salesforce:00Q1"]
    assert storage.leads.resolve(["salesforce:00Q1", "salesforce:00Q2"]) == {
        "salesforce:00Q1": "ld_a",
        "salesforce:00Q2": "ld_b",
    }


def test_every_lead_is_reached_page_by_page_and_progress_is_kept(storage: Storage) -> None:
    for index in range(7):
        storage.leads.save(LeadSave(f"ld_{index}", 0, card(), None, NOW))
    seen: list[str] = []
    start = None
    while True:
        page, start = storage.jobs.scan_leads(start, page_size=3)
        seen += page
        if start is None:
            break
    assert sorted(seen) == [f"ld_{index}" for index in range(7)]
    assert sorted(row["lead_id"] for row in storage.listing.report_rows()) == sorted(seen)
    assert storage.jobs.rules_progress() == {}
    storage.jobs.save_rules_progress({"fingerprint": "f", "done": True})
    assert storage.jobs.rules_progress() == {"fingerprint": "f", "done": True}
    assert len(storage.leads.get_leads(["ld_0", "ld_1", "ld_missing"])) == 2


def test_a_new_lead_is_created_with_its_events_and_card_at_once(storage: Storage) -> None:
    first = card("Demo Requested")
    change = LeadSave("ld_new", 0, first, None, NOW, keys=["user:n"], reason="new")
    assert storage.events.create("ld_new", [stored("e1"), stored("e2")], ["user:n"], change) == 1
    record = storage.leads.load("ld_new", NOW)
    assert record is not None and record.version == 1 and record.card == first
    assert sorted(event.event_id for event in record.events) == ["e1", "e2"]
    assert storage.leads.resolve(["user:n"]) == {"user:n": "ld_new"}
    assert [item["to"] for item in storage.listing.tier_changes("ld_new")] == [first.tier]
    assert storage.outbox.pending_sync(older_than=NOW + DAY) == ["ld_new"]  # the outbox entry is open


def test_a_full_append_fits_with_a_tier_change_a_new_name_and_claims(storage: Storage) -> None:
    """The most an append may hold (append_room) goes in one transaction even when the save also
    records a tier change and rewrites the lead's name in the search index."""
    first = card()
    assert storage.events.create("ld_full", [], [], LeadSave("ld_full", 0, first, None, NOW)) == 1
    room = storage.events.append_room(2)
    events = [stored(f"f{number}") for number in range(room)]
    named = Profile(first_name="Ada", last_name="Lovelace").model_dump_json()
    change = LeadSave("ld_full", 1, card("Demo Requested", "Quote Requested"), first.visible, NOW,
                      profile_json=named, profile_before_json=Profile().model_dump_json())  # fmt: skip
    assert change.card_change.tier_changed
    assert storage.events.append("ld_full", events, ["user:a", "user:b"], change) == 2
    assert [row.lead_id for row in storage.listing.search("lovelace", 5)] == ["ld_full"]


def test_creating_a_lead_whose_key_is_taken_writes_nothing(storage: Storage) -> None:
    storage.events.store("ld_a", [stored("e1")], ["email:jo@acme.io"])
    change = LeadSave("ld_b", 0, card("Demo Requested"), None, NOW)
    with pytest.raises(IdentityConflict):
        storage.events.create("ld_b", [stored("e9")], ["user:b", "email:jo@acme.io"], change)
    assert storage.leads.load("ld_b", NOW) is None
    assert storage.leads.resolve(["user:b", "email:jo@acme.io"]) == {"email:jo@acme.io": "ld_a"}


def test_new_leads_are_created_together_and_one_whose_key_is_taken_alone_is_refused(storage: Storage) -> None:
    """Forty new leads (more than one transaction holds) and, among them, one claiming a key that is
    taken: every other lead is created whole, that one answers None and leaves nothing behind."""
    storage.events.store("ld_a", [stored("a1")], ["email:jo@acme.io"])
    leads = []
    for number in range(40):
        keys = [f"user:n{number}"] + (["email:jo@acme.io"] if number == 17 else [])
        change = LeadSave(f"ld_n{number}", 0, card("Demo Requested"), None, NOW, keys=keys, reason="new")
        leads.append((f"ld_n{number}", [stored(f"n{number}")], keys, change))
    answers = storage.events.create_many(leads)
    assert answers == [None if number == 17 else 1 for number in range(40)]
    assert storage.leads.load("ld_n17", NOW) is None
    assert storage.leads.resolve(["user:n17", "email:jo@acme.io"]) == {"email:jo@acme.io": "ld_a"}
    for number in (0, 16, 18, 39):
        record = storage.leads.load(f"ld_n{number}", NOW)
        assert record is not None and record.version == 1 and [e.event_id for e in record.events] == [f"n{number}"]
        assert storage.leads.resolve([f"user:n{number}"]) == {f"user:n{number}": f"ld_n{number}"}


def test_a_lead_too_large_for_one_transaction_is_left_to_the_usual_path(aws) -> None:
    storage = DynamoStorage(TABLE)  # DynamoDB's transactions hold 100 items at most
    change = LeadSave("ld_big", 0, card("Demo Requested"), None, NOW)
    events = [stored(f"e{index}") for index in range(120)]
    assert storage.events.create("ld_big", events, ["user:big"], change) is None
    small = LeadSave("ld_small", 0, card("Demo Requested"), None, NOW)
    big = ("ld_big", events, ["user:big"], change)
    assert storage.events.create_many([big, ("ld_small", [stored("s1")], ["user:small"], small)]) == [None, 1]
    assert storage.leads.load("ld_big", NOW) is None


def _created(storage: Storage) -> None:
    change = LeadSave("ld_f", 0, card("Email Opened"), None, NOW, keys=["user:f"], kind="full")
    assert storage.events.create("ld_f", [stored("e1")], ["user:f"], change) == 1


def test_an_append_writes_events_claims_and_card_at_once(storage: Storage) -> None:
    _created(storage)
    folded = LeadSave("ld_f", 1, card("Email Opened", "Demo Requested"), card("Email Opened").visible, NOW, kind="fold")
    assert storage.events.append("ld_f", [stored("e2")], ["anon:f"], folded) == 2
    record = storage.leads.load("ld_f", NOW)
    assert record is not None and record.version == 2 and record.card == folded.card
    assert sorted(event.event_id for event in record.events) == ["e1", "e2"]
    assert storage.leads.resolve(["anon:f"]) == {"anon:f": "ld_f"}


def test_an_append_that_lost_a_race_or_repeats_an_event_writes_nothing(storage: Storage) -> None:
    from chalicelib.storage.ports import DuplicateEvents

    _created(storage)
    stale = LeadSave("ld_f", 0, card("Demo Requested"), None, NOW, kind="fold")
    with pytest.raises(VersionConflict):
        storage.events.append("ld_f", [stored("e2")], [], stale)
    again = LeadSave("ld_f", 1, card("Demo Requested"), None, NOW, kind="fold")
    with pytest.raises(DuplicateEvents) as caught:
        storage.events.append("ld_f", [stored("e1"), stored("e3")], [], again)
    assert caught.value.event_ids == ["e1"]
    storage.events.store("ld_other", [stored("x")], ["email:taken@acme.io"])
    with pytest.raises(IdentityConflict):
        storage.events.append("ld_f", [stored("e4")], ["email:taken@acme.io"], again)
    record = storage.leads.load("ld_f", NOW)
    assert record is not None and record.version == 1 and [event.event_id for event in record.events] == ["e1"]


def test_events_stored_apart_from_the_card_stop_folds_until_a_full_rescore(storage: Storage) -> None:
    """`store` sets the lead's rescore mark: a fold (which would not see those events) is refused, and
    only a full rescore that read the events after the mark clears it."""
    _created(storage)
    storage.events.store("ld_f", [stored("e2")], [])
    record = storage.leads.load("ld_f", NOW)
    assert record is not None and record.rescore_mark
    fold = LeadSave("ld_f", 1, card("Demo Requested"), None, NOW, kind="fold")
    with pytest.raises(VersionConflict):
        storage.events.append("ld_f", [stored("e3")], [], fold)
    seen_before = record.rescore_mark
    storage.events.store("ld_f", [stored("e4")], [])  # after the rescore below read the lead
    with pytest.raises(VersionConflict):
        storage.leads.save(
            LeadSave("ld_f", 1, card("Demo Requested"), None, NOW, kind="full", seen_rescore_mark=seen_before)
        )
    latest = storage.leads.load("ld_f", NOW)
    assert latest is not None and latest.rescore_mark not in (None, seen_before)
    full = LeadSave("ld_f", 1, card("Demo Requested"), None, NOW, kind="full", seen_rescore_mark=latest.rescore_mark)
    assert storage.leads.save(full) == 2
    cleared = storage.leads.get_lead("ld_f")
    assert cleared is not None and cleared.rescore_mark is None


def test_a_merge_or_deletion_finds_every_key_of_a_lead_not_only_those_it_lists(storage: Storage) -> None:
    many = [f"anon:{number}" for number in range(30)]
    storage.events.store("ld_m", [stored("e1")], many)
    storage.leads.save(LeadSave("ld_m", 0, card("Demo Requested"), None, NOW, keys=many[:3], kind="full",
                          seen_rescore_mark=storage.leads.load("ld_m", NOW).rescore_mark))  # fmt: skip
    storage.leads.merge("ld_m", "ld_t")
    assert set(storage.leads.resolve(many).values()) == {"ld_t"}
    storage.leads.delete_lead("ld_t")
    assert storage.leads.resolve(many) == {}


def test_a_failed_write_back_is_noted_until_one_writes(storage: Storage) -> None:
    first = card("Demo Requested")
    storage.leads.save(LeadSave("ld_a", 0, first, None, NOW))
    storage.outbox.note_write_attempt("ld_a", {"at": NOW.isoformat(), "statuses": {"hubspot": "retry"}})
    record = storage.leads.get_lead("ld_a")
    assert record is not None and record.crm_attempt == {"at": NOW.isoformat(), "statuses": {"hubspot": "retry"}}
    assert storage.outbox.mark_written("ld_a", 1, {"visible": list(first.visible)}) is True
    written = storage.leads.get_lead("ld_a")
    assert written is not None and written.crm_attempt is None
    storage.outbox.note_write_attempt("ld_gone", {"at": NOW.isoformat()})
    assert storage.leads.get_lead("ld_gone") is None  # a note never creates a lead


def test_a_request_dynamodb_refuses_is_refused_not_unavailable(aws) -> None:
    """DynamoDB's ValidationException is the request's fault: RequestRefused (a 400 where a client
    caused it), never StorageUnavailable (a 503 that invites the same request again)."""
    from chalicelib.errors import RequestRefused
    from chalicelib.storage.table import DynamoTable

    table = DynamoTable(TABLE)
    with pytest.raises(RequestRefused):
        table.call("query", TableName=TABLE, KeyConditionExpression="pk = :pk")  # :pk has no value


def test_a_leads_events_page_newest_first_and_follow_a_merge(storage: Storage) -> None:
    def at(event_id: str, hours_ago: int, expires_in: timedelta | None = None) -> StoredEvent:
        event = LeadEvent(event_id=event_id, source="segment", type="Page Viewed",
                          occurred_at=NOW - timedelta(hours=hours_ago), identities=Identities())  # fmt: skip
        return StoredEvent(event, NOW + expires_in if expires_in is not None else None)

    storage.events.store("ld_a", [at(f"p{hours:02d}", hours) for hours in range(25)], ["user:a"])
    storage.events.store("ld_a", [at("gone", 0, expires_in=-timedelta(hours=1))], [])  # expired, not yet deleted
    storage.events.store("ld_other", [at("theirs", 0)], ["user:o"])
    seen, cursor, pages = [], None, 0
    while True:
        page = storage.events.page("ld_a", 10, cursor, NOW)
        seen += [event.event_id for event in page.events]
        pages += 1
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == [f"p{hours:02d}" for hours in range(25)] and pages == 3
    with pytest.raises(ValueError, match="cursor"):
        storage.events.page("ld_a", 10, cursor[:-3] + "xyz", NOW)
    with pytest.raises(ValueError, match="cursor"):
        storage.events.page("ld_a", 10, "eyJ1IjogIjEiLCAicyI6IDF9", NOW)  # {"u": "1", "s": 1}

    storage.leads.merge("ld_other", "ld_a")
    assert storage.events.page("ld_a", 1, None, NOW).events[0].event_id in ("theirs", "p00")
    assert len(storage.events.page("ld_a", 100, None, NOW).events) == 26


def test_each_days_tier_changes_are_listed_newest_first(storage: Storage) -> None:
    early, later = card("Demo Requested", at=NOW - timedelta(hours=3)), card("Demo Requested", "Quote Requested")
    storage.leads.save(LeadSave("ld_a", 0, early, None, NOW - timedelta(hours=3)))
    storage.leads.save(LeadSave("ld_b", 0, later, None, NOW))
    day = storage.listing.tier_changes_on(NOW.date())
    assert [(change["lead_id"], change["from"], change["to"]) for change in day] == [
        ("ld_b", None, later.tier),
        ("ld_a", None, early.tier),
    ]
    assert day[0]["score"] == later.score and day[0]["at"].startswith(NOW.date().isoformat())
    assert storage.listing.tier_changes_on((NOW - DAY).date()) == []


def test_rules_versions_are_stored_once_and_the_pointer_moves_only_from_what_was_read(storage: Storage) -> None:
    from dataclasses import replace

    from chalicelib.storage.ports import PointerMoved, RulesPointer, RulesVersion, VersionTaken

    versions = storage.rules_versions
    first = RulesVersion(1, "name: a\n", "fp-a", "a", "ana", NOW, "first")
    versions.add(first)
    with pytest.raises(VersionTaken):
        versions.add(replace(first, deployed_by="bo"))
    versions.add(RulesVersion(2, "name: b\n" * 2000, "fp-b", "b", "bo", NOW, ""))
    assert versions.get(2).text == "name: b\n" * 2000  # type: ignore[union-attr]  # a long file, packed
    assert versions.get(3) is None
    assert [(v.number, v.deployed_by, v.text) for v in versions.listed()] == [(1, "ana", ""), (2, "bo", "")]
    assert versions.pointer() == RulesPointer()
    moved = RulesPointer(active=1, activated_at=NOW, activations=(1,), log=({"action": "activate"},), revision=1)
    versions.move_pointer(moved)
    assert versions.pointer(consistent=True) == moved
    with pytest.raises(PointerMoved):
        versions.move_pointer(replace(moved, active=2))  # read at revision 0: another command moved it since
    versions.move_pointer(replace(moved, active=2, shadow=1, shadow_since=NOW, revision=2))
    assert versions.pointer(consistent=True).active == 2


def test_an_accounts_contacts_rank_by_engagement_and_its_item_saves_only_at_its_version(storage: Storage) -> None:

    from chalicelib.domain.account_card import AccountCard
    from chalicelib.storage.account_ports import AccountState

    for lead_id, kinds in (("l1", ["Webinar Attended"]), ("l2", ["Demo Requested", "Webinar Attended"]), ("l3", [])):
        profile = Profile(first_name=lead_id).model_dump_json()
        acme = "domain:acme.io"
        storage.leads.save(LeadSave(lead_id, 0, card(*kinds), None, NOW, profile_json=profile, account=acme))
    storage.leads.save(LeadSave("l4", 0, card("Demo Requested"), None, NOW, account="domain:other.io"))
    ranked = storage.accounts.ranked("domain:acme.io", 2)
    assert ranked.account is None and ranked.more  # no account item yet; three contacts, two read
    assert [(c.lead_id, c.engagement, c.name) for c in ranked.contacts] == [("l2", 75, "l2"), ("l1", 25, "l1")]
    first, cursor = storage.accounts.contacts("domain:acme.io", None, 2)
    rest, end = storage.accounts.contacts("domain:acme.io", cursor, 2)
    assert [c.lead_id for c in first + rest] == ["l2", "l1", "l3"] and end is None

    scored = AccountCard(score=80, tier="warm", fit=0, engagement=75, breadth=5, engaged_contacts=2, engaged_more=False,
                         contributions=[], scored_at=NOW, rules_fingerprint="fp")  # fmt: skip
    version = storage.accounts.save(AccountState("domain:acme.io", name="Acme", card=scored))
    assert version == 1 and storage.accounts.ranked("domain:acme.io", 2).account.name == "Acme"  # type: ignore[union-attr]
    with pytest.raises(VersionConflict):
        storage.accounts.save(AccountState("domain:acme.io", name="Acme again"))  # read before it existed
    storage.accounts.save(AccountState("domain:other.io", card=scored.model_copy(update={"score": 140, "tier": "hot"})))
    storage.accounts.save(AccountState("domain:low.io", card=scored.model_copy(update={"score": 10, "tier": "cold"})))
    board = storage.accounts.leaderboard(["hot", "warm", "cold"], None, 2)
    following = storage.accounts.leaderboard(["hot", "warm", "cold"], board.cursor, 2)
    assert [a.key for a in board.accounts + following.accounts] == [
        "domain:other.io",
        "domain:acme.io",
        "domain:low.io",
    ]
    assert following.cursor is None
    assert set(storage.accounts.get_many(["domain:acme.io", "domain:none.io"])) == {"domain:acme.io"}

    storage.leads.save(LeadSave("l2", 1, card("Demo Requested"), None, NOW, account=""))  # it left the account
    assert [c.lead_id for c in storage.accounts.ranked("domain:acme.io", 5).contacts] == ["l1", "l3"]


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_a_tier_spread_over_shards_pages_in_score_order_with_every_lead_once(storage: Storage, limit: int) -> None:
    """The leaderboard's tiers are spread over shards (storage/items.py `spread`): pages merge them
    in score order, the cursor keeps each shard's place, every lead comes once, ties included."""
    kinds = [["Demo Requested"], ["Quote Requested"], ["Demo Requested", "Meeting Booked"], ["Webinar Attended"],
             ["Demo Requested", "Quote Requested"], []]  # fmt: skip
    for number in range(24):
        storage.leads.save(LeadSave(f"ld_s{number:02d}", 0, card(*kinds[number % len(kinds)]), None, NOW))
    tiers = ["super_hot", "hot", "warm", "cold"]
    everyone = storage.listing.leads_page(tiers, None, 100, None).rows
    assert len(everyone) == 24
    rows, cursor = [], None
    for _ in range(30):
        page = storage.listing.leads_page(tiers, None, limit, cursor)
        assert len(page.rows) <= limit
        rows += page.rows
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(row.lead_id for row in rows) == sorted(row.lead_id for row in everyone)
    order = {tier: position for position, tier in enumerate(tiers)}
    assert [(order[row.tier], -row.score) for row in rows] == sorted((order[row.tier], -row.score) for row in rows)
    grade = everyone[0].grade
    kept, cursor = [], None
    for _ in range(30):
        page = storage.listing.leads_page(tiers, None, limit, cursor, lambda row: row.grade == grade)
        kept += page.rows
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(row.lead_id for row in kept) == sorted(row.lead_id for row in everyone if row.grade == grade)
    assert storage.listing.count_leads(tiers) == 24
