"""An account's score from its profile and its ranked contacts: fit + the top contacts'
engagement (capped) + breadth beyond the first engaged contact, explained contact by contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.domain.account_card import ContactRank
from chalicelib.domain.account_rules import AccountRules
from chalicelib.domain.account_score import score_account
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.profile import Profile
from chalicelib.domain.rules import Rules
from tests.helpers import default_rules

NOW = datetime(2026, 12, 5, tzinfo=UTC)
RULES = default_rules()
ACCOUNTS = RULES.accounts
assert ACCOUNTS is not None
FIT = compile_rules(RULES).account_fit_rules


def _contact(lead_id: str, engagement: float, **rest: object) -> ContactRank:
    return ContactRank(lead_id=lead_id, engagement=engagement, **rest)  # type: ignore[arg-type]


def test_fit_top_contacts_and_breadth_add_up_with_the_contacts_named() -> None:
    profile = Profile(company="Initech", company_size=250, industry="Software")
    contacts = [
        _contact("ld_a", 70, name="Ada Lovelace", reason="Requested a demo on Dec 2"),
        _contact("ld_b", 40, name="Grace Hopper"),
        _contact("ld_c", 20, email="c@initech.com"),
        _contact("ld_d", 5),
    ]
    card = score_account(ACCOUNTS, FIT, profile, contacts, more=False, now=NOW)
    assert card.fit == 30  # 100-999 employees (20), a target industry (10: matched whatever its case)
    assert card.engagement == 130  # the top three: 70 + 40 + 20
    assert card.engaged_contacts == 3  # 15 or more each
    assert card.breadth == 20  # two beyond the first
    assert card.score == 180 and card.tier == "hot"
    contacts_named = [item.label for item in card.contributions if item.kind == "contact"]
    assert contacts_named == ["Ada Lovelace", "Grace Hopper", "c@initech.com"]
    assert card.reasons()[0] == "Ada Lovelace (+70): Requested a demo on Dec 2"
    assert card.visible == (180, "hot", 3)


def test_the_engagement_cap_and_the_breadth_cap_hold() -> None:
    contacts = [_contact(f"ld_{index}", 100) for index in range(10)]
    card = score_account(ACCOUNTS, FIT, Profile(), contacts, more=False, now=NOW)
    assert card.engagement == 150 and card.breadth == 40
    capped = [item for item in card.contributions if item.kind == "contact"]
    assert [item.points for item in capped] == [100, 50] and capped[-1].capped


def test_more_contacts_than_a_roll_up_reads_counts_as_at_least() -> None:
    contacts = [_contact(f"ld_{index}", 30) for index in range(50)]
    card = score_account(ACCOUNTS, FIT, Profile(), contacts, more=True, now=NOW)
    assert card.engaged_contacts == 50 and card.engaged_more
    assert any(item.label == "50+ engaged contacts" for item in card.contributions)


def test_an_account_with_no_engaged_contact_scores_its_fit_alone() -> None:
    card = score_account(ACCOUNTS, FIT, Profile(company_size=5000, country="US"), [_contact("ld_a", -20)], False, NOW)
    assert card.score == card.fit == 35  # 1,000+ employees (30), a target country (5)
    assert card.engaged_contacts == 0 and card.tier == "cold"


@given(st.lists(st.floats(min_value=-50, max_value=500, allow_nan=False), max_size=60), st.booleans())
@example(engagements=[0.5, 0.00390625], more=False)  # shown as 0.5, worth 0.504: the score is 1
def test_the_score_is_bounded_by_fit_and_the_caps(engagements: list[float], more: bool) -> None:
    contacts = [_contact(f"ld_{index}", value) for index, value in enumerate(engagements)]
    card = score_account(ACCOUNTS, FIT, Profile(), contacts, more, NOW)
    assert 0 <= card.engagement <= ACCOUNTS.engagement.cap
    assert 0 <= card.breadth <= ACCOUNTS.breadth.cap
    # The score rounds the exact total half up; the parts it shows are rounded to hundredths.
    assert abs(card.score - max(0.0, card.fit + card.engagement + card.breadth)) <= 0.5 + 0.01


def test_account_rules_are_checked_and_leave_the_lead_fingerprint_alone() -> None:
    data = RULES.model_dump(mode="json", by_alias=True, exclude_none=True)
    other = {**data, "accounts": {**data["accounts"], "breadth": {"engaged_from": 5, "points": 20, "cap": 60}}}
    assert Rules.model_validate(other).fingerprint == RULES.fingerprint
    assert Rules.model_validate(other).accounts.fingerprint != ACCOUNTS.fingerprint  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="asks 'job_title'"):
        AccountRules.model_validate({"fit": [{"name": "x", "attribute": "job_title", "pattern": "vp", "points": 5}]})
    with pytest.raises(ValueError, match="go up from min 0"):
        AccountRules.model_validate({"tiers": [{"name": "a", "min": 10}]})
    unknown_list = {**data, "accounts": {"fit": [{"name": "x", "attribute": "industry", "in": "nope", "points": 1}]}}
    with pytest.raises(ValueError, match=r"list .nope. is not defined"):
        Rules.model_validate(unknown_list)
