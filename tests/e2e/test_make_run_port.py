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


def test_a_port_left_in_time_wait_by_a_run_just_stopped_is_free() -> None:
    """A restart right after a stop: the port's last connections wait out TIME-WAIT, nothing listens."""
    from local.run import port_taken

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((LOCAL_HOST, 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection((LOCAL_HOST, port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end of the connection enters TIME-WAIT
            client.recv(1)
    assert not port_taken(port)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        listener.bind((LOCAL_HOST, port))
        listener.listen()
        assert port_taken(port)  # a live listener still is "in use"
