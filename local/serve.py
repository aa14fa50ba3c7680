"""`chalice local`, made to answer as the deployed API does. Same command line as `chalice local`.

- A listen backlog for bursts: the Python standard library's HTTP server queues 5 connections by
  default and resets the rest, so 50 senders at once would see resets that no deployment (API
  Gateway) would give them.
- An unknown route: chalice local imitates API Gateway's default (403 "Missing Authentication
  Token"); the deployed API answers 404 in our error shape (infra/resources.yaml
  GatewayResponses), and so does this.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalice import local
from chalice.cli import main

BACKLOG = 256
NO_SUCH_ROUTE = json.dumps({"error": "not_found", "code": "not_found", "message": "no such route"}).encode()


class NoSuchRoute(local.LocalGatewayException):
    CODE = 404


def _answer_as_deployed(handle: Any) -> Any:
    def handle_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handle(self, *args, **kwargs)
        except local.ForbiddenError as exc:
            if exc.body and b"Missing Authentication Token" in exc.body:
                raise NoSuchRoute({"Content-Type": "application/json"}, NO_SUCH_ROUTE) from None
            raise

    return handle_request


if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG  # the server class `chalice local` uses
    local.LocalGateway.handle_request = _answer_as_deployed(local.LocalGateway.handle_request)  # type: ignore[method-assign]
    sys.exit(main())
