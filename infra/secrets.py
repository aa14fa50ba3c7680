"""`make secrets STAGE=prod`: store the secrets set in your shell as SSM SecureString parameters.

Each deployed stage reads `ssm:/leadscore/<stage>/<NAME>` (see .chalice/config.json), so a
secret never appears in the template, the Lambda console or CloudFormation's history.

    HUBSPOT_CLIENT_SECRET=... HUBSPOT_ACCESS_TOKEN=... make secrets STAGE=prod

Only the names set (non-empty) are written; the others are left as they are. ADMIN_API_KEY,
VIEWER_API_KEY and EVENTS_WRITE_KEY are generated when neither your shell nor SSM has one yet.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from secrets import token_urlsafe  # the standard library's, not this module
from typing import Any

from infra.stages import deployed_stages, stage_environment

GENERATED = ("ADMIN_API_KEY", "VIEWER_API_KEY", "EVENTS_WRITE_KEY")


def secret_parameters(stage: str) -> dict[str, str]:
    """Environment variable -> SSM parameter name, as the stage's config declares them."""
    variables = stage_environment(stage)
    return {name: value.removeprefix("ssm:") for name, value in variables.items() if value.startswith("ssm:")}


def store(ssm: Any, stage: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Write the set secrets; returns what happened to each parameter (written / generated / unset)."""
    outcome: dict[str, str] = {}
    for name, parameter in secret_parameters(stage).items():
        value = environ.get(name, "")
        if value:
            outcome[name] = "written"
        elif name in GENERATED and not exists(ssm, parameter):
            value = token_urlsafe(32)
            outcome[name] = "generated"
        else:
            outcome[name] = "unchanged" if exists(ssm, parameter) else "not set"
            continue
        ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
    return outcome


def exists(ssm: Any, parameter: str) -> bool:
    try:
        ssm.get_parameter(Name=parameter)
    except ssm.exceptions.ParameterNotFound:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.secrets", description=__doc__)
    parser.add_argument("--stage", choices=deployed_stages(), required=True)
    args = parser.parse_args(argv)
    import boto3

    from chalicelib.cli.failures import missing_configuration, say_or_raise

    session = boto3.session.Session()
    try:
        missing = missing_configuration(session, region_how="give REGION=..., or ")
        if missing:
            print(f"make secrets: {missing}", file=sys.stderr)
            return 2
        outcome = store(session.client("ssm"), args.stage, os.environ)
    except Exception as exc:
        return say_or_raise(exc, f"stage {args.stage}", "make secrets")
    parameters = secret_parameters(args.stage)
    for name, what in outcome.items():
        print(f"{what:<10} {parameters[name]}")
    if "generated" in outcome.values():
        print(f"read a generated key with: aws ssm get-parameter --with-decryption --name /leadscore/{args.stage}/NAME")
    return 0


if __name__ == "__main__":
    sys.exit(main())
