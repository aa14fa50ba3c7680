"""Which account a lead belongs to: the CRM's company first, then a Salesforce lead's company
name, the Segment group, and a business email's registrable domain (never a free-mail one)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.accounts.public_suffix import registrable_domain
from chalicelib.domain.accounts import account_of, company_key
from chalicelib.domain.profile import Profile
from tests.helpers import default_rules

LISTS = default_rules().lists
EXCLUDED = {*LISTS["free_mail_domains"], *LISTS["disposable_email_domains"]}


def _of(**profile: object) -> dict[str, str | None] | None:
    found = account_of(Profile.model_validate(profile), EXCLUDED, registrable_domain)
    return found.as_json() if found else None


def test_the_crm_company_comes_first_then_the_lead_company_the_group_and_the_email_domain() -> None:
    everything = {"email": "ada@mail.initech.co.uk", "account_id": "grp-7", "company": "Initech Ltd."}
    assert _of(**everything, hubspot_company_id="4294592507", salesforce_account_id="001A") == {
        "key": "hubspot:4294592507", "id": "4294592507", "name": "Initech Ltd.", "via": "HubSpot company"}  # fmt: skip
    assert _of(**everything, salesforce_account_id="001A")["key"] == "salesforce:001A"  # type: ignore[index]
    assert _of(**everything, salesforce_object="Lead")["key"] == "company:initech-ltd"  # type: ignore[index]
    assert _of(**everything)["key"] == "group:grp-7"  # type: ignore[index]
    by_domain = {"key": "domain:initech.co.uk", "id": "initech.co.uk", "name": "initech.co.uk", "via": "email domain"}
    assert _of(email="ada@mail.initech.co.uk") == by_domain


@pytest.mark.parametrize("email", ["ada@gmail.com", "ada@GMAIL.com", "ada@mailinator.com", "ada@localhost", "ada@"])
def test_free_mail_disposable_and_odd_addresses_form_no_account(email: str) -> None:
    assert _of(email=email) is None


def test_company_names_differing_in_case_and_punctuation_are_one_company() -> None:
    assert company_key("Initech, Inc.") == company_key("initech inc") == "initech-inc"


@given(st.emails())
def test_any_address_gives_an_account_key_or_none_never_an_error(email: str) -> None:
    found = _of(email=email)
    assert found is None or (found["key"] or "").startswith("domain:")
