"""`make run`: an embedded AWS (moto's server, see embedded_aws.py) with the table created, and the
app on `chalice local`.

Everything binds to 127.0.0.1. Stop with Ctrl-C (or SIGTERM): both servers stop.

Once it is up it writes out/local/make-run.json (where the embedded AWS listens, the table and
queue names; no secret), so `leadscore ... --local` finds it; the file goes when it stops.

The data outlives it: the table and the waiting tasks are saved when it stops and put back when it
starts (saved_state.py); `--reset` (`make run RESET=1`) starts empty.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import boto3

from chalicelib.cli.target import remove_local_state, write_local_state
from chalicelib.rules import check_rules_file
from chalicelib.settings import Settings
from chalicelib.storage.schema import create_table
from chalicelib.task_queue import create_queues
from local.defaults import LOCAL_HOST, LOCAL_PORT, LOCAL_SECRETS, LOCAL_TABLE
from local.embedded_aws import EmbeddedAws, mark_background
from local.saved_state import SavedStateError, restore, save, set_aside, state_path

HEALTH_WAIT_SECONDS = 30


def local_environment(endpoint: str) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in LOCAL_SECRETS.items():
        env.setdefault(name, value)
    env.setdefault("TABLE_NAME", LOCAL_TABLE)
    env["INDEX_SHARDS"] = "1"  # the embedded store has no partitions to spread writes over (storage/schema.py)
    # The embedded DynamoDB serves one request at a time: under a burst of deliveries a request
    # waits its turn, which is not a dead store.
    env.setdefault("DYNAMODB_TIMEOUT_SECONDS", "60")
    # A version deployed with `leadscore rules deploy --local` is in force within seconds, not a minute.
    env.setdefault("RULES_RECHECK_SECONDS", "2")
    if env.get("LOCAL_METRICS") != "1":
        # CloudWatch's embedded metric lines are for CloudWatch: here they would bury the log.
        env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return env


def port_taken(port: int) -> bool:
    """Whether something already listens on `port` (0: any free port will do)."""
    if not port:
        return False
    with socket.socket() as probe:
        # As the servers themselves bind: connections of a run just stopped (TIME-WAIT, up to a
        # minute) do not hold the port; only a live listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description="leadscore on an embedded AWS")
    parser.add_argument("--reset", action="store_true", help="start with no data (the last save is set aside)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log drowns the app's own
    app_port = int(os.environ.get("PORT", LOCAL_PORT))
    for name, port in (("PORT", app_port), ("MOTO_PORT", int(os.environ.get("MOTO_PORT", "0")))):
        if port_taken(port):
            # Said before anything starts: otherwise the health probe reaches the other server.
            print(f"make run: port {port} on {LOCAL_HOST} is already in use (another `make run`?); "
                  f"choose another with {name}=..., e.g. {name}={port + 1} make run", file=sys.stderr)  # fmt: skip
            return 2
    problem = check_rules_file(os.environ.get("SCORING_RULES") or None)
    if problem:
        print(f"make run: SCORING_RULES: {problem}", file=sys.stderr)
        return 2
    # Every AWS request this process makes is a background worker's (the API is the child process):
    # the embedded store serves the API's first.
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-send", mark_background)
    moto = EmbeddedAws(LOCAL_HOST, int(os.environ.get("MOTO_PORT", "0")))
    moto.start()
    endpoint = moto.endpoint()
    env = local_environment(endpoint)
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    create_table(client, env["TABLE_NAME"])
    sqs = boto3.client(
        "sqs", endpoint_url=endpoint, region_name=env["AWS_DEFAULT_REGION"], aws_access_key_id="local",
        aws_secret_access_key="local",
    )  # fmt: skip
    settings = Settings.from_env(env)
    create_queues(sqs, settings.task_queue, settings.task_dlq)
    saved, queues = state_path(env), [settings.task_queue, settings.task_dlq]
    try:
        print(f"embedded AWS (moto) on {endpoint}, table {env['TABLE_NAME']}, task queue; "
              f"{_restored(args.reset, client, sqs, settings.table_name, saved)}", flush=True)  # fmt: skip
    except SavedStateError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        moto.stop()
        return 2
    # What Lambda's SQS event source and EventBridge schedule do in AWS, done here in the background.
    os.environ.update(env)
    stop_workers = threading.Event()
    interval = float(env.get("UPKEEP_INTERVAL_SECONDS", "300"))
    workers = [
        threading.Thread(target=background_tasks, args=(stop_workers,), daemon=True),
        threading.Thread(target=background_schedules, args=(stop_workers, interval), daemon=True),
    ]
    for worker in workers:
        worker.start()
    command = [sys.executable, "-m", "local.serve", "local", "--stage", "local", "--host", LOCAL_HOST,
               "--port", str(app_port), "--no-autoreload"]  # fmt: skip
    server = subprocess.Popen(command, env=env)

    def stop(*_: object) -> None:
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if _announce(app_port, server):
        write_local_state({
            "pid": os.getpid(),
            "url": f"http://{LOCAL_HOST}:{app_port}",
            "aws_endpoint": endpoint,
            "region": env["AWS_DEFAULT_REGION"],
            "resources": {"TABLE_NAME": settings.table_name, "TASK_QUEUE": settings.task_queue,
                          "TASK_DLQ": settings.task_dlq},
        })  # fmt: skip
    code = server.wait()
    remove_local_state(os.getpid())
    stop_workers.set()
    for worker in workers:
        worker.join(timeout=30)  # a task half done is finished (or left on its queue) before the save
    counts = save(client, sqs, settings.table_name, queues, saved, datetime.now(UTC))
    print(f"saved {counts} to {saved}; the next `make run` starts with them (`make run RESET=1`: empty)", flush=True)
    moto.stop()
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code


def _restored(reset: bool, dynamodb: object, sqs: object, table: str, saved: Path) -> str:
    """What the start began with, said in a few words."""
    if reset:
        aside = set_aside(saved)
        return f"starting empty (RESET; the last save is kept as {aside})" if aside else "starting empty (RESET)"
    counts = restore(dynamodb, sqs, table, saved)
    return f"restored {counts} from {saved}" if counts else "no saved data: starting empty"


def background_tasks(stop: threading.Event) -> None:
    from chalicelib.bootstrap import container
    from chalicelib.entrypoints.sqs import poll_once

    while not stop.is_set():
        try:
            parts = container()
            poll_once(parts.queue, parts.task_handler, datetime.now(UTC), wait_seconds=1)
        except Exception as exc:  # keep polling: the next message may well succeed
            print(f"task worker: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            stop.wait(2)


def background_schedules(stop: threading.Event, interval: float) -> None:
    """The two schedules: upkeep, and (with a CRM's API configured) the CRM sync."""
    from chalicelib.entrypoints.schedule import run_crm_sync, run_upkeep

    while not stop.wait(interval):
        for name, job in (("upkeep", run_upkeep), ("CRM sync", run_crm_sync)):
            try:
                job(lambda: 600.0)
            except Exception as exc:
                print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def _announce(port: int, server: subprocess.Popen[bytes]) -> bool:
    url = f"http://{LOCAL_HOST}:{port}"
    for _ in range(100):
        if server.poll() is not None:
            return False  # it stopped: its own error says why, and there is nothing to announce
        try:
            # Waits for the answer: a probe that hangs up on a slow first request leaves the
            # server a broken pipe (and a traceback in its output). Refused connections fail fast.
            with urllib.request.urlopen(f"{url}/health", timeout=HEALTH_WAIT_SECONDS):
                break
        except OSError:
            time.sleep(0.2)
    admin = os.environ.get("ADMIN_API_KEY", LOCAL_SECRETS["ADMIN_API_KEY"])
    viewer = os.environ.get("VIEWER_API_KEY", LOCAL_SECRETS["VIEWER_API_KEY"])
    print(f"leadscore is up on {url}  (admin key: {admin})")
    print(f"console: {url}/console  (sign in with the admin key, or the read-only viewer key: {viewer})")
    print("try: make demo   (metric lines: LOCAL_METRICS=1 make run)", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
