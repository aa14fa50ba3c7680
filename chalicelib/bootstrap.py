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
    from chalicelib.domain.rules import Rules
    from chalicelib.publishing import ChangePublisher
    from chalicelib.queue import WritebackQueue
    from chalicelib.rescoring import Rescorer
    from chalicelib.scheduled_job import ScheduledJob
    from chalicelib.service import LeadService, ProfileDirectory
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
        """Profile directories by identity kind: HubSpot contacts, when a token is configured."""
        token = self.settings.secret("hubspot_access_token")
        if not token:
            return {}
        from chalicelib.http_client import JsonClient
        from chalicelib.sources.hubspot_contacts import HubSpotContacts

        rules = self.rules
        client = JsonClient(self.settings.hubspot_api_base, token)
        return {"hubspot": HubSpotContacts(client, lambda: rules().crm_activity)}

    @cached_property
    def writers(self) -> list[CrmWriter]:
        settings = self.settings
        writers: list[CrmWriter] = []
        token = settings.secret("hubspot_access_token")
        if token:
            from chalicelib.crm.hubspot import HubSpotWriter
            from chalicelib.http_client import JsonClient

            client = JsonClient(settings.hubspot_api_base, token, read_timeout=10.0)
            writers.append(HubSpotWriter(client, settings.hubspot_property_prefix))
        sf_token, sf_secret = settings.secret("salesforce_access_token"), settings.secret("salesforce_client_secret")
        if settings.salesforce_instance_url and (sf_token or (settings.salesforce_client_id and sf_secret)):
            from chalicelib.crm.salesforce import SalesforceAuth, SalesforceWriter

            auth = SalesforceAuth(settings.salesforce_instance_url, sf_token, settings.salesforce_client_id, sf_secret)
            fields = {
                "score": settings.salesforce_score_field,
                "tier": settings.salesforce_tier_field,
                "grade": settings.salesforce_grade_field,
            }
            writers.append(SalesforceWriter(auth, fields))
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
