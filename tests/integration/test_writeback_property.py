"""Whatever interleaving of CRM failures, lost queue sends and rescoring, the CRM ends up holding
each lead's latest card, and nothing is left undelivered except dead-lettered permanent errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.task_queue import QueueUnavailable
from tests.conftest import use_container
from tests.integration.crm_fakes import FakeHubSpot, Worker

LEADS = 3
KINDS = ["Demo Requested", "Email Opened", "Quote Requested", "Unsubscribed", "Webinar Attended"]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.integers(0, LEADS - 1), st.sampled_from(KINDS), st.booleans()),
        st.tuples(st.just("poll"), st.sampled_from(["ok", "429", "500", "timeout", "400"])),
    ),
    min_size=1,
    max_size=10,
)
_runs = itertools.count()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, bad_lead=st.one_of(st.none(), st.integers(0, LEADS - 1)))
def test_any_interleaving_ends_with_the_latest_card_in_the_crm(aws, httpserver, monkeypatch, steps, bad_lead) -> None:
    run = next(_runs)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container()
    httpserver.clear()
    hubspot = FakeHubSpot(httpserver)
    container().writers[0].client.read_timeout = 0.5
    contacts = [f"{run}-{index}" for index in range(LEADS)]
    for contact in contacts:
        hubspot.add(contact)
    if bad_lead is not None:
        hubspot.rejects.add(contacts[bad_lead])  # its write-backs can only end in the dead-letter queue
    service = container()
    worker = Worker()
    worker.purge()
    now = datetime.now(UTC)
    for number, step in enumerate(steps):
        if step[0] == "event":
            _, lead, kind, queue_down = step
            event = LeadEvent(
                event_id=f"{run}-{number}",
                source="segment",
                type=kind,
                occurred_at=now - timedelta(minutes=number),
                identities=Identities(hubspot_id=contacts[lead]),
            )
            queue = container().queue
            send = queue.send
            if queue_down:
                queue.send = _unavailable  # type: ignore[method-assign]
            service.ingestion.ingest(ParsedDelivery(events=[event]), now)
            queue.send = send  # type: ignore[method-assign]
        else:
            hubspot.failures.append(step[1])
            worker.release()
            worker.poll()

    # The CRM recovers; the scheduled job re-queues whatever a lost send left in the outbox.
    hubspot.failures.clear()
    container().upkeep.run(now + timedelta(hours=1))  # its outbox grace is the default 15 minutes
    worker.drain()

    dead = {letter["lead_id"] for letter in worker.dead_letters()}
    for index, contact in enumerate(contacts):
        lead_id = service.lead_views.find_lead_id(f"hubspot:{contact}")
        if lead_id is None:
            continue
        card = container().storage.leads.get_lead(lead_id).card
        if index == bad_lead:
            assert lead_id in dead
            continue
        written = hubspot.contacts[contact]
        assert (int(written["lead_score"]), written["lead_tier"], written["lead_grade"]) == card.visible


def _unavailable(*args, **kwargs):
    raise QueueUnavailable("SQS is down")
