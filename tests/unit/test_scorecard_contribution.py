"""A contribution built on the scorer's fast path is the one pydantic's model_construct builds."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.scorecard import Contribution


def test_the_fast_engagement_contribution_is_the_constructed_one():
    at = datetime(2026, 12, 1, tzinfo=UTC)
    for latest, latest_at in ((None, None), ("Requested a demo", at)):
        fields = dict(rule="demo", label="Requested a demo", count=2, points_now=12.5, points_full=50.0, capped=True,
                      event_ids=["e1", "e2"], latest=latest, latest_at=latest_at)  # fmt: skip
        fast = Contribution.engagement(**fields)
        built = Contribution.model_construct(kind="engagement", **fields)
        assert fast == built and fast.model_dump() == built.model_dump() and fast.what(at) == built.what(at)
        assert fast.model_fields_set == built.model_fields_set
        assert fast.model_copy(update={"count": 3}).count == 3
        assert Contribution.model_validate_json(fast.model_dump_json()) == fast
