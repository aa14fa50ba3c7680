"""The composition root: which adapter fills which port, decided once per container from the
settings. The entry points (HTTP, SQS, schedule), the CLI, `make run` and the tests all get
their use cases from a `Container`; tests build one with their own parts:

    container = Container(settings, storage=InMemoryStorage())

Every part is built on first use, so a Lambda imports only what its trigger touches: the
write-back consumer never loads the webhook parsers, and the API never loads a CRM writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.crm.base import CrmWriter
    from chalicelib.crm.notify import Notifier
    from chalicelib.crm_import import CrmImport
    from chalicelib.domain.rules import Rules
    from chalicelib.publishing import ChangePublisher
    from chalicelib.queue import WritebackQueue
    from chalicelib.rescoring import Rescorer
    from chalicelib.salesforce_session import SalesforceSession
    from chalicelib.scheduled_job import ScheduledJob
    from chalicelib.service import LeadService, ProfileDirectory
    from chalicelib.sources.record_pages import RecordReader
    from chalicelib.storage.port import LeadStorage
    from chalicelib.writeback import WritebackService

PARTS = ("storage", "queue", "rules", "directories", "writers", "notifier", "backoff")


class Container:
    def __init__(self, settings: Settings | None = None, **parts: Any) -> None:
        """`settings` default to the environment's, read on first use. `parts` replace what would
        be built from them: storage, queue, rules (a callable returning Rules), directories,
        writers, notifier, backoff."""
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise TypeError(f"unknown container parts: {sorted(unknown)}")
        # cached_property reads the instance dict first: a given part is simply already built.
        if settings is not None:
            self.__dict__["settings"] = settings
        self.__dict__.update(parts)

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_env()

    # ---------------------------------------------------------------------------------- adapters
    @cached_property
    def storage(self) -> LeadStorage:
        from chalicelib.storage.dynamodb import DynamoStorage

        return DynamoStorage(self.settings.table_name)

    @cached_property
    def queue(self) -> WritebackQueue:
        from chalicelib.queue import WritebackQueue

        return WritebackQueue(self.settings.writeback_queue, self.settings.writeback_dlq)

    @cached_property
    def rules(self) -> Callable[[], Rules]:
        from chalicelib.rules import rules_loader

        return rules_loader(self.settings.scoring_rules or None)

    @cached_property
    def directories(self) -> Mapping[str, ProfileDirectory]:
        """Record readers by kind, for the CRMs with API access: HubSpot contacts, Salesforce
        campaign members (whose campaign's Type an outbound message cannot carry)."""
        rules = self.rules
        found: dict[str, ProfileDirectory] = {}
        if self.settings.secret("hubspot_access_token"):
            from chalicelib.http_client import JsonClient
            from chalicelib.sources.hubspot_contacts import HubSpotContacts

            client = JsonClient(self.settings.hubspot_api_base, self._hubspot_token, crm="hubspot")
            email_events = self.settings.hubspot_email_events
            found["hubspot"] = HubSpotContacts(client, lambda: rules().crm_activity.for_hubspot(email_events))
        session = self.salesforce_session
        if session is not None:
            from chalicelib.sources.salesforce import MEMBER_DIRECTORY
            from chalicelib.sources.salesforce_members import SalesforceCampaignMembers

            found[MEMBER_DIRECTORY] = SalesforceCampaignMembers(session, lambda: rules().crm_activity)
        return found

    @cached_property
    def record_readers(self) -> dict[str, RecordReader]:
        """The CRMs whose records can be imported and reconciled: those with API access."""
        from chalicelib.sources.crm_calls import CrmCalls, RateLimit, hubspot_quota, salesforce_quota

        settings = self.settings
        readers: dict[str, RecordReader] = {}
        mapping = self.rules().crm_activity
        if settings.secret("hubspot_access_token"):
            from chalicelib.http_client import JsonClient
            from chalicelib.sources.hubspot_import import HubSpotContactReader

            client = JsonClient(settings.hubspot_api_base, self._hubspot_token, read_timeout=20.0, crm="hubspot")
            limit = RateLimit(settings.hubspot_requests_per_10s, 10.0)
            calls = CrmCalls(client, limit, hubspot_quota, "HubSpot")
            readers["hubspot"] = HubSpotContactReader(calls, mapping.for_hubspot(settings.hubspot_email_events))
            if settings.hubspot_email_events:
                from chalicelib.sources.hubspot_email_events import HubSpotEmailEvents

                readers["hubspot_email"] = HubSpotEmailEvents(calls)
        session = self.salesforce_session
        if session is not None:
            from chalicelib.sources.salesforce_import import SalesforceRecordReader

            calls = CrmCalls(session, RateLimit(25, 1.0), salesforce_quota, "Salesforce")
            readers["salesforce"] = SalesforceRecordReader(calls, mapping)
        return readers

    @cached_property
    def _hubspot_token(self) -> Callable[[], str]:
        """Read on every call, so a rotated HUBSPOT_ACCESS_TOKEN is used within the secrets' max age."""
        return self.settings.secret_source("hubspot_access_token")

    @cached_property
    def salesforce_session(self) -> SalesforceSession | None:
        settings = self.settings
        sf_token, sf_secret = settings.secret("salesforce_access_token"), settings.secret("salesforce_client_secret")
        if not settings.salesforce_instance_url or not (sf_token or (settings.salesforce_client_id and sf_secret)):
            return None
        from chalicelib.salesforce_session import SalesforceAuth, SalesforceSession

        auth = SalesforceAuth(
            settings.salesforce_instance_url,
            settings.secret_source("salesforce_access_token"),
            settings.salesforce_client_id,
            settings.secret_source("salesforce_client_secret"),
        )
        return SalesforceSession(auth)

    @cached_property
    def crm_import(self) -> CrmImport:
        from chalicelib.crm_import import CrmImport

        service = self.lead_service
        return CrmImport(self.storage, service.ingest, service.would_score)

    @cached_property
    def writers(self) -> list[CrmWriter]:
        settings = self.settings
        writers: list[CrmWriter] = []
        if settings.secret("hubspot_access_token"):
            from chalicelib.crm.hubspot import HubSpotWriter
            from chalicelib.http_client import JsonClient

            client = JsonClient(settings.hubspot_api_base, self._hubspot_token, read_timeout=10.0, crm="hubspot")
            writers.append(
                HubSpotWriter(client, settings.hubspot_property_prefix, reasons=settings.hubspot_write_reasons)
            )
        session = self.salesforce_session
        if session is not None:
            from chalicelib.crm.salesforce import SalesforceWriter

            fields = {
                "score": settings.salesforce_score_field,
                "tier": settings.salesforce_tier_field,
                "grade": settings.salesforce_grade_field,
                "reasons": settings.salesforce_reasons_field,
                "likelihood": settings.salesforce_likelihood_field,
            }
            writers.append(SalesforceWriter(session, fields))
        if not writers:
            from chalicelib.crm.dry_run import DryRunWriter

            writers.append(DryRunWriter())
        return writers

    @cached_property
    def notifier(self) -> Notifier | None:
        url = self.settings.secret("notify_url")
        if not url:
            return None
        from chalicelib.crm.notify import Notifier

        return Notifier(url)

    @cached_property
    def backoff(self) -> Callable[[int], None]:
        from chalicelib.rescoring import jittered_backoff

        return jittered_backoff

    # --------------------------------------------------------------------------------- use cases
    @cached_property
    def rescorer(self) -> Rescorer:
        from chalicelib.rescoring import Rescorer

        return Rescorer(self.storage, self.rules, self.backoff)

    @cached_property
    def publisher(self) -> ChangePublisher:
        from chalicelib.publishing import ChangePublisher

        return ChangePublisher(self.queue, self.rules)

    @cached_property
    def lead_service(self) -> LeadService:
        from chalicelib.service import LeadService

        return LeadService(
            self.storage,
            self.rules,
            directories=self.directories,
            backoff=self.backoff,
            publisher=self.publisher,
            rescorer=self.rescorer,
        )

    @cached_property
    def writeback_service(self) -> WritebackService:
        from chalicelib.writeback import WritebackService

        # The enricher builds the lead service (and loads the rules engine) only when a profile read
        # arrives: a consumer that only writes scores back never imports it.
        return WritebackService(
            self.storage,
            self.queue,
            self.writers,
            self.notifier,
            enricher=lambda directory, ids, now: self.lead_service.enrich(directory, ids, now),
        )

    @cached_property
    def scheduled_job(self) -> ScheduledJob:
        from chalicelib.scheduled_job import ScheduledJob

        grace = timedelta(seconds=self.settings.sync_grace_seconds)
        return ScheduledJob(self.storage, self.rules, self.rescorer, self.publisher, sync_grace=grace)


_current: Container | None = None


def container() -> Container:
    """The container of this process (a Lambda container, `make run`, the CLI), built from the
    environment on first use."""
    global _current
    if _current is None:
        _current = Container()
    return _current


def install(replacement: Container | None) -> Container | None:
    """Make `replacement` the process's container (None: build a new one from the environment on
    next use); returns it. Tests install one with their own parts."""
    global _current
    _current = replacement
    return replacement
