"""`crm setup hubspot|salesforce [--dry-run]`: HubSpot's score properties (idempotent) and webhook
subscriptions; Salesforce's custom fields. `--dry-run` lists what it would create and needs no
token; the webhook URL printed is absolute (`--target-url`, `PUBLIC_BASE_URL`, the stage's API or
the running `make run`)."""

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
    setup.add_argument("crm", choices=["hubspot", "salesforce"])
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
    return salesforce_setup(args) if args.crm == "salesforce" else hubspot_setup(args)


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


def webhook_url(args: argparse.Namespace, public_base_url: str) -> str:
    """Where HubSpot should send: PUBLIC_BASE_URL, else the stage's API (its stack output), else the
    running `make run`; said plainly when none is known."""
    if public_base_url:
        return public_base_url.rstrip("/") + "/webhooks/hubspot"
    if args.stage:
        from chalicelib.cli.target import stack_output

        found = stack_output(args.stage, "HubSpotWebhookUrl")
        if found:
            return found
    if args.local:
        from chalicelib.cli.target import running_local_state

        return str(running_local_state()["url"]) + "/webhooks/hubspot"
    return "https://<your API>/webhooks/hubspot (pass --target-url, or set PUBLIC_BASE_URL)"
