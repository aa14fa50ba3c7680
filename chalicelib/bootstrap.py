"""The composition root: which adapter fills which port, decided once per container from the
settings. The entry points (HTTP, SQS, schedule), the CLI, `make run` and the tests all get
their use cases from a `Container`; tests build one with their own parts:

    container = Container(settings, storage=InMemoryStorage())

Every part is built on first use, so a Lambda imports only what its trigger touches: the
task consumer never loads the webhook parsers, and the API never loads a CRM writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.crm.hubspot.contacts import HubSpotContacts
    from chalicelib.crm.pacing import CrmCalls
    from chalicelib.crm.ports import CrmWriter, ProfileDirectory, RecordReader
    from chalicelib.crm.salesforce.session import SalesforceSession
    from chalicelib.domain.rules import Rules
    from chalicelib.service_layer.account_rollups import AccountRollUps
    from chalicelib.service_layer.account_views import AccountViews
    from chalicelib.service_layer.crm_import import CrmImport
    from chalicelib.service_layer.enrichment import Enrichment
    from chalicelib.service_layer.ingest import Ingestion
    from chalicelib.service_layer.lead_views import LeadViews
    from chalicelib.service_layer.notifications import AlertSettings, AlertTransport, Notifications
    from chalicelib.service_layer.owners import OwnerDirectory
    from chalicelib.service_layer.publishing import ChangePublisher
    from chalicelib.service_layer.recycling import Recycling
    from chalicelib.service_layer.reports import Reports
    from chalicelib.service_layer.rescoring import Rescorer
    from chalicelib.service_layer.rules_releases import RulesReleases
    from chalicelib.service_layer.tasks import TaskHandler
    from chalicelib.service_layer.upkeep import Upkeep
    from chalicelib.storage.ports import Storage
    from chalicelib.task_queue import SqsTaskQueue

PARTS = ("storage", "queue", "rules", "directories", "writers", "alert_transport", "backoff")


class Container:
    def __init__(self, settings: Settings | None = None, **parts: Any) -> None:
        """`settings` default to the environment's, read on first use. `parts` replace what would
        be built from them: storage, queue, rules (a callable returning Rules), directories,
        writers, alert_transport, backoff."""
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
    def storage(self) -> Storage:
        from chalicelib.storage.dynamodb import DynamoStorage

        return DynamoStorage(self.settings.table_name)

    @cached_property
    def queue(self) -> SqsTaskQueue:
        from chalicelib.task_queue import SqsTaskQueue

        return SqsTaskQueue(self.settings.task_queue, self.settings.task_dlq)

    @cached_property
    def rules(self) -> Callable[[], Rules]:
        """The active rules version of the stack (rules/active.py), else the bundled file."""
        from chalicelib.rules import rules_loader
        from chalicelib.rules.active import ActiveRules

        settings = self.settings
        bundled = rules_loader(settings.scoring_rules or None)
        return ActiveRules(lambda: self.storage.rules_versions, bundled, settings.rules_recheck_seconds)

    @property
    def shadow_rules(self) -> Callable[[], Rules | None]:
        """The shadow version beside the active one (none when the rules were given as a plain callable)."""
        shadow: Callable[[], Rules | None] | None = getattr(self.rules, "shadow", None)
        return shadow or (lambda: None)

    @cached_property
    def releases(self) -> RulesReleases:
        from chalicelib.service_layer.rules_releases import RulesReleases, bundled_text

        return RulesReleases(self.storage.rules_versions, lambda: bundled_text(self.settings.scoring_rules))

    @cached_property
    def directories(self) -> Mapping[str, ProfileDirectory]:
        """Record readers by identity kind, for the CRMs with API access: HubSpot contacts,
        Salesforce campaign members (whose campaign's Type an outbound message cannot carry)."""
        found: dict[str, ProfileDirectory] = {}
        if self.hubspot_contacts is not None:
            found["hubspot"] = self.hubspot_contacts
        if self._salesforce_calls is not None:
            from chalicelib.crm.salesforce.campaign_members import SalesforceCampaignMembers
            from chalicelib.service_layer.commands import MEMBER_DIRECTORY

            rules = self.rules
            found[MEMBER_DIRECTORY] = SalesforceCampaignMembers(self._salesforce_calls, lambda: rules().crm_activity)
        return found

    @cached_property
    def record_readers(self) -> dict[str, RecordReader]:
        """The CRMs whose records can be imported and reconciled: those with API access."""
        readers: dict[str, RecordReader] = {}
        contacts = self.hubspot_contacts
        if contacts is not None:
            readers["hubspot"] = contacts
            if self.settings.hubspot_email_events:
                from chalicelib.crm.hubspot.email_events import HubSpotEmailEvents

                readers["hubspot_email"] = HubSpotEmailEvents(contacts.calls)
        if self._salesforce_calls is not None:
            from chalicelib.crm.salesforce.records import SalesforceRecordReader

            rules = self.rules
            readers["salesforce"] = SalesforceRecordReader(self._salesforce_calls, lambda: rules().crm_activity)
        if self.settings.secret("pipedrive_api_token"):
            from chalicelib.crm.pipedrive.persons import PipedrivePersons

            readers["pipedrive"] = PipedrivePersons(self.pipedrive_calls())
        return readers

    def pipedrive_calls(self, read_timeout: float = 20.0) -> CrmCalls:
        from chalicelib.crm.pipedrive.writer import pipedrive_calls

        return pipedrive_calls(self.settings, read_timeout)

    @cached_property
    def owner_directories(self) -> list[OwnerDirectory]:
        """Each CRM with API access lists its owners (for the leads' owner names)."""
        found: list[OwnerDirectory] = []
        if self.hubspot_contacts is not None:
            from chalicelib.crm.hubspot.owners import HubSpotOwners

            found.append(HubSpotOwners(self.hubspot_contacts.calls))
        if self._salesforce_calls is not None:
            from chalicelib.crm.salesforce.owners import SalesforceOwners

            found.append(SalesforceOwners(self._salesforce_calls))
        return found

    @cached_property
    def hubspot_contacts(self) -> HubSpotContacts | None:
        """The one HubSpot contacts reader (enrichment, import, reconciliation) on one paced client."""
        settings = self.settings
        if not settings.secret("hubspot_access_token"):
            return None
        from chalicelib.crm.http_client import JsonClient
        from chalicelib.crm.hubspot.contacts import HubSpotContacts
        from chalicelib.crm.pacing import CrmCalls, RateLimit, hubspot_quota

        client = JsonClient(settings.hubspot_api_base, self._hubspot_token, read_timeout=20.0, crm="hubspot")
        limit = RateLimit(settings.hubspot_requests_per_10s // settings.crm_callers or 1, 10.0)
        calls = CrmCalls(client, limit, hubspot_quota, "HubSpot")
        rules, email_events = self.rules, settings.hubspot_email_events
        return HubSpotContacts(calls, lambda: rules().crm_activity.for_hubspot(email_events))

    @cached_property
    def _salesforce_calls(self) -> CrmCalls | None:
        """Paced calls on the org's session, shared by the record reader and the member directory."""
        session = self.salesforce_session
        if session is None:
            return None
        from chalicelib.crm.pacing import CrmCalls, RateLimit, salesforce_quota

        share = self.settings.crm_callers  # Salesforce's concurrent-request limit, 25, shared by the callers
        return CrmCalls(session, RateLimit(25 // share or 1, 1.0), salesforce_quota, "Salesforce")

    @cached_property
    def _hubspot_token(self) -> Callable[[], str]:
        """Read on every call, so a rotated HUBSPOT_ACCESS_TOKEN is used within the secrets' max age."""
        return self.settings.secret_source("hubspot_access_token")

    @property
    def _salesforce_configured(self) -> bool:
        settings = self.settings
        sf_token, sf_secret = settings.secret("salesforce_access_token"), settings.secret("salesforce_client_secret")
        return bool(settings.salesforce_instance_url and (sf_token or (settings.salesforce_client_id and sf_secret)))

    @cached_property
    def salesforce_session(self) -> SalesforceSession | None:
        if not self._salesforce_configured:
            return None
        settings = self.settings
        from chalicelib.crm.salesforce.session import SalesforceAuth, SalesforceSession

        auth = SalesforceAuth(
            settings.salesforce_instance_url,
            settings.secret_source("salesforce_access_token"),
            settings.salesforce_client_id,
            settings.secret_source("salesforce_client_secret"),
        )
        return SalesforceSession(auth)

    @cached_property
    def writers(self) -> list[CrmWriter]:
        settings = self.settings
        writers: list[CrmWriter] = []
        if settings.secret("hubspot_access_token"):
            from chalicelib.crm.http_client import JsonClient
            from chalicelib.crm.hubspot.writer import HubSpotWriter

            client = JsonClient(settings.hubspot_api_base, self._hubspot_token, read_timeout=10.0, crm="hubspot")
            writers.append(
                HubSpotWriter(client, settings.hubspot_property_prefix, reasons=settings.hubspot_write_reasons)
            )
        session = self.salesforce_session
        if session is not None:
            from chalicelib.crm.salesforce.writer import SalesforceWriter

            fields = {
                "score": settings.salesforce_score_field,
                "tier": settings.salesforce_tier_field,
                "grade": settings.salesforce_grade_field,
                "reasons": settings.salesforce_reasons_field,
                "likelihood": settings.salesforce_likelihood_field,
            }
            writers.append(SalesforceWriter(session, fields))
        if settings.secret("pipedrive_api_token"):
            from chalicelib.crm.pipedrive.writer import PipedriveWriter

            writers.append(PipedriveWriter(self.pipedrive_calls(read_timeout=10.0)))
        if not writers:
            from chalicelib.crm.dry_run import DryRunWriter

            writers.append(DryRunWriter())
        return writers

    @cached_property
    def alert_transport(self) -> AlertTransport:
        from chalicelib.alerts.sender import AlertSender

        return AlertSender(self.settings.notify_format)

    @cached_property
    def alert_settings(self) -> AlertSettings:
        """Read when the first alert is handled: the routes are a secret (webhook URLs are)."""
        from datetime import timedelta

        from chalicelib.service_layer.notifications import AlertSettings, parse_routes

        settings = self.settings
        return AlertSettings(
            default_url=settings.secret("notify_url"),
            routes=parse_routes(settings.secret("notify_routes")),
            quiet=timedelta(hours=settings.notify_min_interval_hours),
            on_leave=settings.notify_on_leave,
            digest=settings.notify_digest,
            console_base=settings.public_base_url,
        )

    @cached_property
    def backoff(self) -> Callable[[int], None]:
        from chalicelib.service_layer.rescoring import jittered_backoff

        return jittered_backoff

    # --------------------------------------------------------------------------------- use cases
    @cached_property
    def readable_kinds(self) -> frozenset[str]:
        """The identity kinds whose records can be read from their CRM, decided from the settings
        alone: the API knows what to queue for reading without loading a CRM client."""
        if "directories" in self.__dict__:
            return frozenset(self.directories)
        kinds = set()
        if self.settings.secret("hubspot_access_token"):
            kinds.add("hubspot")
        if self._salesforce_configured:
            from chalicelib.service_layer.commands import MEMBER_DIRECTORY

            kinds.add(MEMBER_DIRECTORY)
        return frozenset(kinds)

    @cached_property
    def rescorer(self) -> Rescorer:
        from chalicelib.service_layer.rescoring import Rescorer

        return Rescorer(self.storage, self.rules, self.backoff, self.shadow_rules)

    @cached_property
    def publisher(self) -> ChangePublisher:
        from chalicelib.service_layer.publishing import ChangePublisher

        return ChangePublisher(self.queue, self.rules)

    @cached_property
    def ingestion(self) -> Ingestion:
        from chalicelib.service_layer.ingest import Ingestion

        return Ingestion(
            self.storage,
            self.rules,
            readable=self.readable_kinds,
            backoff=self.backoff,
            publisher=self.publisher,
            rescorer=self.rescorer,
        )

    @cached_property
    def account_views(self) -> AccountViews:
        from chalicelib.service_layer.account_views import AccountViews

        return AccountViews(self.storage, self.rules)

    @cached_property
    def lead_views(self) -> LeadViews:
        from chalicelib.service_layer.lead_views import LeadViews
        from chalicelib.service_layer.rescoring import survivor

        storage = self.storage
        from chalicelib.domain.crm_context import CrmPlaces

        settings = self.settings
        places = CrmPlaces(settings.hubspot_app_url, settings.hubspot_portal_id, settings.salesforce_instance_url,
                           settings.pipedrive_company_domain)  # fmt: skip
        from chalicelib.accounts.public_suffix import registrable_domain

        survivor_of = lambda lead_id: survivor(storage, lead_id)  # noqa: E731
        return LeadViews(storage, self.rules, survivor_of, places, self.shadow_rules, registrable_domain)

    @cached_property
    def recycling(self) -> Recycling:
        from chalicelib.service_layer.recycling import Recycling
        from chalicelib.service_layer.rescoring import survivor

        storage, views = self.storage, self.lead_views

        def find_lead(key: str) -> str | None:
            lead_id = views.find_lead_id(key)
            return survivor(storage, lead_id) if lead_id else None

        return Recycling(storage, self.rescorer, self.publisher, find_lead)

    @cached_property
    def reports(self) -> Reports:
        from chalicelib.service_layer.reports import Reports

        rules = self.rules

        def shadow_since() -> datetime | None:
            return getattr(getattr(rules, "pointer", None), "shadow_since", None)

        return Reports(self.storage, rules, self.shadow_rules, shadow_since)

    @cached_property
    def enrichment(self) -> Enrichment:
        from chalicelib.service_layer.enrichment import Enrichment

        # The ingestion (and the rules engine) is built only when a record read arrives: a
        # consumer that only writes scores back never imports it.
        companies = {}
        contacts = self.hubspot_contacts
        if contacts is not None:  # HubSpot companies, on the contacts reader's paced client
            from chalicelib.crm.hubspot.companies import HubSpotCompanies
            from chalicelib.service_layer.account_records import COMPANY_DIRECTORY

            companies[COMPANY_DIRECTORY] = HubSpotCompanies(contacts.calls)
        return Enrichment(self.directories, lambda: self.ingestion, self.queue, companies=companies)

    @cached_property
    def notifications(self) -> Notifications:
        from chalicelib.service_layer.notifications import Notifications

        # The lead views (and what they import) are built when an alert is first handled.
        return Notifications(
            self.queue,
            self.alert_transport,
            lambda: self.alert_settings,
            lambda key, now: self.lead_views.lead(key, now),
            self.storage,
        )

    @cached_property
    def task_handler(self) -> TaskHandler:
        from chalicelib.service_layer.tasks import TaskHandler
        from chalicelib.service_layer.write_back import WriteBacks

        return TaskHandler(
            self.queue,
            WriteBacks(self.storage, self.queue, self.writers),
            self.notifications,
            lambda: self.enrichment,
            lambda: self.account_rollups,
            lambda: self.ingestion.account_records,
        )

    @cached_property
    def account_rollups(self) -> AccountRollUps:
        from chalicelib.crm.ports import AccountWriter
        from chalicelib.service_layer.account_rollups import AccountRollUps

        account_writers = [writer for writer in self.writers if isinstance(writer, AccountWriter)]
        return AccountRollUps(self.storage, self.queue, self.rules, account_writers)

    @cached_property
    def crm_import(self) -> CrmImport:
        from chalicelib.service_layer.crm_import import CrmImport

        ingestion = self.ingestion
        return CrmImport(self.storage, ingestion.ingest, ingestion.would_score)

    @cached_property
    def upkeep(self) -> Upkeep:
        from chalicelib.service_layer.upkeep import Upkeep

        grace = timedelta(seconds=self.settings.sync_grace_seconds)
        settled = getattr(self.rules, "settled", None) or (lambda now: True)
        reports = self.reports
        return Upkeep(
            self.storage, self.rules, self.rescorer, self.publisher, grace, self.shadow_rules, settled,
            health=reports.health_report,
        )  # fmt: skip


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
