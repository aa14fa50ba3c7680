"""`crm setup hubspot`: the score properties (idempotent) and the webhook subscriptions."""

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
    setup.add_argument("crm", choices=["hubspot"])
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
    from chalicelib.crm.http_client import CrmUnavailable, JsonClient
    from chalicelib.crm.hubspot.setup import (
        describe,
        ensure_subscriptions,
        project_config,
        setup_properties,
        wanted_subscriptions,
    )
    from chalicelib.sources.hubspot import PROPERTY_MAP

    parts = target_container(args)
    settings = parts.settings
    mapping = parts.rules().crm_activity.for_hubspot(settings.hubspot_email_events)
    wanted = wanted_subscriptions(mapping, sorted(PROPERTY_MAP))
    token = settings.secret("hubspot_access_token")
    try:
        if token:
            for line in setup_properties(
                JsonClient(settings.hubspot_api_base, token), settings.hubspot_property_prefix
            ):
                print(line)
        else:
            print("HUBSPOT_ACCESS_TOKEN not set: score properties not created", file=sys.stderr)
        if args.app_id and args.developer_api_key:
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
    target = args.target_url or (settings.public_base_url.rstrip("/") + "/webhooks/hubspot")
    print("for an app on HubSpot's developer platform, src/app/webhooks/webhooks-hsmeta.json:")
    print(project_config(wanted, target))
    return 0 if token else 2
