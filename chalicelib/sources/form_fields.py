"""Form answers -> profile attributes, and a form's name -> what the submission means.

Shared by every form builder: each vendor module extracts (label or ref, field type, value)
triples; this module decides that "Work email" is the email and "How many employees?" the size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.service_layer.commands import ParsedDelivery

# First matching pattern wins, so "company size" is a size before it is a company.
_LABEL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"e-?mail")),
    ("company_size", re.compile(r"company size|employees|team size|headcount|how (big|large)|size of")),
    ("first_name", re.compile(r"first[ _-]?name|given name|forename")),
    ("last_name", re.compile(r"last[ _-]?name|surname|family name")),
    ("job_title", re.compile(r"job|title|role|position|occupation|what do you do")),
    ("company", re.compile(r"company|organi[sz]ation|business name|employer|account")),
    ("industry", re.compile(r"industry|sector|vertical")),
    ("country", re.compile(r"country|nation")),
    ("lead_source", re.compile(r"hear about|how did you (find|hear)|lead source|referr|utm[ _]source|^source$")),
    ("full_name", re.compile(r"^(your |full )?name$")),
]
_FORM_KINDS: list[tuple[re.Pattern[str], str, dict[str, str]]] = [
    (re.compile(r"demo"), "demo_request", {}),
    (re.compile(r"pric|quote|rfq|proposal"), "quote_request", {}),
    (re.compile(r"case[ _-]?stud"), "content_download", {"content_type": "case_study"}),
    (re.compile(r"white ?paper"), "content_download", {"content_type": "whitepaper"}),
    (re.compile(r"e-?book"), "content_download", {"content_type": "ebook"}),
    (re.compile(r"download|guide|report|checklist|template"), "content_download", {"content_type": "guide"}),
    (re.compile(r"webinar"), "webinar_registered", {}),
    (re.compile(r"trial|sign ?up|get started"), "trial_started", {}),
]
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
MAX_ANSWERS = 500  # a form has tens of fields; a body with 50,000 is read no further than this
KNOWN_KINDS = {"demo_request", "quote_request", "content_download", "webinar_registered", "trial_started"}


@dataclass(frozen=True)
class Answer:
    label: str
    kind: str  # the builder's field type, e.g. "email", "INPUT_EMAIL", "number"
    value: Any


def attribute_for(answer: Answer) -> str | None:
    if "email" in answer.kind.lower():
        return "email"
    # "fullName", "first_name" and "First Name" are the same label (flat JSON keys are often camelCase)
    label = _CAMEL.sub(" ", answer.label.strip()).lower().replace("_", " ")
    for attribute, pattern in _LABEL_PATTERNS:
        if pattern.search(label):
            return attribute
    return None


def profile_from(answers: Iterable[Answer]) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    for answer in answers:
        value = answer.value
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value if item not in (None, ""))
        if value in (None, "") or isinstance(value, dict):
            continue
        attribute = attribute_for(answer)
        if attribute == "full_name":
            first, _, last = str(value).strip().partition(" ")
            profile.setdefault("first_name", first)
            if last:
                profile.setdefault("last_name", last)
        elif attribute is not None and attribute not in profile:
            profile[attribute] = str(value).strip() if attribute != "company_size" else value
    return profile


MAX_FIELD_NAMES = 100


def filled_fields(answers: Iterable[Answer]) -> list[str]:
    """The labels of the fields that have a value (at most MAX_FIELD_NAMES, each shortened)."""
    names = {
        answer.label.strip()[:64]
        for answer in answers
        if answer.label and answer.value not in (None, "", [], {}) and answer.value is not False
    }
    return sorted(names)[:MAX_FIELD_NAMES]


def submission_kind(form_name: str, override: str | None = None) -> tuple[str, dict[str, str]]:
    """(event type, extra properties) for a form, from an explicit `form_type` or the form's name."""
    if override:
        chosen = override.strip().lower().replace(" ", "_")
        if chosen in KNOWN_KINDS:
            return chosen, {}
        for pattern, kind, extra in _FORM_KINDS:
            if pattern.search(chosen):
                return kind, extra
    name = form_name.lower()
    for pattern, kind, extra in _FORM_KINDS:
        if pattern.search(name):
            return kind, extra
    return "form_submitted", {"form_kind": "contact"}


def submission_delivery(
    *,
    source: str,
    submission_id: str,
    form_id: str,
    form_name: str,
    submitted_at: datetime,
    answers: list[Answer],
    form_type: str | None = None,
    extra_identities: dict[str, str] | None = None,
) -> ParsedDelivery:
    """The two events a submission makes: the profile it states and the engagement it is."""
    answers = answers[:MAX_ANSWERS]
    profile = profile_from(answers)
    email = profile.get("email")
    identities = Identities(email=email, **(extra_identities or {}))
    kind, extra = submission_kind(form_name or form_id, form_type)
    # Which fields were filled: the rules' honeypot filter judges the submission by them.
    filled = filled_fields(answers)
    properties = {"form_id": form_id, "form_name": form_name, **extra, "form_fields": filled}
    if not identities.as_keys():
        # Nobody to attribute it to: a 4xx would have the sender retry it until it gives up on the
        # endpoint, so it is acknowledged and reported (unscored: missing_identity:email).
        submission = LeadEvent(event_id=submission_id, source=source, type=kind, occurred_at=submitted_at,
                               properties=properties)  # fmt: skip
        return ParsedDelivery(unattributed=[submission], missing="email")
    events = [
        LeadEvent(
            event_id=f"{submission_id}:profile",
            source=source,
            type=PROFILE_EVENT,
            occurred_at=submitted_at,
            identities=identities,
            properties={"profile": profile, "form_fields": filled},
        ),
        LeadEvent(
            event_id=submission_id,
            source=source,
            type=kind,
            occurred_at=submitted_at,
            identities=identities,
            properties=properties,
        ),
    ]
    return ParsedDelivery(events=events)
