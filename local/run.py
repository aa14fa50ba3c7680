"""`make run`: an embedded AWS (moto server) with the table created, and the app on `chalice local`.

Everything binds to 127.0.0.1. Stop with Ctrl-C (or SIGTERM): both servers stop.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

import boto3
from moto.server import ThreadedMotoServer

from chalicelib.storage.schema import create_table
from local.defaults import LOCAL_HOST, LOCAL_PORT, LOCAL_SECRETS, LOCAL_TABLE


def local_environment(endpoint: str) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in LOCAL_SECRETS.items():
        env.setdefault(name, value)
    env.setdefault("TABLE_NAME", LOCAL_TABLE)
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


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log drowns the app's own
    moto = ThreadedMotoServer(ip_address=LOCAL_HOST, port=int(os.environ.get("MOTO_PORT", "0")), verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = local_environment(endpoint)
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    create_table(client, env["TABLE_NAME"])
    print(f"embedded AWS (moto) on {endpoint}, table {env['TABLE_NAME']}", flush=True)
    app_port = int(os.environ.get("PORT", LOCAL_PORT))
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    command = [chalice, "local", "--stage", "local", "--host", LOCAL_HOST, "--port", str(app_port), "--no-autoreload"]
    server = subprocess.Popen(command, env=env)

    def stop(*_: object) -> None:
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _announce(app_port)
    code = server.wait()
    moto.stop()
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code


def _announce(port: int) -> None:
    url = f"http://{LOCAL_HOST}:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    print(f"leadscore is up on {url}  (admin key: {os.environ.get('ADMIN_API_KEY', LOCAL_SECRETS['ADMIN_API_KEY'])})")
    print("try: make demo", flush=True)


if __name__ == "__main__":
    sys.exit(main())
