"""`GET /reports/health` over stored leads (moto), and the upkeep's once-a-day inflation check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.bootstrap import container
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import SECRETS, json_body
from tests.helpers import NOW, track
from tests.integration.test_shadow_scoring import _status


def test_the_health_report_by_month_and_version_and_a_daily_check(client: Any) -> None:
    parts = container()
    parts.releases.seed(NOW)  # the bundled rules are version 1
    events = [track(f"d{index}", "Demo Requested", user_id=f"u{index}") for index in range(3)]
    events += [track("v", "Pricing Viewed", user_id="u9")]
    parts.ingestion.ingest(ParsedDelivery(events=events), NOW)
    parts.ingestion.ingest(ParsedDelivery(events=[_status("u0", NOW, lifecycle_stage="customer")]), NOW)
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}
    reply = client.http.get("/reports/health", headers=viewer)
    assert reply.status_code == 200, reply.body
    report = json_body(reply)
    (month,) = report["months"]
    assert month["month"] == (NOW - timedelta(hours=1)).strftime("%Y-%m") and month["leads"] == 4
    assert month["versions"][0]["version"] == 1 and month["versions"][0]["leads"] == 4
    assert sum(month["tier_mix"].values()) == 4
    assert report["inflation"] == [] and report["undated"] == 0

    first = parts.upkeep.run(NOW)
    assert first.inflating is False
    assert parts.upkeep.run(NOW + timedelta(hours=1)).inflating is None  # once a day
    assert parts.upkeep.run(NOW + timedelta(days=1)).inflating is False
