"""Whatever a CRM puts in its activity properties, translating them never fails: an unreadable
date is no event, never an error that loses the delivery."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.sources.hubspot_activity import activity_events
from chalicelib.sources.salesforce_activity import calendar_event, campaign_member_event, task_event
from tests.helpers import default_rules

MAPPING = default_rules().crm_activity
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
VALUES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.lists(st.integers(), max_size=3),
)
HUBSPOT_NAMES = st.sampled_from(MAPPING.hubspot_properties())
SALESFORCE_FIELDS = st.sampled_from(
    ["Id", "WhoId", "LeadId", "ContactId", "Status", "HasResponded", "TaskSubtype", "Type", "IsClosed",
     "CompletedDateTime", "StartDateTime", "LastModifiedDate", "FirstRespondedDate", "CampaignId"]
)  # fmt: skip


@given(st.dictionaries(HUBSPOT_NAMES, VALUES, max_size=12))
@example({"hs_email_last_reply_date": 0, "hs_sales_email_last_replied": 1e-05})  # one millisecond: one reply
def test_hubspot_properties_of_any_value(values) -> None:
    events = activity_events("501", values, MAPPING, NOW)
    by_id: dict[str, tuple[str, datetime]] = {}
    for event in events:
        assert event.identities.hubspot_id == "501"
        # one id is one activity: two properties recording it (first and recent conversion) agree
        assert by_id.setdefault(event.event_id, (event.type, event.occurred_at)) == (event.type, event.occurred_at)


@given(st.dictionaries(SALESFORCE_FIELDS, VALUES, max_size=10), st.one_of(st.none(), st.text(max_size=12)))
def test_salesforce_records_of_any_value(fields, campaign_type) -> None:
    for event in (
        campaign_member_event(fields, campaign_type, MAPPING, NOW),
        task_event(fields, MAPPING, NOW),
        calendar_event(fields, MAPPING, NOW),
    ):
        assert event is None or event.identities.salesforce_id
