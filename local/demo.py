"""`make demo`: send the bundled sample deliveries, correctly signed, to the running service
(`make run`), then print the leaderboard with each lead's top reasons and the event names that earned nothing."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import TargetError, running_local_state
from chalicelib.cli.unscored_cmd import describe as describe_unscored
from local import samples
from local.defaults import LOCAL_HOST, LOCAL_PORT, LOCAL_SECRETS
from local.signing import Signer


def secrets() -> dict[str, str]:
    return {name: os.environ.get(name, value) for name, value in LOCAL_SECRETS.items()}


def send(base_url: str, path: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(base_url + path, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get_json(base_url: str, path: str, admin_key: str) -> Any:
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {admin_key}"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def deliveries(signer: Signer, now: datetime) -> list[tuple[str, str, str, dict[str, str]]]:
    org_id = signer.secrets["SALESFORCE_ORG_ID"]
    hubspot = signer.hubspot_v3("/webhooks/hubspot", samples.hubspot_events(now))
    typeform = signer.typeform(samples.typeform_demo_request(now))
    tally = signer.tally(samples.tally_quote_request(now))
    segment = json.dumps(samples.segment_batch(now))
    return [
        ("HubSpot webhooks", "/webhooks/hubspot", *hubspot),
        ("Salesforce outbound message", signer.salesforce_path(), samples.salesforce_envelope(org_id, now),
         {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}),
        ("Typeform demo request", "/webhooks/forms/typeform", *typeform),
        ("Tally quote request", "/webhooks/forms/tally", *tally),
        ("Segment batch", "/v1/batch", segment, signer.basic()),
    ]  # fmt: skip


def service_url() -> str:
    """LEADSCORE_URL, else the `make run` running here (on whatever PORT it was given), else the default."""
    if os.environ.get("LEADSCORE_URL"):
        return os.environ["LEADSCORE_URL"]
    try:
        return str(running_local_state()["url"])
    except (TargetError, KeyError):
        return f"http://{LOCAL_HOST}:{LOCAL_PORT}"


def main() -> int:
    base_url = service_url()
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=5):
            pass
    except OSError as exc:
        print(f"make demo: no leadscore answers at {base_url} ({getattr(exc, 'reason', exc)}): start it with "
              "`make run`, or set LEADSCORE_URL", file=sys.stderr)  # fmt: skip
        return 2
    signer = Signer(secrets(), base_url)
    failures = 0
    for name, path, body, headers in deliveries(signer, datetime.now(UTC)):
        status, reply = send(base_url, path, body, headers)
        summary = reply if path.startswith("/webhooks/salesforce") and status != 200 else reply[:120]
        if status == 200 and path.startswith("/webhooks/salesforce"):
            summary = "SOAP Ack true" if "<Ack>true</Ack>" in reply else reply[:120]
        print(f"{status}  {name:<30} {summary}")
        failures += status != 200
    board = get_json(base_url, "/leads?limit=20", signer.secrets["ADMIN_API_KEY"])["leads"]
    print(f"\n{'lead':<24} {'score':>5}  {'tier':<12} {'grade':<5} top reasons")
    for row in board:
        lead = get_json(base_url, f"/leads/{row['lead_id']}", signer.secrets["ADMIN_API_KEY"])
        name = lead["profile"].get("email") or next(iter(lead["identities"]), row["lead_id"])
        print(f"{name:<24.24} {row['score']:>5}  {row['tier']:<12} {row['grade']:<5} {'; '.join(row['reasons'])}")
    print()
    for line in describe_unscored(get_json(base_url, "/reports/unscored", signer.secrets["ADMIN_API_KEY"])):
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
