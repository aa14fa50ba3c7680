"""Where a lead lives in each CRM, as a rep needs it: a link that opens the record, who owns it,
the stage it is at. From the lead's identity keys and the profile its CRM deliveries filled.

HubSpot's record page is `<app>/contacts/<portal id>/record/0-1/<contact id>` (0-1: contacts);
the portal id comes with every webhook delivery (`portalId`), else from HUBSPOT_PORTAL_ID.
Salesforce's is `<instance>/lightning/r/<Lead|Contact>/<id>/view`; the instance comes with every
outbound message (`EnterpriseUrl`), else from SALESFORCE_INSTANCE_URL. Pipedrive's is
`https://<company domain>.pipedrive.com/person/<id>` (PIPEDRIVE_COMPANY_DOMAIN).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .profile import Profile, salesforce_origin

SALESFORCE_PREFIXES = {"00Q": "Lead", "003": "Contact"}


@dataclass(frozen=True)
class CrmPlaces:
    """What a deployment knows when a lead's deliveries did not say it."""

    hubspot_app_url: str = "https://app.hubspot.com"
    hubspot_portal_id: str = ""
    salesforce_url: str = ""
    pipedrive_company_domain: str = ""


def crm_links(keys: Iterable[str], profile: Profile, places: CrmPlaces) -> dict[str, str]:
    """One link per CRM the lead is in (the first record of each), none where the address is unknown."""
    links: dict[str, str] = {}
    for key in keys:
        kind, _, value = key.partition(":")
        if kind == "hubspot" and "hubspot" not in links and value.isdigit():
            portal = profile.hubspot_portal_id or places.hubspot_portal_id
            if portal:
                links["hubspot"] = f"{places.hubspot_app_url.rstrip('/')}/contacts/{portal}/record/0-1/{value}"
        elif kind == "salesforce" and "salesforce" not in links and value.isalnum():
            base = profile.salesforce_url or salesforce_origin(places.salesforce_url)
            sobject = SALESFORCE_PREFIXES.get(value[:3]) or profile.salesforce_object
            if base and sobject:
                links["salesforce"] = f"{base}/lightning/r/{sobject}/{value}/view"
        elif kind == "pipedrive" and "pipedrive" not in links and value.isdigit() and places.pipedrive_company_domain:
            links["pipedrive"] = f"https://{places.pipedrive_company_domain}.pipedrive.com/person/{value}"
    return links


def owner_refs(profile: Profile) -> list[tuple[str, str]]:
    """(CRM, owner id) of each CRM record's owner."""
    found = [
        ("hubspot", profile.hubspot_owner_id),
        ("salesforce", profile.salesforce_owner_id),
        ("pipedrive", profile.pipedrive_owner_id),
    ]
    return [(crm, owner) for crm, owner in found if owner]


def owner_of(profile: Profile, names: Mapping[tuple[str, str], str]) -> dict[str, str | None] | None:
    """The lead's owner: the first CRM's that has one, with its name when the directory knows it
    (a deleted or not yet read owner has none, and is shown by its id)."""
    for crm, owner in owner_refs(profile):
        return {"crm": crm, "id": owner, "name": names.get((crm, owner))}
    return None


def stage_of(profile: Profile) -> str | None:
    """The CRM's own word for where the lead is: its lifecycle stage, else its lead status."""
    return profile.lifecycle_stage or profile.lead_status
