"""`chalice local`, with a listen backlog for bursts: the Python standard library's HTTP server
queues 5 connections by default and resets the rest, so 50 senders at once would see resets that
no deployment (API Gateway) would give them. Same command line as `chalice local`."""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

BACKLOG = 256

if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG  # the server class `chalice local` uses
    sys.exit(main())
