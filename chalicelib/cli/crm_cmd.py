"""`crm setup hubspot|salesforce|pipedrive [--dry-run]`: HubSpot's score properties (idempotent)
and webhook subscriptions; Salesforce's custom fields; Pipedrive's person fields and webhooks.
`--dry-run` lists what it would create and needs no token; the webhook URL printed is absolute
(`--target-url`, `PUBLIC_BASE_URL`, the stage's API or the running `make run`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from chalicelib.cli.target import add_target_arguments, target_container


def register(commands: Any) -> None:
    crm = commands.add_parser("crm", help="CRM housekeeping")
    actions = crm.add_subparsers(dest="crm_action", required=True)
    setup = actions.add_parser("setup", help="create the properties leadscore writes; list the webhooks it needs")
    setup.add_argument("crm", choices=["hubspot", "salesforce", "pipedrive"])
    setup.add_argument("--dry-run", action="store_true", help="list what would be created; call no CRM")
    setup.add_argument("--app-id", default=os.environ.get("HUBSPOT_APP_ID", ""), help="a legacy public app's id")
    setup.add_argument(
        "--developer-api-key",
        default=os.environ.get("HUBSPOT_DEVELOPER_API_KEY", ""),
        help="with --app-id: create the missing webhook subscriptions",
    )
    setup.add_argument("--target-url", default="", help="the webhook URL, for the printed project configuration")
    add_target_arguments(setup)
    setup.set_defaults(handler=setup_command)


def setup_command(args: argparse.Namespace) -> int:
    setups = {"salesforce": salesforce_setup, "pipedrive": pipedrive_setup, "hubspot": hubspot_setup}
    return setups[args.crm](args)


PIPEDRIVE_WEBHOOKS = ("person", "organization", "activity", "deal", "lead")


def pipedrive_setup(args: argparse.Namespace) -> int:
    """The person fields (created through the API with PIPEDRIVE_API_TOKEN), then the webhooks to
    add, with the HTTP Basic credentials they must carry."""
    from chalicelib.crm.http_client import CrmUnavailable
    from chalicelib.crm.pipedrive.fields import FIELDS, create_fields

    parts = target_container(args)
    settings = parts.settings
    token = "" if args.dry_run else settings.secret("pipedrive_api_token")
    try:
        if token:
            for line in create_fields(parts.pipedrive_calls()):
                print(line)
        else:
            if not args.dry_run:
                print("PIPEDRIVE_API_TOKEN not set: the person fields are listed, not created", file=sys.stderr)
            print("person fields the write-back writes (Settings → Data fields → Person):")
            for field in FIELDS:
                print(f"  {field.name!r}  {field.field_type}")
    except CrmUnavailable as exc:
        print(f"Pipedrive refused: {exc}", file=sys.stderr)
        return 1
    target = args.target_url or webhook_url(args, settings.public_base_url, "pipedrive", "PipedriveWebhookUrl")
    user = settings.secret("pipedrive_webhook_user") if not args.dry_run else ""
    print("webhooks to add (Settings → Tools and apps → Webhooks → Create new webhook, version 2.0):")
    for entity in PIPEDRIVE_WEBHOOKS:
        print(f"  event action *  event object {entity:<12}  endpoint {target}")
    print(f"  HTTP Auth: username {user or '<PIPEDRIVE_WEBHOOK_USER>'}, password PIPEDRIVE_WEBHOOK_PASSWORD")
    print('  or by API: POST /v1/webhooks {subscription_url, event_action: "*", event_object, version: "2.0",')
    print("             http_auth_user, http_auth_password}")
    return 0 if token or args.dry_run else 2


def salesforce_setup(args: argparse.Namespace) -> int:
    from chalicelib.crm.http_client import CrmUnavailable
    from chalicelib.crm.salesforce.setup import create_fields, wanted_fields

    parts = target_container(args)
    settings = parts.settings
    wanted = wanted_fields({
        "score": settings.salesforce_score_field, "tier": settings.salesforce_tier_field,
        "grade": settings.salesforce_grade_field, "reasons": settings.salesforce_reasons_field,
        "likelihood": settings.salesforce_likelihood_field,
    }, named_properties(_rules_in_force(parts), "salesforce"))  # fmt: skip
    session = None if args.dry_run else parts.salesforce_session
    if session is None:
        if not args.dry_run:
            print("SALESFORCE_INSTANCE_URL and a token not set: the fields are listed, not created", file=sys.stderr)
        print(f"custom fields the write-back writes ({len(wanted)}; Setup → Object Manager → Fields & Relationships):")
        for field in wanted:
            print(f"  {field.describe()}")
        return 0 if args.dry_run else 2
    try:
        for line in create_fields(session, wanted):
            print(line)
    except CrmUnavailable as exc:
        print(f"Salesforce refused: {exc}", file=sys.stderr)
        return 1
    print("give the integration user's profile edit access to them (field-level security)")
    return 0


def named_properties(rules: Any, crm: str) -> dict[str, str]:
    """Each named score's property in `crm`: property -> the score's label."""
    return {spec.properties[crm]: spec.label for spec in rules.scores.values() if spec.properties.get(crm)}


def _rules_in_force(parts: Any) -> Any:
    """The target's active rules version; its bundled file when the stack cannot be read (a dry
    run on a machine with no AWS access), said on stderr."""
    from chalicelib.errors import Unavailable
    from chalicelib.rules import rules_loader

    try:
        return parts.rules()
    except Unavailable:
        print(
            "the stack's active rules could not be read: subscriptions follow the bundled rules file", file=sys.stderr
        )
        return rules_loader(parts.settings.scoring_rules or None)()


def hubspot_setup(args: argparse.Namespace) -> int:
    from chalicelib.crm.http_client import CrmUnavailable, JsonClient
    from chalicelib.crm.hubspot.setup import (
        describe,
        ensure_subscriptions,
        project_config,
        property_plan,
        setup_properties,
        wanted_subscriptions,
    )
    from chalicelib.crm.hubspot.writer import GROUP
    from chalicelib.sources.hubspot import COMPANY_PROPERTY_MAP, PROPERTY_MAP

    parts = target_container(args)
    settings = parts.settings
    rules = _rules_in_force(parts)
    mapping = rules.crm_activity.for_hubspot(settings.hubspot_email_events)
    named = named_properties(rules, "hubspot")
    wanted = wanted_subscriptions(mapping, sorted(PROPERTY_MAP), sorted(COMPANY_PROPERTY_MAP))
    token = "" if args.dry_run else settings.secret("hubspot_access_token")
    try:
        if args.dry_run:
            print(f"score properties (group {GROUP}):")
            for line in property_plan(settings.hubspot_property_prefix, named):
                print(f"  {line}")
        elif token:
            for line in setup_properties(
                JsonClient(settings.hubspot_api_base, token), settings.hubspot_property_prefix, named
            ):
                print(line)
        else:
            print("HUBSPOT_ACCESS_TOKEN not set: score properties not created", file=sys.stderr)
        if args.app_id and args.developer_api_key and not args.dry_run:
            client = JsonClient(settings.hubspot_api_base, "")
            for line in ensure_subscriptions(client, args.app_id, args.developer_api_key, wanted):
                print(line)
            return 0
    except CrmUnavailable as exc:
        print(f"HubSpot refused: {exc}", file=sys.stderr)
        return 1
    print(f"webhook subscriptions to add to the app ({len(wanted)}; a private app's are set in its settings):")
    for line in describe(wanted):
        print(f"  {line}")
    target = args.target_url or webhook_url(args, settings.public_base_url)
    print("for an app on HubSpot's developer platform, src/app/webhooks/webhooks-hsmeta.json:")
    print(project_config(wanted, target))
    return 0 if token or args.dry_run else 2


def webhook_url(
    args: argparse.Namespace, public_base_url: str, source: str = "hubspot", output: str = "HubSpotWebhookUrl"
) -> str:
    """Where the CRM should send: PUBLIC_BASE_URL, else the stage's API (its stack output), else the
    running `make run`; said plainly when none is known."""
    path = f"/webhooks/{source}"
    if public_base_url:
        return public_base_url.rstrip("/") + path
    if args.stage:
        from chalicelib.cli.target import stack_output

        found = stack_output(args.stage, output)
        if found:
            return found
    if args.local:
        from chalicelib.cli.target import running_local_state

        return str(running_local_state()["url"]) + path
    return f"https://<your API>{path} (pass --target-url, or set PUBLIC_BASE_URL)"
