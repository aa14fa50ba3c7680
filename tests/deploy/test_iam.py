"""The policy check itself: IAM's view of a boto3 call, and IAM's evaluation of our policies."""

from __future__ import annotations

from infra.iam import IamRequest, allows, denied, iam_requests, queue_arn, table_arn
from infra.stages import stage_policy
from tests.aws_calls import as_deployed
from tests.conftest import SSM_PREFIX, TEST_RESOURCES


def test_a_transaction_is_authorised_as_each_action_inside_it() -> None:
    params = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {}}},
            {"Update": {"TableName": "t", "Key": {}}},
            {"ConditionCheck": {"TableName": "t", "Key": {}, "ConditionExpression": "x"}},
        ]
    }
    assert {request.action for request in iam_requests("dynamodb", "TransactWriteItems", params)} == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    }


def test_index_queries_batches_and_queue_batches_name_the_right_resource() -> None:
    assert iam_requests("dynamodb", "Query", {"TableName": "t", "IndexName": "due"}) == [
        IamRequest("dynamodb:Query", table_arn("t", "due"))
    ]
    assert iam_requests("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}) == [
        IamRequest("dynamodb:BatchGetItem", table_arn("a")),
        IamRequest("dynamodb:BatchGetItem", table_arn("b")),
    ]
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    assert iam_requests("sqs", "SendMessageBatch", {"QueueUrl": url}) == [IamRequest("sqs:SendMessage", queue_arn("q"))]


def test_deny_wins_and_wildcards_follow_iam() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/app*"},
            {"Effect": "Deny", "Action": ["dynamodb:DeleteItem"], "Resource": "*"},
        ]
    }
    assert allows(policy, IamRequest("dynamodb:GetItem", table_arn("app-prod", "by_tier")))
    assert allows(policy, IamRequest("DynamoDB:getitem", table_arn("app-prod")))  # actions ignore case
    assert not allows(policy, IamRequest("dynamodb:DeleteItem", table_arn("app-prod")))
    assert not allows(policy, IamRequest("dynamodb:GetItem", table_arn("App-prod")))  # ARNs do not
    assert not allows(policy, IamRequest("sqs:SendMessage", queue_arn("app-prod")))


def test_the_prod_policy_refuses_what_the_code_must_never_do() -> None:
    policy = stage_policy("prod")
    forbidden = [
        IamRequest("dynamodb:DeleteTable", table_arn("leadscore-prod")),
        IamRequest("dynamodb:Scan", table_arn("leadscore-dev")),
        IamRequest("sqs:SendMessage", queue_arn("leadscore-dev-tasks")),
        IamRequest("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/leadscore/dev/ADMIN_API_KEY"),
        IamRequest("sqs:PurgeQueue", queue_arn("leadscore-prod-tasks")),
    ]
    assert denied(policy, forbidden) == sorted(forbidden)


def test_test_resources_are_renamed_to_the_stages_before_checking() -> None:
    recorded = IamRequest("dynamodb:Query", table_arn(TEST_RESOURCES["TABLE_NAME"], "due"))
    assert as_deployed(recorded, "prod", TEST_RESOURCES, SSM_PREFIX).resource == table_arn("leadscore-prod", "due")
    secret = IamRequest("ssm:GetParameter", f"arn:aws:ssm:us-east-1:123456789012:parameter{SSM_PREFIX}X")
    deployed = as_deployed(secret, "dev", TEST_RESOURCES, SSM_PREFIX)
    assert deployed.resource == "arn:aws:ssm:us-east-1:123456789012:parameter/leadscore/dev/X"
