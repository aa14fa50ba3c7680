"""Identity resolution: which signals belong to one lead, and which stored leads must merge.

A form submission by email, a Segment identify linking an anonymousId or userId to that email, and
a HubSpot contact with that email are one lead. Signals that share any key are one group; a group
whose keys already point at several stored leads merges them into one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

KEY_KINDS = ("hubspot", "salesforce", "pipedrive", "email", "user", "anon")


LISTED_KEYS = 50  # the identities a lead item lists; every one is also an item of its own
LISTED_ANONYMOUS = 10  # a browser per visit (or a bot's) must not crowd the CRM ids out


def listed_keys(keys: Sequence[str]) -> list[str]:
    """The identities shown on (and stored with) the lead: every CRM id, email and user id first,
    then some anonymous ids, at most LISTED_KEYS. The rest still resolve to the lead."""
    unique = sorted(set(keys))
    named = [key for key in unique if not key.startswith("anon:")]
    anonymous = [key for key in unique if key.startswith("anon:")][:LISTED_ANONYMOUS]
    return sorted((named + anonymous)[:LISTED_KEYS])


@dataclass
class LeadPlan:
    """One lead touched by a delivery: the signals for it and the leads to fold into it."""

    signal_indexes: list[int]
    keys: list[str]
    lead_id: str | None  # None: a new lead
    merge_from: list[str] = field(default_factory=list)


def plan_leads(signal_keys: Sequence[Sequence[str]], known: Mapping[str, str]) -> list[LeadPlan]:
    """Group signals by shared keys (and by the stored lead their keys point at).

    `known` maps identity key -> stored lead id. The surviving lead of a merge is the one that owns
    the email key if any, else the smallest id, so the choice is the same whoever runs it.
    """
    parent = list(range(len(signal_keys)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, keys in enumerate(signal_keys):
        for token in [*keys, *(f"lead:{known[key]}" for key in keys if key in known)]:
            if token in owner:
                parent[find(index)] = find(owner[token])
            else:
                owner[token] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(signal_keys)):
        groups.setdefault(find(index), []).append(index)

    plans = []
    for members in groups.values():
        keys = sorted({key for index in members for key in signal_keys[index]})
        leads = sorted({known[key] for key in keys if key in known})
        survivor = None
        if leads:
            email_owners = sorted({known[key] for key in keys if key.startswith("email:") and key in known})
            survivor = email_owners[0] if email_owners else leads[0]
        plans.append(
            LeadPlan(
                signal_indexes=members,
                keys=keys,
                lead_id=survivor,
                merge_from=[lead for lead in leads if lead != survivor],
            )
        )
    return plans


def parse_key(text: str) -> str | None:
    """`hubspot:123`, `email:Jane@Acme.com` ... -> normalised key; None when it is not an identity key."""
    kind, sep, value = text.partition(":")
    if not sep or kind not in KEY_KINDS or not value.strip():
        return None
    value = value.strip()
    return f"{kind}:{value.lower() if kind == 'email' else value}"
