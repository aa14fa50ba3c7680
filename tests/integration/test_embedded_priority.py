"""`make run`'s embedded store serves the API's DynamoDB requests before its own workers' (the
write-back, the decay job), and the workers still get through under a steady load."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

from local.embedded_aws import _OneAtATime, mark_background

TARGET = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}
BACKGROUND = {"HTTP_X_LEADSCORE_BACKGROUND": "1"}


class App:
    """A WSGI app that records when each request starts and ends; `hold` keeps the first one."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.hold = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        who = environ["who"]
        self.order.append(f"start {who}")
        if who == "api-1":
            assert self.hold.wait(10)
        self.order.append(f"end {who}")
        return [b"{}"]


def _call(served: _OneAtATime, who: str, background: bool = False) -> threading.Thread:
    environ = {**TARGET, **(BACKGROUND if background else {}), "who": who}
    thread = threading.Thread(target=served, args=(environ, None))
    thread.start()
    return thread


def _until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_workers_request_waits_for_the_apis_queued_ones():
    app = App()
    served = _OneAtATime(app, gap=0.05, longest=10)
    first = _call(served, "api-1")
    _until(lambda: app.order == ["start api-1"])
    worker = _call(served, "worker", background=True)  # arrives before the API's second request
    second = _call(served, "api-2")
    _until(lambda: served.foreground == 2)
    app.hold.set()
    for thread in (first, worker, second):
        thread.join(10)
    assert app.order == ["start api-1", "end api-1", "start api-2", "end api-2", "start worker", "end worker"]


def test_a_worker_still_gets_through_a_steady_load():
    app = App()
    app.hold.set()
    served = _OneAtATime(app, gap=0.05, longest=0.2)
    stop = threading.Event()

    def steady() -> None:
        while not stop.is_set():
            served({**TARGET, "who": "api"}, None)

    api = threading.Thread(target=steady)
    api.start()
    try:
        started = time.monotonic()
        _call(served, "worker", background=True).join(10)
        assert "end worker" in app.order and time.monotonic() - started < 5
    finally:
        stop.set()
        api.join(10)


def test_the_workers_requests_carry_the_mark():
    """What local/run.py registers on its own boto3 session: the embedded store tells them apart."""
    from local.embedded_aws import EmbeddedAws

    aws = EmbeddedAws("127.0.0.1")
    aws.start()
    try:
        options = {"endpoint_url": aws.endpoint(), "region_name": "us-east-1", "aws_access_key_id": "t",
                   "aws_secret_access_key": "t"}  # fmt: skip
        worker, api = boto3.client("dynamodb", **options), boto3.client("dynamodb", **options)
        worker.meta.events.register("before-send", mark_background)
        worker.list_tables()
        assert aws.app.background_served == 1
        api.list_tables()
        assert aws.app.background_served == 1 and aws.app.foreground == 0 and aws.app.foreground_done > 0
    finally:
        aws.stop()
