"""The fold's memory apart from the basis (fold_memory.py): split and joined back it is the same
basis, it is needed only by the events that read it, and it is written only when it changed."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings

from chalicelib.domain import LeadEvent, fold_memory
from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.folding import OutOfOrder, fold_into, full_basis
from chalicelib.domain.profile import Profile
from tests.helpers import NOW, default_rules
from tests.unit.test_incremental_fold import _emails, histories

RULES = default_rules()


def _event(kind: str, number: int = 0, **props) -> LeadEvent:
    return LeadEvent(event_id=f"{kind}-{number}", source="segment", type=kind,
                     occurred_at=NOW + timedelta(minutes=number), properties=props)  # fmt: skip


def _whole(data: dict) -> dict:
    return ScoreBasis.from_json(json.loads(json.dumps(data)), RULES).to_json()


@settings(max_examples=150, deadline=None)
@given(histories())
def test_a_basis_split_and_joined_is_the_same_basis(events):
    _, basis = full_basis(events, RULES, NOW)
    data = basis.to_json()
    core, memory = fold_memory.split(data)
    assert "messages" not in core and not any("s" in item or "f" in item for item in core["rules"])
    assert (memory is None) == (fold_memory.STAMP not in core)
    joined = fold_memory.join(core, memory)
    assert joined is not None and _whole(joined) == _whole(data)
    if memory is not None:
        other = {**memory, "stamp": "another save"}
        assert fold_memory.join(core, other) is None and fold_memory.join(core, None) is None


def test_only_emails_and_repeat_rules_need_the_memory():
    compiled = compile_rules(RULES)
    for kind in ("email_sent", "email_open", "email_click", "email_reply", "Email Opened"):
        assert fold_memory.needs_memory([_event(kind)], compiled), kind
    for kind in ("page_view", "demo_request", "trial_active", "webinar_registered", "unknown_thing"):
        assert not fold_memory.needs_memory([_event(kind)], compiled), kind


def test_the_memory_is_written_only_when_it_changed():
    events = _emails(3, opens_each=1)
    _, basis = full_basis(events, RULES, NOW)
    core, memory = fold_memory.split(basis.to_json())
    assert memory is not None
    stamp = core[fold_memory.STAMP]
    assert fold_memory.stored_parts(basis.to_json(), core) == (core, None)  # as stored: nothing to write
    assert fold_memory.stored_parts(basis.to_json(), None) == (core, memory)  # new: put
    # A page view folds without reading the memory, and leaves it as stored.
    _, viewed = fold_into(ScoreBasis.from_json(core, RULES), Profile(), [_event("page_view", 1, url="https://x.io/")],
                          RULES, NOW + timedelta(minutes=1))  # fmt: skip
    stored, write = fold_memory.stored_parts(viewed.to_json(), core)
    assert write is None and stored[fold_memory.STAMP] == stamp
    # Another open changes it: put under a new stamp.
    joined = fold_memory.join(core, memory)
    assert joined is not None
    opened = _event("email_open", 2, message_id="m0")
    _, folded = fold_into(ScoreBasis.from_json(joined, RULES), Profile(), [opened], RULES, NOW + timedelta(minutes=2))
    stored, write = fold_memory.stored_parts(folded.to_json(), core)
    assert write and write["stamp"] != stamp and stored[fold_memory.STAMP] == write["stamp"]
    # Nothing left to remember (a lead without emails now): the stored memory is deleted.
    _, bare = full_basis([_event("demo_request")], RULES, NOW)
    assert fold_memory.stored_parts(bare.to_json(), core)[1] == {}
    assert fold_memory.stored_parts(bare.to_json(), None)[1] is None


def test_an_event_that_needs_the_memory_is_refused_without_it():
    """Storage reads the memory for such events; should it be missing (read without it, or from
    another save), the fold refuses and the lead is rescored from its events."""
    _, basis = full_basis(_emails(2, opens_each=1), RULES, NOW)
    core, _ = fold_memory.split(basis.to_json())
    for event in (_event("email_open", 3, message_id="m1"), _event("email_sent", 3, message_id="m9")):
        try:
            fold_into(ScoreBasis.from_json(core, RULES), Profile(), [event], RULES, NOW + timedelta(minutes=3))
        except OutOfOrder as exc:
            assert "memory" in str(exc)
        else:
            raise AssertionError(f"{event.type} folded without the memory")
