"""Who a lead is: the fit attributes (latest value wins) and the CRM's outcome fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

# HubSpot's numemployees is an enumeration such as "25-50" or "1000+"; forms send "250" or "1,000".
_FIRST_NUMBER = re.compile(r"\d[\d,._ ]*")
SALESFORCE_DOMAINS = (".salesforce.com", ".force.com")


def parse_company_size(value: Any) -> int | None:
    """The lower bound of a size or size range: "100-500" counts as 100, so a band is never over-awarded."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value >= 0 else None
    match = _FIRST_NUMBER.search(str(value))
    if not match:
        return None
    digits = re.sub(r"[,._ ]", "", match.group(0))
    return int(digits) if digits else None


def salesforce_origin(value: Any) -> str | None:
    """`https://<host>` when `value` is an https URL on Salesforce's own domains (a link the
    console may show), else None."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    trusted = host.endswith(SALESFORCE_DOMAINS) and parts.scheme == "https" and parts.port in (None, 443)
    return f"https://{host}" if trusted else None


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    job_title: str | None = None
    company: str | None = None
    company_size: int | None = None
    industry: str | None = None
    country: str | None = None
    lead_source: str | None = None
    tech_stack: tuple[str, ...] = ()
    lifecycle_stage: str | None = None
    lead_status: str | None = None
    account_id: str | None = None  # the Segment / RudderStack group the lead belongs to
    hubspot_company_id: str | None = None  # the contact's primary associated company (associatedcompanyid)
    salesforce_account_id: str | None = None  # a Contact's AccountId
    pipedrive_org_id: str | None = None  # a Pipedrive person's organization
    # Where the lead lives in each CRM, for its link and its owner (crm_context.py); not fit attributes.
    hubspot_owner_id: str | None = None
    hubspot_portal_id: str | None = None
    salesforce_owner_id: str | None = None
    pipedrive_owner_id: str | None = None
    salesforce_url: str | None = None  # the org's instance, as its outbound messages name it
    salesforce_object: str | None = None  # Lead or Contact

    @field_validator(
        "hubspot_owner_id",
        "hubspot_portal_id",
        "salesforce_owner_id",
        "hubspot_company_id",
        "salesforce_account_id",
        mode="before",
    )
    @classmethod
    def _crm_id(cls, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        text = str(value).strip()
        return text if 0 < len(text) <= 40 and text.isascii() and text.isalnum() else None

    @field_validator("salesforce_url", mode="before")
    @classmethod
    def _instance(cls, value: Any) -> str | None:
        return salesforce_origin(value)

    @field_validator("salesforce_object", mode="before")
    @classmethod
    def _object(cls, value: Any) -> str | None:
        return value if value in ("Lead", "Contact") else None

    @field_validator("company_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int | None:
        return parse_company_size(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value else None

    @field_validator("tech_stack", mode="before")
    @classmethod
    def _stack(cls, value: Any) -> tuple[str, ...]:
        # HubSpot multi-checkbox values arrive as "a;b;c".
        if value is None:
            return ()
        if isinstance(value, str):
            value = re.split(r"[;,]", value)
        return tuple(item.strip() for item in value if item and item.strip())

    @property
    def email_domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1]

    def attribute(self, name: str) -> Any:
        """The value a fit rule tests; `email_domain` is derived, everything else is a field."""
        if name == "email_domain":
            return self.email_domain
        return getattr(self, name)


PROFILE_EVENT = "profile_updated"
"""Event type that carries a profile patch in `properties["profile"]`: {attribute: value or None to clear}."""


def fold_profile(patches: Iterable[tuple[Any, Mapping[str, Any]]]) -> Profile:
    """The profile from its patches, latest value winning per attribute.

    `patches` are (sort key, patch) pairs; the sort key orders them in time (the caller passes the
    events' canonical order), so a redelivered older change never overwrites a newer one.
    """
    merged: dict[str, Any] = {}
    for _, patch in sorted(patches, key=lambda item: item[0]):
        for name, value in patch.items():
            if name in Profile.model_fields:
                merged[name] = value
    clean: dict[str, Any] = {}
    for name, value in merged.items():
        if value in (None, ""):
            continue
        try:
            # Attribute by attribute: one unusable value (a dict for a job title) must not lose the rest.
            clean[name] = getattr(Profile.model_validate({name: value}), name)
        except ValueError:
            continue
    return Profile.model_validate(clean)


CRM_CONTEXT = frozenset(
    {"hubspot_owner_id", "hubspot_portal_id", "salesforce_owner_id", "salesforce_url", "salesforce_object"}
)
FIT_ATTRIBUTES: frozenset[str] = frozenset(
    {name for name in Profile.model_fields if name not in {"first_name", "last_name", "phone", *CRM_CONTEXT}}
    | {"email_domain"}
)
NUMERIC_ATTRIBUTES: frozenset[str] = frozenset({"company_size"})
