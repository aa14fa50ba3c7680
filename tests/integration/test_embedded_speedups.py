"""`make run`'s speed-ups of moto (local/embedded_updates.py, local/embedded_queues.py) give moto's
own answers: each UpdateItem is applied twice, through moto as it ships and through the flat-update
path, to twin items, and the items (or the errors) must agree; the SQS counts and receives match
moto's on a queue with messages in every state."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib.storage.schema import TABLE_DEFINITION, create_table
from local.embedded_queues import install_fast_queues
from local.embedded_updates import install_flat_updates, parse_flat_update

TABLE = "twins"
BY_TIER = next(index for index in TABLE_DEFINITION["GlobalSecondaryIndexes"] if index["IndexName"] == "by_tier")
BY_TIER_ATTRIBUTES = {"pk", "sk", "tier", "score", *BY_TIER["Projection"].get("NonKeyAttributes", [])}
FAST = [False]


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        create_table(client, TABLE)
        install_flat_updates(lambda: FAST[0])
        install_fast_queues(lambda: FAST[0])
        yield client
    FAST[0] = False


def _apply(client: Any, fast: bool, key: dict[str, Any], request: dict[str, Any]) -> tuple[str, Any]:
    FAST[0] = fast
    try:
        client.update_item(TableName=TABLE, Key=key, **request)
    except ClientError as exc:
        return "error", exc.response["Error"]["Code"]
    finally:
        FAST[0] = False
    return "item", client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")


NAMES = ["score", "tier", "card", "start", "gone"]
VALUES = {":n1": {"N": "7"}, ":n2": {"N": "-3"}, ":n3": {"N": "2.5"}, ":s1": {"S": "warm"}, ":s2": {"S": ""},
          ":m": {"M": {"a": {"L": [{"N": "1"}, {"S": "x"}]}}}, ":b": {"BOOL": True}}  # fmt: skip
operand = st.one_of(
    st.sampled_from(sorted(VALUES)),
    st.sampled_from([f"#n{i}" for i in range(len(NAMES))]),
    st.builds(
        lambda n, v: f"if_not_exists(#n{n}, {v})", st.integers(0, len(NAMES) - 1), st.sampled_from(sorted(VALUES))
    ),
)
right = st.one_of(operand, st.builds(lambda a, sign, b: f"{a} {sign} {b}", operand, st.sampled_from("+-"), operand))
clause = st.builds(lambda target, value: f"#n{target} = {value}", st.integers(0, len(NAMES) - 1), right)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    sets = draw(st.lists(clause, min_size=1, max_size=5))
    removes = draw(st.lists(st.integers(0, len(NAMES) - 1), max_size=2, unique=True))
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(f"#n{i}" for i in removes) if removes else "")
    used = {f"#n{i}": name for i, name in enumerate(NAMES) if f"#n{i}" in expression}
    values = {name: value for name, value in VALUES.items() if name in expression}
    request: dict[str, Any] = {"UpdateExpression": expression, "ExpressionAttributeNames": used}
    if values:
        request["ExpressionAttributeValues"] = values
    if draw(st.booleans()):
        request["ExpressionAttributeNames"] = {**used, "#v": "version"}
        request["ExpressionAttributeValues"] = {**values, ":v": {"N": "1"}}
        request["ConditionExpression"] = draw(st.sampled_from(["#v = :v", "attribute_not_exists(#v)"]))
    return request


existing = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "version": st.just({"N": "1"}),
            "score": st.just({"N": "10"}),
            "tier": st.just({"S": "cold"}),
            "start": st.just({"N": "4"}),
            "gone": st.just({"S": "x"}),
        },
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=updates(), before=existing)
def test_a_flat_update_leaves_what_moto_leaves(dynamodb: Any, request: dict[str, Any], before: Any) -> None:
    assert parse_flat_update(request["UpdateExpression"]) is not None
    results = []
    for fast, pk in ((False, "LEAD#moto"), (True, "LEAD#fast")):
        key = {"pk": {"S": pk}, "sk": {"S": "LEAD"}}
        dynamodb.delete_item(TableName=TABLE, Key=key)
        if before is not None:
            dynamodb.put_item(TableName=TABLE, Item={**key, **before})
        outcome, found = _apply(dynamodb, fast, key, request)
        if outcome == "item" and found is not None:
            found = {name: value for name, value in found.items() if name != "pk"}
        results.append((outcome, found))
    assert results[1] == results[0], request


@pytest.mark.parametrize("kind", ["full", "fold", "card"])
def test_a_lead_save_as_leadscore_writes_it_is_flat(kind: str) -> None:
    """The saves this speed-up exists for take the flat path (else they would be as slow as before)."""
    from datetime import UTC, datetime

    from chalicelib.domain import Identities, LeadEvent, Profile, score
    from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file
    from chalicelib.storage.dynamodb.lead_item import save_writes
    from chalicelib.storage.ports import LeadSave

    rules = load_rules_file(DEFAULT_RULES_PATH)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    event = LeadEvent(event_id="e1", source="segment", type="Demo Requested", occurred_at=now,
                      identities=Identities(user_id="u1"))  # fmt: skip
    card = score(Profile(), [event], rules, now)
    profile = Profile().model_dump_json()
    save = LeadSave("ld_1", 0, card, None, now, basis={"b": 1}, keys=["user:u1"], profile_json=profile,
                    crm_moves={}, kind=kind, shadow={}, account="")  # fmt: skip
    updates = [write["Update"]["UpdateExpression"] for write in save_writes(TABLE, save) if "Update" in write]
    assert updates and all(parse_flat_update(expression) is not None for expression in updates), updates


def test_queue_counts_and_receives_match_moto(dynamodb: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    url = sqs.create_queue(QueueName="twins")["QueueUrl"]
    for number in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{number}", DelaySeconds=600 if number % 3 == 0 else 0)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=600)
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    seen = []
    for fast in (False, True):
        FAST[0] = fast
        try:
            seen.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"])
        finally:
            FAST[0] = False
    assert seen[0] == seen[1] == {names[0]: "15", names[1]: "10", names[2]: "5"}
    FAST[0] = True
    try:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    finally:
        FAST[0] = False
    assert len(received) == 10 and all(int(m["Body"][1:]) % 3 for m in received)


@pytest.mark.parametrize("fast", [False, True])
def test_queue_deletes_match_moto(dynamodb: Any, fast: bool) -> None:
    """A delete by a current or an older receipt handle, again, and by a made-up handle, with
    moto's own delete and the embedded one: the same messages left, the same error."""
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    url = sqs.create_queue(QueueName=f"deletes-{fast}")["QueueUrl"]
    for number in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
    FAST[0] = fast
    try:
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=0)["Messages"]
        again: list[dict[str, Any]] = []
        for _ in range(20):  # the first three are visible again a millisecond later (moto's clock)
            again += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                         WaitTimeSeconds=1).get("Messages", [])  # fmt: skip
            if len(again) == 6:
                break
        again.sort(key=lambda message: message["Body"] != first[0]["Body"])  # the one received twice first
        old_handle = first[0]["ReceiptHandle"]  # its message was received again: an older handle
        sqs.delete_message(QueueUrl=url, ReceiptHandle=old_handle)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=old_handle)  # deleted already: fine
        deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "ReceiptHandle": again[-1]["ReceiptHandle"]}, {"Id": "b", "ReceiptHandle": "made-up"},
        ])  # fmt: skip
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    finally:
        FAST[0] = False
    gone = {first[0]["Body"], again[-1]["Body"]}
    assert len(again) == 6 and len(gone) == 2
    assert [entry["Id"] for entry in deleted["Successful"]] == ["a"]
    assert [entry["Code"] for entry in deleted["Failed"]] == ["ReceiptHandleIsInvalid"]
    assert left["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "4"


@contextmanager
def _embedded_table() -> Iterator[Any]:
    """A DynamoDB client of the embedded server of `make run`, with the table created."""
    from local.embedded_aws import EmbeddedAws

    server = EmbeddedAws("127.0.0.1")
    server.start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.endpoint(), region_name="us-east-1",
                              aws_access_key_id="t", aws_secret_access_key="t")  # fmt: skip
        # moto's backend outlives the server: start from an empty table, whatever ran before.
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=TABLE)
        create_table(client, TABLE)
        yield client
    finally:
        server.stop()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["put", "update", "remove_tier", "delete", "transact"]),
        st.integers(0, 7),  # which lead
        st.sampled_from(["cold", "warm", "hot"]),
        st.integers(0, 90),  # score
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(operations=OPERATIONS)
def test_the_embedded_servers_queries_answer_as_a_full_read_does(operations: list[tuple[str, int, str, int]]) -> None:
    """Writes of every kind (put, in-place update, an index attribute removed, delete, a transaction)
    interleaved with Queries of an index and of the table's key: each answer is what filtering
    every item of the table gives, in the index's order."""
    with _embedded_table() as client:
        for operation, lead, tier, points in operations:
            key = {"pk": {"S": f"LEAD#{lead}"}, "sk": {"S": "LEAD"}}
            if operation == "put":
                item = {**key, "tier": {"S": tier}, "score": {"N": str(points)}, "lead_id": {"S": str(lead)},
                        "card": {"S": "not projected"}}  # fmt: skip
                client.put_item(TableName=TABLE, Item=item)
            elif operation == "update":
                client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #t = :t, #s = :s",
                                   ExpressionAttributeNames={"#t": "tier", "#s": "score"},
                                   ExpressionAttributeValues={":t": {"S": tier}, ":s": {"N": str(points)}})  # fmt: skip
            elif operation == "remove_tier":
                client.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE #t",
                                   ExpressionAttributeNames={"#t": "tier"})  # fmt: skip
            elif operation == "delete":
                client.delete_item(TableName=TABLE, Key=key)
            else:
                event = {"pk": {"S": f"LEAD#{lead}"}, "sk": {"S": f"EVENT#{points}"}}
                client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": event}},
                    {"Update": {"TableName": TABLE, "Key": key, "UpdateExpression": "SET #t = :t, #s = :s",
                                "ExpressionAttributeNames": {"#t": "tier", "#s": "score"},
                                "ExpressionAttributeValues": {":t": {"S": tier}, ":s": {"N": str(points)}}}},
                ])  # fmt: skip
            everything = client.scan(TableName=TABLE)["Items"]
            for shown in ("cold", "warm", "hot"):
                values = {":t": {"S": shown}}
                answer = client.query(TableName=TABLE, IndexName="by_tier", KeyConditionExpression="tier = :t",
                                      ExpressionAttributeValues=values, ScanIndexForward=False)["Items"]  # fmt: skip
                expected = sorted((i for i in everything if i.get("tier") == {"S": shown}),
                                  key=lambda i: int(i["score"]["N"]), reverse=True)  # fmt: skip
                assert [i["score"] for i in answer] == [i["score"] for i in expected]  # the index's order
                projected = [{k: v for k, v in i.items() if k in BY_TIER_ATTRIBUTES} for i in expected]
                assert sorted(answer, key=lambda i: i["pk"]["S"]) == sorted(projected, key=lambda i: i["pk"]["S"])
            own = client.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": f"LEAD#{lead}"}})["Items"]  # fmt: skip
            assert own == sorted((i for i in everything if i["pk"]["S"] == f"LEAD#{lead}"), key=lambda i: i["sk"]["S"])


def test_an_index_query_pages_by_the_index_items_size_as_dynamodb_does() -> None:
    """DynamoDB's 1 MB page of an index Query is of index items: 40 leads whose cards (not
    projected) weigh 60 KB each are counted in one page, and pages of 7 give them all in order."""
    with _embedded_table() as client:
        for lead in range(40):
            client.put_item(TableName=TABLE, Item={
                "pk": {"S": f"LEAD#{lead}"}, "sk": {"S": "LEAD"}, "tier": {"S": "cold"},
                "score": {"N": str(lead % 13)}, "card": {"S": "x" * 60_000},
            })  # fmt: skip
        for lead in range(40, 43):  # not in the index: no score
            client.put_item(TableName=TABLE, Item={"pk": {"S": f"LEAD#{lead}"}, "sk": {"S": "LEAD"},
                                                   "tier": {"S": "cold"}})  # fmt: skip
        query = {"TableName": TABLE, "IndexName": "by_tier", "KeyConditionExpression": "tier = :t",
                 "ExpressionAttributeValues": {":t": {"S": "cold"}}}  # fmt: skip
        counted = client.query(**query, Select="COUNT")
        assert counted["Count"] == 40 and "LastEvaluatedKey" not in counted and "Items" not in counted
        paged = client.query(**query, Select="COUNT", Limit=15)  # paged as moto pages it
        assert paged["Count"] == 15 and "LastEvaluatedKey" in paged
        above = {"KeyConditionExpression": "tier = :t AND score > :s",
                 "ExpressionAttributeValues": {":t": {"S": "cold"}, ":s": {"N": "9"}}}  # fmt: skip
        high = client.query(**{**query, **above}, Select="COUNT")
        assert high["Count"] == sum(1 for lead in range(40) if lead % 13 > 9)
        pages, start = [], None
        while True:
            page = client.query(**query, Limit=7, **({"ExclusiveStartKey": start} if start else {}))
            pages.append(page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        seen = [item["score"]["N"] for page in pages for item in page]
        whole = [item["score"]["N"] for item in client.query(**query)["Items"]]
        assert len(pages) == 6 and seen == whole == sorted(seen, key=int)
        assert all("card" not in item for page in pages for item in page)


@pytest.mark.parametrize("fast", [False, True])
def test_queue_sends_match_moto(dynamodb: Any, fast: bool) -> None:
    """Sends one at a time and in a batch, with message attributes, a delay and an invalid delay,
    with moto's own send and the embedded one: the same messages received, the same counts, the
    same error."""
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    url = sqs.create_queue(QueueName=f"sends-{fast}")["QueueUrl"]
    attributes = {"kind": {"DataType": "String", "StringValue": "write_back"}}
    FAST[0] = fast
    try:
        sqs.send_message(QueueUrl=url, MessageBody="one", MessageAttributes=attributes)
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
        batch = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": "three", "MessageAttributes": attributes},
        ])  # fmt: skip
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody="too late", DelaySeconds=901)
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       VisibilityTimeout=600)["Messages"]  # fmt: skip
    finally:
        FAST[0] = False
    assert [entry["Id"] for entry in batch["Successful"]] == ["a", "b"] and not batch.get("Failed")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesDelayed"]) == ("3", "1")
    assert sorted(message["Body"] for message in received) == ["one", "three", "two"]
    tagged = {message["Body"]: message.get("MessageAttributes") for message in received}
    assert tagged["one"] == tagged["three"] == {"kind": {"DataType": "String", "StringValue": "write_back"}}
    assert tagged["two"] is None
    assert all(message["MD5OfBody"] for message in received)
