"""`make run` under load, through its real HTTP path: the embedded AWS (local/embedded_aws.py) and
`chalice local` in a child process, with the write-back thread polling and the decay job running every 5 seconds.

- a heavy lead: 20,000 page views a person's pace apart for one Segment user, 100 to a batch,
  all answered 2xx, the last batches no slower than the first (the table grows; a batch's cost must not);
- 50 deliveries for one lead at once (Segment's SDK, one thread each) plus a batch of 100 events
  for it, each counted exactly once, no 5xx;
- 32 userIds identifying the same new email at once: one lead, no 5xx.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from segment.analytics.client import Client as SegmentClient

from local.child import make_run as running
from local.defaults import LOCAL_SECRETS

WRITE_KEY = LOCAL_SECRETS["EVENTS_WRITE_KEY"]
ADMIN = {"Authorization": f"Bearer {LOCAL_SECRETS['ADMIN_API_KEY']}"}
PATHS = ["/", "/pricing", "/docs/api", "/blog/scoring", "/case-studies/acme", "/about", "/compare/x"]
# Segment's own spec examples' user agent (tests/fixtures/segment/spec-group.json): a browser.
SPEC_GROUP = Path(__file__).parents[1] / "fixtures" / "segment" / "spec-group.json"
BROWSER = json.loads(SPEC_GROUP.read_text())["context"]["userAgent"]


@pytest.fixture(scope="module")
def make_run() -> Iterator[str]:
    # Its stop saves a 20,000-event lead: on a slow machine that takes more than the usual 2 minutes.
    with running(UPKEEP_INTERVAL_SECONDS="5", TABLE_NAME="leadscore-load", stop_seconds=300) as url:
        yield url


def _batch(url: str, messages: list[dict]) -> tuple[int, float]:
    started = time.perf_counter()
    reply = requests.post(f"{url}/v1/batch", json={"batch": messages}, auth=(WRITE_KEY, ""), timeout=90)
    return reply.status_code, time.perf_counter() - started


def _lead(url: str, key: str) -> dict:
    reply = requests.get(f"{url}/leads/{key}", headers=ADMIN, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _count(lead: dict, rule: str) -> int:
    return sum(item["count"] for item in lead["card"]["contributions"] if item["rule"] == rule)


def test_a_heavy_lead_is_answered_2xx_at_a_steady_pace(make_run: str) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    statuses, seconds = [], []
    total = 20_000
    for first in range(0, total, 100):
        messages = [
            {
                "type": "page",
                "messageId": f"heavy-{number}",
                "userId": "heavy-reader",
                "timestamp": (start + timedelta(seconds=120 * number)).isoformat(),
                "properties": {"url": f"https://acme.example{PATHS[number % len(PATHS)]}"},
                "context": {"userAgent": BROWSER},
            }
            for number in range(first, first + 100)
        ]
        status, took = _batch(make_run, messages)
        statuses.append(status)
        seconds.append(took)
    assert set(statuses) == {200}
    early, late = statistics.median(seconds[5:25]), statistics.median(seconds[-20:])
    assert late <= 2 * early + 0.05, f"a batch took {early * 1000:.0f} ms early on and {late * 1000:.0f} ms at the end"
    lead = _lead(make_run, "user:heavy-reader")
    assert lead["card"]["ignored"] == []  # a person's pace, a browser: nothing filtered
    views = sum(_count(lead, rule) for rule in ("page_pricing", "page_docs", "page_blog", "page_homepage"))
    assert views > 0 and lead["score"] > 0


def test_fifty_deliveries_for_one_lead_at_once_each_count_once(make_run: str) -> None:
    errors: list = []

    def deliver(number: int) -> None:
        # One `chalice local` process works through all 51 at once (API Gateway and Lambda would
        # scale out), so a delivery may wait longer than the SDK's default 15 s: not an error here.
        client = SegmentClient(
            WRITE_KEY, host=make_run, sync_mode=True, max_retries=2, timeout=90, on_error=lambda e, b: errors.append(e)
        )
        client.track(user_id="busy-lead", event="Content Downloaded", properties={"content_type": "guide"},
                     message_id=f"busy-{number}")  # fmt: skip
        client.flush()

    now = datetime.now(UTC)
    batch = [
        {
            "type": "track",
            "event": "Webinar Registered",
            "messageId": f"busy-batch-{number}",
            "userId": "busy-lead",
            "timestamp": (now - timedelta(minutes=number)).isoformat(),
        }
        for number in range(100)
    ]
    with ThreadPoolExecutor(max_workers=51) as pool:
        futures = [pool.submit(deliver, number) for number in range(50)]
        batch_reply = pool.submit(_batch, make_run, batch)
        for future in futures:
            future.result()
        status, _ = batch_reply.result()
    assert errors == [] and status == 200
    lead = _lead(make_run, "user:busy-lead")
    assert (_count(lead, "content_download"), _count(lead, "webinar_registered")) == (50, 100)


def test_thirty_two_user_ids_identifying_one_new_email_at_once_make_one_lead(make_run: str) -> None:
    def identify(number: int) -> int:
        message = {"type": "identify", "userId": f"shared-{number}", "traits": {"email": "info@shared.example"}}
        reply = requests.post(f"{make_run}/v1/identify", json=message, auth=(WRITE_KEY, ""), timeout=90)
        return reply.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(identify, range(32)))
    assert set(statuses) == {200}
    lead = _lead(make_run, "email:info@shared.example")
    assert {f"user:shared-{number}" for number in range(32)} <= set(json.loads(json.dumps(lead["identities"])))
