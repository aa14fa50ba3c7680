"""What went wrong, in one line: the AWS and CRM failures an operator meets (no credentials, no
region, a stage not deployed, make run not running), instead of a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

NO_CREDENTIALS = "no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
NO_REGION = "no AWS region: {how}set AWS_DEFAULT_REGION or your profile's region"
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "InvalidClientTokenId"}
_NO_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def missing_configuration(session: Any, region_how: str = "pass --region, or ") -> str | None:
    """What keeps a boto3 session from calling AWS at all (no region, no credentials), or None;
    said before anything is done, so no command fails half-way for it."""
    if session.region_name is None:
        return NO_REGION.format(how=region_how)
    if session.get_credentials() is None:
        return NO_CREDENTIALS
    return None


def say_or_raise(exc: BaseException, target: str, prefix: str) -> int:
    """A recognised failure as its one line on stderr (exit status 2); any other is raised again."""
    line = explain(exc, target)
    if line is None:
        raise exc
    print(f"{prefix}: {line}", file=sys.stderr)
    return 2


def explain(exc: BaseException, target: str) -> str | None:
    """The one line for a failure we recognise anywhere in `exc`'s chain; None for the others."""
    from botocore import exceptions as botocore

    for cause in _chain(exc):
        if isinstance(cause, botocore.NoCredentialsError | botocore.PartialCredentialsError):
            return NO_CREDENTIALS
        if isinstance(cause, botocore.NoRegionError):
            return NO_REGION.format(how="pass --region, or ")
        if isinstance(cause, botocore.TokenRetrievalError | botocore.SSOTokenLoadError):
            return "your AWS SSO session has expired: run `aws sso login`"
        if isinstance(cause, botocore.EndpointConnectionError | botocore.ConnectTimeoutError):
            hint = " (has `make run` stopped?)" if target == "make run" else ""
            return f"cannot reach AWS at {cause.kwargs.get('endpoint_url', '?')}{hint}"
        if isinstance(cause, botocore.ClientError):
            return _client_error(cause, target)
    return None


def _client_error(error: BaseException, target: str) -> str:
    response = getattr(error, "response", {})
    code = str(response.get("Error", {}).get("Code", ""))
    operation = getattr(error, "operation_name", "a call")
    region = os.environ.get("AWS_DEFAULT_REGION", "?")
    deploy = f" (deploy it: make deploy STAGE={target.removeprefix('stage ')})" if target.startswith("stage ") else ""
    if code == "ResourceNotFoundException" and "Parameter" not in operation:
        table = os.environ.get("TABLE_NAME", "?")
        return f"{target} has no table {table} in {region}{deploy}"
    if code in _NO_QUEUE:
        return f"{target} has no task queue in {region}{deploy}"
    if code in _BAD_CREDENTIALS:
        return f"AWS refused the credentials ({code}): are they expired? (aws sso login, or new keys)"
    if code in _DENIED:
        return f"AWS denied {operation}: the credentials lack the permission"
    return f"AWS refused {operation}: {code}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
