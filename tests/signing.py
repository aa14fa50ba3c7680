"""The test suite's signer: the shared vendor-faithful signing with the test secrets."""

from __future__ import annotations

import json
from typing import Any

from local.signing import Signer
from tests.conftest import SECRETS

BASE = "http://localhost"


def _signer() -> Signer:
    return Signer(SECRETS, BASE)


def hubspot_v3(path: str, payload: Any, **kwargs: Any):
    return _signer().hubspot_v3(path, payload, **kwargs)


def hubspot_legacy(path: str, payload: Any, version: str):
    return _signer().hubspot_legacy(path, payload, version)


def typeform(payload: Any, secret: str | None = None):
    return _signer().typeform(payload, secret)


def tally(payload: Any):
    return _signer().tally(payload)


def webflow(payload: Any, timestamp_ms: int | None = None):
    return _signer().webflow(payload, timestamp_ms)


def standard_webhook(payload: Any, message_id: str, when: Any = None):
    return _signer().standard_webhook(payload, message_id, when)


def basic(write_key: str | None = None) -> dict[str, str]:
    return _signer().basic(write_key)


def json_dumps(payload: Any) -> str:
    return json.dumps(payload)


def calendly(payload: Any, timestamp: int | None = None, key: str | None = None):
    return _signer().calendly(payload, timestamp, key)


def calcom(payload: Any, secret: str | None = None):
    return _signer().calcom(payload, secret)


def pipedrive(payload: Any, user: str | None = None, password: str | None = None):
    return _signer().pipedrive(payload, user, password)
