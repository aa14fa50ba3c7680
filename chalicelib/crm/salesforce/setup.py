"""Setting a Salesforce org up for leadscore (`leadscore crm setup salesforce`): the custom fields
the write-back writes, on Lead and Contact (and the account score's on Account), created through
the Tooling API (`CustomField`) when an access token is configured, else listed for Setup → Object
Manager. A field that exists is fine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.crm.http_client import CrmUnavailable, JsonResponse

from .records import API

OBJECTS = ("Lead", "Contact")
# What each written value needs (the README's table): scores pass 100, the reasons are one line.
FIELD_SHAPES: dict[str, tuple[str, str, dict[str, int]]] = {
    "score": ("Lead score", "Number", {"precision": 4, "scale": 0}),
    "tier": ("Lead tier", "Text", {"length": 20}),
    "grade": ("Lead grade", "Text", {"length": 1}),
    "reasons": ("Lead score reasons", "Text", {"length": 255}),
    "likelihood": ("Lead score likelihood", "Number", {"precision": 5, "scale": 4}),
}


class Requester(Protocol):
    def request(self, method: str, path: str, payload: Any = None) -> JsonResponse: ...


@dataclass(frozen=True)
class WantedField:
    sobject: str
    api_name: str
    label: str
    kind: str
    shape: Mapping[str, int]

    def describe(self) -> str:
        sizes = ", ".join(str(value) for value in self.shape.values())
        return f"{self.sobject}.{self.api_name}  {self.kind}({sizes})  label {self.label!r}"


ACCOUNT_SHAPES: dict[str, tuple[str, str, dict[str, int]]] = {
    "score": ("Account score", "Number", {"precision": 4, "scale": 0}),
    "tier": ("Account tier", "Text", {"length": 20}),
    "engaged_contacts": ("Account engaged contacts", "Number", {"precision": 6, "scale": 0}),
    "reasons": ("Account score reasons", "Text", {"length": 255}),
}


def wanted_fields(names: Mapping[str, str], named: Mapping[str, str] | None = None) -> list[WantedField]:
    """`names`: the configured API name of each written value (an empty one is not written);
    `named`: the rules' named scores (field -> label), on Lead and Contact; the Account's fields."""
    from .writer import ACCOUNT_FIELDS

    leads = [
        WantedField(sobject, api_name, *FIELD_SHAPES[value])
        for sobject in OBJECTS
        for value, api_name in names.items()
        if api_name and value in FIELD_SHAPES
    ]
    leads += [WantedField(sobject, field, label, "Number", {"precision": 4, "scale": 0})
              for sobject in OBJECTS for field, label in (named or {}).items()]  # fmt: skip
    return leads + [WantedField("Account", ACCOUNT_FIELDS[value], *shape) for value, shape in ACCOUNT_SHAPES.items()]


def create_fields(session: Requester, wanted: list[WantedField]) -> list[str]:
    """POST /tooling/sobjects/CustomField for each; returns what happened to each."""
    report = []
    for field in wanted:
        body = {
            "FullName": f"{field.sobject}.{field.api_name}",
            "Metadata": {"label": field.label, "type": field.kind, **field.shape},
        }
        response = session.request("POST", f"{API}/tooling/sobjects/CustomField", body)
        report.append(f"{field.sobject}.{field.api_name}: {_outcome(response)}")
    return report


def _outcome(response: JsonResponse) -> str:
    if response.status in (200, 201):
        return "created"
    errors = response.body if isinstance(response.body, list) else [response.body]
    # REST errors name it `errorCode`; some create results `statusCode` (a DUPLICATE_DEVELOPER_NAME
    # quoted in vlocityinc/vlocity_build#450): read either.
    codes = {str(error.get("errorCode") or error.get("statusCode")) for error in errors if isinstance(error, dict)}
    if response.status == 400 and codes & {"DUPLICATE_DEVELOPER_NAME", "DUPLICATE_VALUE"}:
        return "already exists"
    raise CrmUnavailable(f"Salesforce answered {response.status} {sorted(codes)} to CustomField")
