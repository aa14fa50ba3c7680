"""`make run` with its port taken says so at once and stops, instead of announcing a server it
never started (its health probe would reach the other one)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from local.defaults import LOCAL_HOST


def test_a_taken_port_is_a_clear_error_not_a_false_start() -> None:
    with socket.socket() as other:
        other.bind((LOCAL_HOST, 0))
        other.listen()
        port = other.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "local.run"],
            env={**os.environ, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"port {port} on {LOCAL_HOST} is already in use" in done.stderr and f"PORT={port + 1}" in done.stderr
    assert "is up" not in done.stdout and "Traceback" not in done.stderr
