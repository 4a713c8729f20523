"""Lambda event source mappings: the CRUD API with AWS's states and validation errors,
SQS queues delivered to functions in AWS's SQS event (batch item failures, redrive to a
dead-letter queue, filters that delete what they do not match), DynamoDB streams delivered
in order with AWS's DynamoDB event and OnFailure destinations, disabling, and mappings
that keep working after a durable restart."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table
from lambda_helpers import create_python, error_of, make_queue
from sqs_helpers import counts

TIMEOUT = 30.0

# Sends every record it receives, as JSON, to the queue OUT_URL names (FIFO keeps the order).
RELAY = """
import json, os, boto3

sqs = boto3.client("sqs")

def handler(event, context):
    url = os.environ["OUT_URL"]
    for r in event["Records"]:
        args = {"QueueUrl": url, "MessageBody": json.dumps({"record": r, "batch": len(event["Records"])})}
        if url.endswith(".fifo"):
            args["MessageGroupId"] = "g"
            args["MessageDeduplicationId"] = r.get("eventID") or r.get("messageId")
        sqs.send_message(**args)
    return None
"""


def wait_for(predicate, timeout=TIMEOUT, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def drain(sqs, url, want, timeout=TIMEOUT):
    """Receives (and deletes) until `want` messages arrived; returns their parsed bodies."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want:
        assert time.monotonic() < deadline, f"only {len(got)} of {want} messages arrived: {got}"
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


def relay(lam, sqs, unique_name, source=RELAY, fifo=False):
    """A function relaying what it receives to a new output queue; (name, out_url)."""
    out_name = unique_name("out") + (".fifo" if fifo else "")
    out_url, _ = make_queue(sqs, out_name, **({"FifoQueue": "true"} if fifo else {}))
    name = unique_name("fn")
    create_python(lam, name, source, Environment={"Variables": {"OUT_URL": out_url}}, Timeout=30)
    return name, out_url


# --------------------------------------------------------------------------- control plane


def test_create_reports_creating_then_get_reports_enabled(lam, sqs, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    _, arn = make_queue(sqs, unique_name("in"))
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["EventSourceArn"] == arn
    assert created["FunctionArn"].endswith(f":function:{name}")
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    assert "StartingPosition" not in created
    assert "LastProcessingResult" not in created
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert got["State"] == "Enabled"
    assert got["UUID"] == created["UUID"]
    deleted = lam.delete_event_source_mapping(UUID=created["UUID"])
    assert deleted["State"] == "Deleting"
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping,
                 lambda UUID: lam.update_event_source_mapping(UUID=UUID, BatchSize=1)):
        with pytest.raises(ClientError) as e:
            call(UUID=created["UUID"])
        assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def test_create_disabled_and_update_transitions(lam, sqs, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    _, arn = make_queue(sqs, unique_name("in"))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=5, ScalingConfig={"MaximumConcurrency": 3})
    assert updated["State"] == "Updating"
    assert updated["BatchSize"] == 5
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled"
    assert got["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    lam.delete_event_source_mapping(UUID=uuid)


def test_validation_errors_are_awss(lam, sqs, ddb, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    _, arn = make_queue(sqs, unique_name("in"))
    _, fifo = make_queue(sqs, unique_name("in") + ".fifo", FifoQueue="true")
    cases = [
        (dict(EventSourceArn=arn, FunctionName=unique_name("missing")),
         ("InvalidParameterValueException", "Function does not exist", 400)),
        (dict(EventSourceArn=arn.replace(arn.rsplit(":", 1)[1], "no-such-queue"), FunctionName=name),
         ("InvalidParameterValueException",
          "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
          "SQS Error Message: The specified queue does not exist or you do not have access to it.", 400)),
        (dict(EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST"),
         ("InvalidParameterValueException", "StartingPosition is not valid for SQS event sources.", 400)),
        (dict(EventSourceArn=arn, FunctionName=name, BatchSize=11),
         ("InvalidParameterValueException",
          "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10", 400)),
        (dict(EventSourceArn=arn, FunctionName=name, BatchSize=10001, MaximumBatchingWindowInSeconds=1),
         ("ValidationException",
          "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: "
          "Member must have value less than or equal to 10000", 400)),
        (dict(EventSourceArn=arn, FunctionName=name, MaximumBatchingWindowInSeconds=301),
         ("ValidationException",
          "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy "
          "constraint: Member must have value less than or equal to 300", 400)),
        (dict(EventSourceArn=fifo, FunctionName=name, BatchSize=20, MaximumBatchingWindowInSeconds=1),
         ("InvalidParameterValueException", "BatchSize 20 exceeds the max of 10", 400)),
        (dict(EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [{"Pattern": "{\"a\": 1}"}]}),
         ("InvalidParameterValueException", "Invalid filter pattern definition.", 400)),
        (dict(EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/nope", FunctionName=name,
              StartingPosition="LATEST"),
         ("InvalidParameterValueException", "Stream not found: arn:aws:kinesis:us-east-1:000000000000:stream/nope", 400)),
        (dict(EventSourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024-01-01T00:00:00.000",
              FunctionName=name),
         ("InvalidParameterValueException",
          "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
          "Member must not be null.", 400)),
        (dict(EventSourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024-01-01T00:00:00.000",
              FunctionName=name, StartingPosition="TRIM_HORIZON"),
         ("InvalidParameterValueException",
          "Stream not found: arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024-01-01T00:00:00.000", 400)),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(**kwargs)
        assert error_of(e) == expected, kwargs
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []


def test_a_second_mapping_of_the_same_queue_and_function_conflicts(lam, sqs, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    _, arn = make_queue(sqs, unique_name("in"))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)["UUID"]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert error_of(e) == (
        "ResourceConflictException",
        f'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") already exists. '
        f"Please update or delete the existing mapping with UUID {uuid}",
        409,
    )
    lam.delete_event_source_mapping(UUID=uuid)


def test_list_filters_and_pages_and_is_per_account(lam, sqs, aws_client, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    arns = [make_queue(sqs, unique_name("in"))[1] for _ in range(3)]
    uuids = {lam.create_event_source_mapping(EventSourceArn=a, FunctionName=name, Enabled=False)["UUID"] for a in arns}
    mine = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert {m["UUID"] for m in mine} == uuids
    assert all(m["State"] == "Disabled" for m in mine)
    by_source = lam.list_event_source_mappings(EventSourceArn=arns[1])["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in by_source] == [arns[1]]
    seen, marker = [], None
    while True:
        page = lam.list_event_source_mappings(FunctionName=name, MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["EventSourceMappings"]) <= 2
        seen += [m["UUID"] for m in page["EventSourceMappings"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(seen) == sorted(uuids)
    other = aws_client("lambda", account="111122223333")
    assert other.list_event_source_mappings()["EventSourceMappings"] == []
    assert aws_client("lambda", region="eu-west-1").list_event_source_mappings(
        FunctionName=name)["EventSourceMappings"] == []
    with pytest.raises(ClientError) as e:
        other.get_event_source_mapping(UUID=next(iter(uuids)))
    assert error_of(e)[0] == "ResourceNotFoundException"
    for u in uuids:
        lam.delete_event_source_mapping(UUID=u)


# --------------------------------------------------------------------------- SQS


def test_sqs_messages_reach_the_function_in_awss_event_and_are_deleted(lam, sqs, unique_name):
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
    sqs.send_message(
        QueueUrl=in_url, MessageBody="hello",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
    )
    (got,) = drain(sqs, out, 1)
    r = got["record"]
    assert r["body"] == "hello"
    assert r["eventSource"] == "aws:sqs"
    assert r["eventSourceARN"] == arn
    assert r["awsRegion"] == "us-east-1"
    assert r["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert r["messageId"] and r["receiptHandle"]
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    for key in ("SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"):
        assert key in r["attributes"]
    assert r["messageAttributes"] == {
        "color": {"stringValue": "blue", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    wait_for(lambda: counts(sqs, in_url)[:2] == (0, 0))


def test_batch_item_failures_keep_only_the_failed_messages(lam, sqs, unique_name):
    source = RELAY.replace("return None", "return {'batchItemFailures': failed}").replace(
        "    for r in event[\"Records\"]:\n",
        "    failed = [{'itemIdentifier': r['messageId']} for r in event['Records'] if 'fail' in r['body']]\n"
        "    for r in [r for r in event['Records'] if 'fail' not in r['body']]:\n",
    )
    name, out = relay(lam, sqs, unique_name, source=source)
    dlq_url, dlq_arn = make_queue(sqs, unique_name("dlq"))
    in_url, arn = make_queue(
        sqs, unique_name("in"), VisibilityTimeout=1,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    for body in ("ok-1", "fail-2", "ok-3"):
        sqs.send_message(QueueUrl=in_url, MessageBody=body)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    delivered = drain(sqs, out, 2)
    assert sorted(d["record"]["body"] for d in delivered) == ["ok-1", "ok-3"]
    moved = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"))
    assert [m["Body"] for m in moved] == ["fail-2"]
    wait_for(lambda: counts(sqs, in_url)[:2] == (0, 0))


def test_function_errors_return_messages_until_redrive_moves_them(lam, sqs, unique_name):
    name = unique_name("fn")
    create_python(lam, name, """
        def handler(event, context):
            raise RuntimeError("cannot process " + event["Records"][0]["body"])
    """)
    dlq_url, dlq_arn = make_queue(sqs, unique_name("dlq"))
    in_url, arn = make_queue(
        sqs, unique_name("in"), VisibilityTimeout=1,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=in_url, MessageBody="poison")
    moved = wait_for(lambda: sqs.receive_message(
        QueueUrl=dlq_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages"))
    assert moved[0]["Body"] == "poison"
    assert counts(sqs, in_url)[:2] == (0, 0)


def test_filters_deliver_matching_messages_and_delete_the_rest(lam, sqs, unique_name):
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name,
        FilterCriteria={"Filters": [
            {"Pattern": json.dumps({"body": {"kind": ["order"], "total": [{"numeric": [">", 100]}]}})},
            {"Pattern": json.dumps({"body": {"kind": [{"prefix": "vip-"}]}})},
        ]},
    )
    bodies = [
        {"kind": "order", "total": 150},
        {"kind": "order", "total": 5},
        {"kind": "refund", "total": 500},
        {"kind": "vip-order", "total": 1},
    ]
    for b in bodies:
        sqs.send_message(QueueUrl=in_url, MessageBody=json.dumps(b))
    sqs.send_message(QueueUrl=in_url, MessageBody="not json")
    delivered = drain(sqs, out, 2)
    assert sorted(json.loads(d["record"]["body"])["kind"] for d in delivered) == ["order", "vip-order"]
    # What no filter matches is deleted from the queue, not left to be received again.
    wait_for(lambda: counts(sqs, in_url)[:2] == (0, 0))
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=1).get("Messages") is None


def test_disabling_stops_delivery_and_enabling_resumes_it(lam, sqs, unique_name):
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    sqs.send_message(QueueUrl=in_url, MessageBody="first")
    assert drain(sqs, out, 1)[0]["record"]["body"] == "first"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    sqs.send_message(QueueUrl=in_url, MessageBody="second")
    # The message stays in the queue while the mapping is disabled.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert counts(sqs, in_url)[0] == 1
        time.sleep(0.3)
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert drain(sqs, out, 1)[0]["record"]["body"] == "second"


def test_a_batching_window_gathers_more_than_one_receive(lam, sqs, unique_name):
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    for i in range(15):
        sqs.send_message(QueueUrl=in_url, MessageBody=f"m{i}")
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=20, MaximumBatchingWindowInSeconds=1)
    got = drain(sqs, out, 15)
    assert sorted(g["record"]["body"] for g in got) == sorted(f"m{i}" for i in range(15))
    # One invocation saw all 15: more than one ReceiveMessage (at most 10) can return.
    assert {g["batch"] for g in got} == {15}


# --------------------------------------------------------------------------- DynamoDB Streams


def stream_table(ddb, name):
    return create_table(
        ddb, name, range_key=None,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["LatestStreamArn"]


def test_dynamodb_stream_changes_reach_the_function_in_order(lam, sqs, ddb, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    table = unique_name("t")
    stream = stream_table(ddb, table)
    created = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=2,
    )
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "User action"
    assert created["LastProcessingResult"] == "No records processed"
    assert created["MaximumRetryAttempts"] == -1
    assert created["MaximumRecordAgeInSeconds"] == -1
    assert created["BisectBatchOnFunctionError"] is False
    assert created["ParallelizationFactor"] == 1
    assert created["StartingPosition"] == "TRIM_HORIZON"
    assert created["DestinationConfig"] == {"OnFailure": {}}
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    got = [g["record"] for g in drain(sqs, out, 3)]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    first = got[0]
    assert first["eventVersion"] == "1.1"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == "us-east-1"
    assert first["eventSourceARN"] == stream
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], (int, float))
    assert got[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert got[2]["dynamodb"]["OldImage"]["n"] == {"N": "2"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert seqs == sorted(seqs)
    wait_for(lambda: lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"][0]
             ["LastProcessingResult"] == "OK")


def test_latest_starts_after_what_the_stream_held_at_creation(lam, sqs, ddb, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    table = unique_name("t")
    stream = stream_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=name, StartingPosition="LATEST")
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})
    got = [g["record"] for g in drain(sqs, out, 1)]
    assert got[0]["dynamodb"]["Keys"] == {"pk": {"S": "new"}}
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=1).get("Messages") is None


def test_dynamodb_filters_skip_records_that_do_not_match(lam, sqs, ddb, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    table = unique_name("t")
    stream = stream_table(ddb, table)
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps(
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["active"]}}}})}]},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "1"}, "status": {"S": "inactive"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "2"}, "status": {"S": "active"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "2"}}, UpdateExpression="SET x = :v",
                    ExpressionAttributeValues={":v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "3"}, "status": {"S": "active"}})
    got = [g["record"] for g in drain(sqs, out, 2)]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["2", "3"]
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=1).get("Messages") is None


def test_dynamodb_failures_retry_then_go_to_the_on_failure_queue(lam, sqs, ddb, unique_name):
    name = unique_name("fn")
    create_python(lam, name, """
        def handler(event, context):
            raise ValueError("no")
    """)
    dest_url, dest_arn = make_queue(sqs, unique_name("failed"))
    table = unique_name("t")
    stream = stream_table(ddb, table)
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}})
    (msg,) = wait_for(lambda: sqs.receive_message(QueueUrl=dest_url, WaitTimeSeconds=1).get("Messages"))
    doc = json.loads(msg["Body"])
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["approximateInvokeCount"] == 2
    assert doc["responseContext"]["functionError"] == "Unhandled"
    info = doc["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    m = lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"][0]
    assert m["LastProcessingResult"] == "PROBLEM: Function call failed"
    assert m["DestinationConfig"] == {"OnFailure": {"Destination": dest_arn}}


def test_stream_batch_item_failures_retry_from_the_failed_record(lam, sqs, ddb, unique_name):
    source = RELAY.replace("return None", "return {'batchItemFailures': failed}").replace(
        "    for r in event[\"Records\"]:\n",
        "    bad = [r for r in event['Records'] if r['dynamodb']['Keys']['pk']['S'] == 'bad']\n"
        "    failed = [{'itemIdentifier': r['dynamodb']['SequenceNumber']} for r in bad]\n"
        "    for r in [r for r in event['Records'] if r not in bad]:\n",
    )
    name, out = relay(lam, sqs, unique_name, source=source, fifo=True)
    dest_url, dest_arn = make_queue(sqs, unique_name("failed"))
    table = unique_name("t")
    stream = stream_table(ddb, table)
    for pk in ("a", "bad", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}})
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    (msg,) = wait_for(lambda: sqs.receive_message(QueueUrl=dest_url, WaitTimeSeconds=1).get("Messages"))
    info = json.loads(msg["Body"])["DDBStreamBatchInfo"]
    # The retry started at the failed record: "a" was not sent again, "bad" and "c" were.
    assert info["batchSize"] == 2
    delivered = [g["record"]["dynamodb"]["Keys"]["pk"]["S"] for g in drain(sqs, out, 2)]
    assert delivered == ["a", "c"]


# --------------------------------------------------------------------------- durability


def test_mappings_survive_a_durable_restart_and_keep_delivering(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam, sqs = server.client("lambda"), server.client("sqs")
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    sqs.send_message(QueueUrl=in_url, MessageBody="before")
    assert drain(sqs, out, 1)[0]["record"]["body"] == "before"
    server.kill9()
    server.restart()
    lam, sqs = server.client("lambda"), server.client("sqs")
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled" and got["EventSourceArn"] == arn
    sqs.send_message(QueueUrl=in_url, MessageBody="after")
    assert drain(sqs, out, 1)[0]["record"]["body"] == "after"


def test_functions_invoked_by_a_mapping_reach_kagami_at_its_new_address_after_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam, sqs = server.client("lambda"), server.client("sqs")
    name, out = relay(lam, sqs, unique_name)
    in_url, arn = make_queue(sqs, unique_name("in"))
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    old_port = server.port
    server.kill9()
    server.restart(same_port=False)
    assert server.port != old_port
    sqs = server.client("sqs")
    # The relay's own SDK calls go to AWS_ENDPOINT_URL: the address kagami listens on now.
    sqs.send_message(QueueUrl=in_url, MessageBody="moved")
    assert drain(sqs, out, 1)[0]["record"]["body"] == "moved"


def test_stream_mappings_resume_after_their_checkpoint_on_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam, sqs, ddb = server.client("lambda"), server.client("sqs"), server.client("dynamodb")
    name, out = relay(lam, sqs, unique_name, fifo=True)
    table = unique_name("t")
    stream = stream_table(ddb, table)
    lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON")
    ddb.put_item(TableName=table, Item={"pk": {"S": "one"}})
    assert drain(sqs, out, 1)[0]["record"]["dynamodb"]["Keys"] == {"pk": {"S": "one"}}
    server.kill9()
    server.restart()
    sqs, ddb = server.client("sqs"), server.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "two"}})
    # The record delivered before the restart is not delivered again.
    got = [g["record"]["dynamodb"]["Keys"]["pk"]["S"] for g in drain(sqs, out, 1)]
    assert got == ["two"]
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=1).get("Messages") is None
