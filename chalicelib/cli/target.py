"""Which leadscore a command talks to: a deployed stage (`--stage NAME`, as .chalice/config.json
declares it, reached with your AWS credentials) or the running `make run` (`--local`, found from
the state file it writes). Either way the command gets a container built from that target's
settings; nothing has to be copied into the shell's environment.

The target's environment is applied to this process's (`os.environ`): the CLI is a process of its
own, and boto3 reads its endpoint and region from there, as a Lambda's does.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container

ROOT = Path(__file__).resolve().parents[2]
# Not secrets: where make run's AWS and app listen, and what its resources are called.
LOCAL_STATE = ROOT / "out" / "local" / "make-run.json"
LOCAL_RESOURCES = ("TABLE_NAME", "TASK_QUEUE", "TASK_DLQ")


class TargetError(Exception):
    """A target that cannot be reached, said in one line a person can act on."""


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stage", help="a deployed stage, by its name in .chalice/config.json (dev, prod ...)")
    where.add_argument("--local", action="store_true", help="the running `make run` on this machine")
    parser.add_argument("--region", help="the stage's AWS region (default: your AWS configuration's)")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def local_state_path() -> Path:
    return Path(os.environ.get("LEADSCORE_LOCAL_STATE") or LOCAL_STATE)


def write_local_state(state: dict[str, Any], path: Path | None = None) -> Path:
    """Called by `make run` once it is up."""
    path = path or local_state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))
    return path


def remove_local_state(pid: int, path: Path | None = None) -> None:
    """Called by `make run` as it stops: only its own file (another run may have started since)."""
    path = path or local_state_path()
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def running_local_state() -> dict[str, Any]:
    """What the `make run` running here wrote once it was up; TargetError when none runs."""
    path = local_state_path()
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        raise TargetError("no `make run` is running here (start it with `make run`)") from None
    if not _alive(int(state.get("pid", 0))):
        raise TargetError("the last `make run` has stopped (start it again with `make run`)")
    return state


def local_environment() -> dict[str, str]:
    state = running_local_state()
    return {
        "AWS_ENDPOINT_URL": state["aws_endpoint"],
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": state.get("region", "us-east-1"),
        "INDEX_SHARDS": "1",  # as `make run` writes its indexes (storage/schema.py)
        **{name: state["resources"][name] for name in LOCAL_RESOURCES},
    }


def stage_environment(stage: str, region: str | None, shell: dict[str, str]) -> dict[str, str]:
    from infra.stages import deployed_stages
    from infra.stages import stage_environment as declared

    stages = deployed_stages()
    if stage not in stages:
        raise TargetError(f"no stage {stage!r} in .chalice/config.json (stages: {', '.join(stages)})")
    env = declared(stage)
    # What the stage leaves empty (a Salesforce instance URL ...) the shell may give.
    env |= {name: shell[name] for name, value in env.items() if not value and shell.get(name)}
    import boto3

    from chalicelib.cli.failures import missing_configuration

    session = boto3.session.Session(region_name=region)
    missing = missing_configuration(session)
    if missing:
        raise TargetError(missing)
    env["AWS_DEFAULT_REGION"] = session.region_name
    return env


def stack_output(stage: str, key: str) -> str | None:
    """One output of the stage's stack (its webhook URLs, say); None when it cannot be read."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stack = boto3.client("cloudformation").describe_stacks(StackName=f"leadscore-{stage}")["Stacks"][0]
    except (BotoCoreError, ClientError):  # no credentials, no such stack: the caller says what to pass instead
        return None
    found = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return found.get(key)


def target_container(args: argparse.Namespace) -> Container:
    """The container for the command's target; tests hand one in as `args.parts`."""
    from chalicelib.bootstrap import Container
    from chalicelib.settings import Settings

    if args.parts is not None:
        return args.parts  # type: ignore[no-any-return]
    if getattr(args, "local", False):
        env = local_environment()
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
    elif getattr(args, "stage", None):
        env = stage_environment(args.stage, args.region, dict(os.environ))
    elif os.environ.get("TABLE_NAME"):
        from chalicelib.bootstrap import container

        return container()  # configured as a Lambda is, by the environment
    else:
        raise TargetError("no target: pass --stage NAME (a deployed stage) or --local (the running make run)")
    os.environ.update(env)
    return Container(Settings.from_env())


def target_name(args: argparse.Namespace) -> str:
    if getattr(args, "local", False):
        return "make run"
    return f"stage {args.stage}" if getattr(args, "stage", None) else "this environment"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
