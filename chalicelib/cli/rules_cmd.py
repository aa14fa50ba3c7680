"""`rules validate FILE`: check a rules file before deploying it. The rules versions of a stack
(`--stage NAME` or `--local`): `rules deploy FILE [--shadow] [-m MESSAGE]`, `rules list`,
`rules show VERSION`, `rules diff A B`, `rules activate VERSION`, `rules rollback`, `rules promote`,
`rules shadow --stop`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container
from chalicelib.domain import RulesError
from chalicelib.rules import load_rules_file

if TYPE_CHECKING:
    from chalicelib.service_layer.rules_releases import RulesReleases


def register(commands: Any) -> None:
    rules = commands.add_parser("rules", help="check rules files; deploy, compare and roll back rules versions")
    actions = rules.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="check a rules file; exit 0 when valid")
    validate.add_argument("file")
    validate.set_defaults(handler=validate_command)

    deploy = actions.add_parser("deploy", help="store a rules file as a new version and make it active (or --shadow)")
    deploy.add_argument("file")
    deploy.add_argument("--shadow", action="store_true", help="score it beside the active version, never in the CRM")
    deploy.add_argument("--store-only", action="store_true", help="store the version without activating it")
    deploy.add_argument("-m", "--message", default="", help="why: shown by `rules list`")
    deploy.add_argument("--by", default="", help="who deploys it (default: LEADSCORE_USER, else your login)")
    _targeted(deploy, deploy_command)

    listed = actions.add_parser("list", help="the versions, which is active and which the shadow, and the log")
    _targeted(listed, list_command)
    show = actions.add_parser("show", help="one version's rules file as deployed")
    show.add_argument("version", type=int)
    _targeted(show, show_command)
    diff = actions.add_parser("diff", help="what changed from version A to version B, section by section")
    diff.add_argument("a", type=int)
    diff.add_argument("b", type=int)
    _targeted(diff, diff_command)
    activate = actions.add_parser("activate", help="make a stored version the active one (every lead is rescored)")
    activate.add_argument("version", type=int)
    _targeted(activate, lambda args: _move(args, lambda r, by, now: r.activate(args.version, by, now)))
    rollback = actions.add_parser("rollback", help="make the previously active version active again")
    _targeted(rollback, lambda args: _move(args, lambda r, by, now: r.rollback(by, now)))
    promote = actions.add_parser("promote", help="make the shadow the active version")
    _targeted(promote, lambda args: _move(args, lambda r, by, now: r.promote(by, now)))
    shadow = actions.add_parser("shadow", help="the shadow version: --stop ends it")
    shadow.add_argument("--stop", action="store_true", required=True)
    _targeted(shadow, lambda args: _move(args, lambda r, by, now: r.stop_shadow(by, now)))


def _targeted(parser: argparse.ArgumentParser, handler: Any) -> None:
    add_target_arguments(parser)
    add_json_argument(parser)
    parser.set_defaults(handler=handler)


def validate_command(args: argparse.Namespace) -> int:
    try:
        rules = load_rules_file(args.file)
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except RulesError as exc:
        print(f"{args.file}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    from chalicelib.domain.rules_warnings import rules_warnings
    from chalicelib.rules.vocabulary import EMITTED_TYPES

    warnings = rules_warnings(rules, EMITTED_TYPES)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"ok {args.file}: {rules.summary()}" + (f" ({len(warnings)} warnings)" if warnings else ""))
    return 0


def deploy_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.errors import ClientError

    try:
        with open(args.file, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    releases = target_container(args).releases
    try:
        done = releases.deploy(text, _who(args), args.message, datetime.now(UTC), args.shadow, not args.store_only)
    except ClientError as exc:
        return _refused(exc)
    for warning in done["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(done, indent=2))
    else:
        what = {"shadow": "is the shadow", "active": "is active", "stored": "is stored (not active)"}[done["role"]]
        print(f"version {done['version']} ({done['name']}, fingerprint {done['fingerprint']}) {what}")
        if done["role"] == "active":
            print("every lead is rescored with it within a few minutes (the next upkeep run)")
        elif done["role"] == "shadow":
            print("compare it with GET /reports/shadow or the console's rules page; `rules promote` makes it active")
    return 0


def list_command(args: argparse.Namespace) -> int:
    listed = target_container(args).releases.listed(datetime.now(UTC))
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    for version in listed["versions"]:
        role = f"  [{version['role']}]" if version["role"] else ""
        print(f"{version['version']:>4}  {version['deployed_at'][:19]}  {version['fingerprint']}  "
              f"{version['name']}  by {version['deployed_by']}{role}"
              + (f"\n      {version['message']}" if version["message"] else ""))  # fmt: skip
    if listed["shadow"] is not None:
        print(f"shadow: version {listed['shadow']} since {listed['shadow_since']}")
    return 0


def show_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.errors import ClientError

    try:
        version = target_container(args).releases.show(args.version)
    except ClientError as exc:
        return _refused(exc)
    if args.json:
        print(json.dumps({"version": version.number, "fingerprint": version.fingerprint, "name": version.name,
                          "deployed_by": version.deployed_by, "deployed_at": version.deployed_at.isoformat(),
                          "message": version.message, "text": version.text}, indent=2))  # fmt: skip
    else:
        sys.stdout.write(version.text)
    return 0


def diff_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.errors import ClientError

    try:
        sections = target_container(args).releases.diff(args.a, args.b)
    except ClientError as exc:
        return _refused(exc)
    if args.json:
        print(json.dumps(sections, indent=2))
        return 0
    print(f"version {args.a} -> version {args.b}")
    for section in sections:
        print(f"{section['section']}:")
        for change in section["changes"]:
            print(f"  {change}")
    if not sections:
        print("no difference in meaning")
    return 0


def _move(args: argparse.Namespace, move: Any) -> int:
    from chalicelib.service_layer.errors import ClientError

    releases: RulesReleases = target_container(args).releases
    try:
        pointer = move(releases, _who(args), datetime.now(UTC))
    except ClientError as exc:
        return _refused(exc)
    answer = {"active": pointer.active, "shadow": pointer.shadow}
    if args.json:
        print(json.dumps(answer))
    else:
        shadow = f", shadow: version {pointer.shadow}" if pointer.shadow is not None else ", no shadow"
        print(f"active: version {pointer.active}{shadow}")
    return 0


def _who(args: argparse.Namespace) -> str:
    given = getattr(args, "by", "") or os.environ.get("LEADSCORE_USER", "")
    if given:
        return str(given)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _refused(exc: Any) -> int:
    print(f"leadscore rules: {exc.message}", file=sys.stderr)
    for issue in exc.details.get("issues", []):
        print(f"  {issue['text']}", file=sys.stderr)
    return 1 if exc.status == 400 else 2
