"""CI smoke test of `make run`: wait for /health, send one signed delivery, read the lead back."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

from local.defaults import LOCAL_HOST, LOCAL_PORT
from local.demo import get_json, secrets, send
from local.samples import hubspot_events
from local.signing import Signer


def wait_for_health(base_url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            # the answer is waited for (hanging up on a slow first request breaks the server's pipe)
            with urllib.request.urlopen(f"{base_url}/health", timeout=30) as response:
                if json.loads(response.read()).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{base_url}/health did not answer within {seconds:.0f} s")
        time.sleep(0.5)


def main() -> int:
    base_url = os.environ.get("LEADSCORE_URL", f"http://{LOCAL_HOST}:{LOCAL_PORT}")
    wait_for_health(base_url, float(os.environ.get("SMOKE_WAIT_SECONDS", "300")))
    signer = Signer(secrets(), base_url)
    body, headers = signer.hubspot_v3("/webhooks/hubspot", hubspot_events(datetime.now(UTC))[:5])
    status, reply = send(base_url, "/webhooks/hubspot", body, headers)
    print(f"signed HubSpot delivery: {status} {reply}")
    if status != 200:
        return 1
    forged_status, _ = send(base_url, "/webhooks/hubspot", body, {**headers, "X-HubSpot-Signature-v3": "forged"})
    lead = get_json(base_url, "/leads/hubspot:1501", signer.secrets["ADMIN_API_KEY"])
    print(
        f"forged delivery: {forged_status}; lead hubspot:1501 scored {lead['score']} ({lead['tier']}, {lead['grade']})"
    )
    return 0 if forged_status == 401 and lead["fit"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
