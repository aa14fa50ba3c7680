"""What IAM is asked when the code makes an AWS call, and whether a policy document allows it.

A boto3 call is not always one IAM action on one resource: TransactWriteItems is authorised as
each PutItem / UpdateItem / DeleteItem / ConditionCheckItem inside it, a batch call per table, a
Query on an index by the index ARN, SendMessageBatch as sqs:SendMessage. `iam_requests` spells
that out so tests can check the hand-written `.chalice/policy-<stage>.json` against every call the
code really makes (tests/conftest.py records them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


@dataclass(frozen=True, order=True)
class IamRequest:
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN


def table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def queue_arn(queue_url_or_name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url_or_name.rstrip('/').rsplit('/', 1)[-1]}"


def parameter_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def iam_requests(service: str, operation: str, params: Mapping[str, Any]) -> list[IamRequest]:
    """The IAM authorisations one API call needs."""
    if service == "dynamodb":
        return _dynamodb(operation, params)
    if service == "sqs":
        action = f"sqs:{_SQS_ACTIONS.get(operation, operation)}"
        return [IamRequest(action, queue_arn(params.get("QueueUrl") or params.get("QueueName", "*")))]
    if service == "ssm" and "Name" in params:
        return [IamRequest(f"ssm:{operation}", parameter_arn(params["Name"]))]
    return [IamRequest(f"{service}:{operation}", "*")]


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[IamRequest]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [IamRequest(f"dynamodb:{operation}", table_arn(table)) for table in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        requests = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            action = "GetItem" if kind == "Get" else _TRANSACT_ACTIONS[kind]
            requests.append(IamRequest(f"dynamodb:{action}", table_arn(body["TableName"])))
        return requests
    if "TableName" in params:
        return [IamRequest(f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")))]
    return [IamRequest(f"dynamodb:{operation}", "*")]


@lru_cache(maxsize=256)
def _pattern(glob: str) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters (":" and "/" included), ? one character; case-sensitive
    # for resources, case-insensitive for actions (the caller lowers actions).
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob) + r"\Z")


def wildcard_match(glob: str, text: str) -> bool:
    return _pattern(glob).match(text) is not None


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(statement: Mapping[str, Any], request: IamRequest) -> bool:
    actions = [action.lower() for action in _listed(statement.get("Action", []))]
    if not any(_pattern(action).match(request.action.lower()) for action in actions):
        return False
    return any(_pattern(resource).match(request.resource) for resource in _listed(statement.get("Resource", [])))


def allows(policy: Mapping[str, Any], request: IamRequest) -> bool:
    """IAM's evaluation for one identity policy: an explicit Deny wins, else some Allow must match.
    (Conditions, NotAction and NotResource are not used by our policies and are refused.)"""
    statements = _listed_statements(policy)
    for statement in statements:
        unsupported = {"Condition", "NotAction", "NotResource"} & statement.keys()
        if unsupported:
            raise ValueError(
                f"statement {statement.get('Sid')!r} uses {sorted(unsupported)}, which this check cannot judge"
            )
    if any(s["Effect"] == "Deny" and _matches(s, request) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, request) for s in statements)


def _listed_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statement = policy["Statement"]
    return [statement] if isinstance(statement, Mapping) else list(statement)


def granted_actions(policy: Mapping[str, Any]) -> set[str]:
    return {
        action
        for statement in _listed_statements(policy)
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
    }


def denied(policy: Mapping[str, Any], requests: Iterable[IamRequest]) -> list[IamRequest]:
    return sorted({request for request in requests if not allows(policy, request)})
