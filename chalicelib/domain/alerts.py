"""What an alert about a lead says, whatever carries it (Slack, Teams, a JSON receiver): who the lead
is (name, title, company), where it stands (score, tier, grade, owner), why (its top reasons, each
naming what the person did and when) and where to act (the CRM record, the console's lead page).

Every text here came from a sender or a CRM: the formats escape it for their markup, and never let
it mention anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .bounds import clean_text

AlertKind = Literal["entered_mql", "left_mql"]
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce", "pipedrive": "Pipedrive"}
TOP_REASONS = 3


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    lead_id: str
    name: str
    title: str | None
    company: str | None
    email: str | None
    score: int
    tier: str
    grade: str
    from_tier: str | None
    owner: str | None
    reasons: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, URL): each CRM's record, then the console's page
    at: str  # when it crossed, ISO 8601 UTC with Z

    @property
    def entered(self) -> bool:
        return self.kind == "entered_mql"

    @property
    def headline(self) -> str:
        """ "Ada Lovelace (Initech) is now hot: score 72", "… dropped to warm: score 41"."""
        who = self.name + (f" ({self.company})" if self.company else "")
        moved = "is now" if self.entered else "dropped to"
        return f"{who} {moved} {spoken(self.tier)}: score {self.score}"

    @property
    def standing(self) -> str:
        return f"Score {self.score} · {spoken(self.tier)} · grade {self.grade}"

    def to_json(self) -> dict[str, Any]:
        """The documented JSON body (NOTIFY_FORMAT=json), with the one-line `text` most receivers show."""
        return {
            "event": f"lead.{self.kind}",
            "text": self.headline,
            "at": self.at,
            "lead": {
                "id": self.lead_id, "name": self.name, "title": self.title, "company": self.company,
                "email": self.email, "score": self.score, "tier": self.tier, "grade": self.grade,
                "from_tier": self.from_tier, "owner": self.owner,
            },
            "reasons": list(self.reasons),
            "links": [{"label": label, "url": url} for label, url in self.links],
        }  # fmt: skip


def alert_from_json(body: dict[str, Any]) -> Alert:
    """An alert back from its JSON body (a held alert, for the day's digest)."""
    lead = body["lead"]
    return Alert(
        kind=body["event"].removeprefix("lead."), lead_id=lead["id"], name=lead["name"], title=lead.get("title"),
        company=lead.get("company"), email=lead.get("email"), score=int(lead["score"]), tier=lead["tier"],
        grade=lead["grade"], from_tier=lead.get("from_tier"), owner=lead.get("owner"),
        reasons=tuple(body.get("reasons") or ()), links=tuple((link["label"], link["url"]) for link in body["links"]),
        at=body["at"],
    )  # fmt: skip


def spoken(tier: str) -> str:
    return tier.replace("_", " ")


def alert_from_lead(lead: dict[str, Any], kind: AlertKind, from_tier: str | None, at: str,
                    console_url: str | None) -> Alert:  # fmt: skip
    """From a lead as GET /leads/{key} shows it; `console_url` its console page (None: no public URL)."""
    profile = lead.get("profile") or {}

    def text(value: Any) -> str | None:
        found = clean_text(str(value)).strip() if value not in (None, "") else ""
        return found or None

    name = text(" ".join(str(profile.get(part) or "") for part in ("first_name", "last_name")).strip())
    owner = lead.get("owner") or None
    links = [(f"Open in {CRM_NAMES.get(crm, crm)}", url) for crm, url in sorted((lead.get("crm_links") or {}).items())]
    if console_url:
        links.append(("Open in leadscore", console_url))
    return Alert(
        kind=kind,
        lead_id=lead["lead_id"],
        name=name or text(profile.get("email")) or lead["lead_id"],
        title=text(profile.get("job_title")),
        company=text(profile.get("company")),
        email=text(profile.get("email")),
        score=int(lead["score"]),
        tier=str(lead["tier"]),
        grade=str(lead["grade"]),
        from_tier=from_tier,
        owner=text(owner.get("name") or f"{CRM_NAMES.get(owner['crm'], owner['crm'])} owner {owner['id']}")
        if owner
        else None,
        reasons=tuple(reason for reason in lead.get("reasons") or [] if not reason.startswith("ignored:"))[
            :TOP_REASONS
        ],
        links=tuple(links),
        at=at,
    )
