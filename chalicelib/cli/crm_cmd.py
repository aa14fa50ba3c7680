"""`crm setup hubspot`: create the property group and the score properties (idempotent)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    crm = commands.add_parser("crm", help="CRM housekeeping")
    actions = crm.add_subparsers(dest="crm_action", required=True)
    setup = actions.add_parser("setup", help="create the properties leadscore writes")
    setup.add_argument("crm", choices=["hubspot"])
    setup.set_defaults(handler=setup_command)


def setup_command(args: argparse.Namespace) -> int:
    from chalicelib.bootstrap import container
    from chalicelib.crm.hubspot import setup_properties
    from chalicelib.http_client import CrmUnavailable, JsonClient

    settings = (args.parts or container()).settings
    token = settings.secret("hubspot_access_token")
    if not token:
        print("set HUBSPOT_ACCESS_TOKEN (a private app token with crm.schemas.contacts.write)", file=sys.stderr)
        return 2
    try:
        for line in setup_properties(JsonClient(settings.hubspot_api_base, token), settings.hubspot_property_prefix):
            print(line)
    except CrmUnavailable as exc:
        print(f"HubSpot refused: {exc}", file=sys.stderr)
        return 1
    return 0
