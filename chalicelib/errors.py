"""Failures of something we depend on that a later retry can fix. Each adapter raises its own,
so callers never need to recognise an SDK's exceptions; the HTTP layer answers all of them with
a 503 and Retry-After, so the sender delivers again (and the redelivery is deduplicated)."""

from __future__ import annotations


class Unavailable(Exception):
    code = "unavailable"
    advice = "a service we depend on is unavailable; deliver again later"


class RequestRefused(Exception):
    """A dependency refused a request as malformed (DynamoDB's ValidationException): the same request
    can never succeed, so it is not retried and never a 503. What a client's input caused is its 400."""

    code = "bad_request"


class StorageUnavailable(Unavailable):
    """DynamoDB refused or did not answer (throttling, an outage, a network error)."""

    code = "storage_unavailable"
    advice = "storage is unavailable; deliver again later"


class SecretsUnavailable(StorageUnavailable):
    """SSM Parameter Store could not be read; a parameter that does not exist is not this."""


class RulesUnavailable(Unavailable):
    """The scoring rules in force cannot be read (SCORING_RULES names a missing or invalid file):
    nothing can be scored until they are fixed, so every data route answers 503 and the senders
    deliver again later. `make run` and `make package` refuse such a file before it gets here."""

    code = "rules_invalid"
    advice = "the scoring rules file is invalid (see /health); deliver again later"


class Contended(Unavailable):
    """A lead kept changing under concurrent deliveries until we gave up for now: what this delivery
    stored stays stored (the lead marked for a rescore), and its redelivery rescores it."""

    code = "busy"
    advice = "this lead is changing too fast right now; deliver again shortly"


class QueueUnavailable(Unavailable):
    code = "queue_unavailable"
    advice = "the task queue is unavailable; try again later"


class CrmUnavailable(Unavailable):
    """The CRM did not answer usefully; the caller should let the sender retry later."""

    code = "crm_unavailable"
    advice = "the CRM did not answer; deliver again later"


class QuotaExhausted(CrmUnavailable):
    """The CRM's daily API quota is spent (HubSpot's DAILY policy, Salesforce's
    REQUEST_LIMIT_EXCEEDED): stop, keep the cursor, and go on after `retry_after` seconds."""

    code = "crm_quota_exhausted"
    advice = "the CRM's daily API limit is spent; continue after it resets"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
