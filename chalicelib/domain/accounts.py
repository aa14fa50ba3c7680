"""Which account (company) a lead belongs to, in the order the CRM's word beats a guess:

1. the CRM's company: HubSpot's primary associated company, a Salesforce Contact's Account;
2. a Salesforce Lead's `Company` (a lead has no Account until it converts);
3. the Segment / RudderStack `groupId`;
4. the registrable domain of a business email (acme.co.uk for ada@mail.acme.co.uk): free-mail
   and disposable domains never form an account.

The registrable domain comes from the Public Suffix List; which function reads it is the caller's
(an adapter: this module reads no file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from chalicelib.domain.profile import Profile

VIA = {
    "hubspot": "HubSpot company",
    "salesforce": "Salesforce account",
    "pipedrive": "Pipedrive organization",
    "company": "Salesforce lead's company",
    "group": "Segment group",
    "domain": "email domain",
}


@dataclass(frozen=True)
class AccountRef:
    """`key`: `<kind>:<id>`, the kinds of VIA (`hubspot:123`, `domain:acme.com`)."""

    key: str
    name: str | None

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]

    @property
    def id(self) -> str:
        return self.key.partition(":")[2]

    def as_json(self) -> dict[str, str | None]:
        return {"key": self.key, "id": self.id, "name": self.name, "via": VIA[self.kind]}


def account_of(
    profile: Profile, excluded_domains: Collection[str], registrable: Callable[[str], str | None]
) -> AccountRef | None:
    """The lead's account, or None (a free-mail address and nothing else to go by)."""
    if profile.hubspot_company_id:
        return AccountRef(f"hubspot:{profile.hubspot_company_id}", profile.company)
    if profile.salesforce_account_id:
        return AccountRef(f"salesforce:{profile.salesforce_account_id}", profile.company)
    if profile.pipedrive_org_id:
        return AccountRef(f"pipedrive:{profile.pipedrive_org_id}", profile.company)
    if profile.salesforce_object == "Lead" and company_key(profile.company):
        return AccountRef(f"company:{company_key(profile.company)}", profile.company)
    if profile.account_id:
        return AccountRef(f"group:{profile.account_id}", profile.company)
    domain = email_domain(profile.email)
    found = registrable(domain) if domain else None
    if found and found not in excluded_domains and domain not in excluded_domains:
        return AccountRef(f"domain:{found}", profile.company or found)
    return None


def excluded_domains(lists: Mapping[str, Collection[str]]) -> frozenset[str]:
    """The domains that never form an account: the rules' free-mail and disposable lists (built
    once per rules file: the disposable list has thousands)."""
    return frozenset({*lists.get("free_mail_domains", ()), *lists.get("disposable_email_domains", ())})


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].strip().rstrip(".").casefold()
    return domain or None


def company_key(name: str | None) -> str:
    """A company name as one key: case, punctuation and spacing do not make another company."""
    return re.sub(r"[^\w]+", " ", name or "").casefold().strip().replace(" ", "-")
