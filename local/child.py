"""`make run` in a child process, for black-box tests and `make bench`: its embedded AWS and `chalice local` on free
ports, its output kept; on exit it is stopped, and a traceback in its output fails the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from local.defaults import LOCAL_HOST
from local.smoke import wait_for_health


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCAL_HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def make_run(seen: list[str] | None = None, *args: str, stop_seconds: float = 120, **environment: str) -> Iterator[str]:
    """The base URL of a running `python -m local.run ARGS` with these environment variables; what
    it prints goes on into `seen` when given. `stop_seconds`: how long its stop may take (its
    workers' finishing, up to 30 s each, then the save of everything stored)."""
    port = free_port()
    # Its state file (what `leadscore --local` reads) and its saved data apart from a developer's.
    apart = tempfile.mkdtemp(prefix="make-run-")
    state, data = os.path.join(apart, "make-run.json"), os.path.join(apart, "saved.json")
    env = {**os.environ, "PORT": str(port), "LEADSCORE_LOCAL_STATE": state, "LEADSCORE_LOCAL_DATA": data, **environment}
    for name in ("AWS_ENDPOINT_URL", "TABLE_NAME_OVERRIDE"):
        env.pop(name, None)
    child = subprocess.Popen(
        [sys.executable, "-m", "local.run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    output: list[str] = [] if seen is None else seen
    threading.Thread(target=lambda: output.extend(child.stdout or []), daemon=True).start()
    url = f"http://{LOCAL_HOST}:{port}"
    try:
        wait_for_health(url, 120)
        yield url
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # never left running to slow down what follows
            child.wait()
            raise
        problems = [index for index, line in enumerate(output) if "Traceback" in line or "RuntimeError" in line]
        assert not problems, "".join(output[max(0, problems[0] - 3) : problems[0] + 40])  # the first, whole
