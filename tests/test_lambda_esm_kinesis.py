"""Lambda event source mappings for Kinesis streams: records reach the function in order in
AWS's Kinesis event, in batches of BatchSize, from TRIM_HORIZON, LATEST or AT_TIMESTAMP;
FilterCriteria match the decoded JSON `data`; a failing batch is retried, bisected, or
retried from the lowest reported batch item failure until MaximumRetryAttempts or
MaximumRecordAgeInSeconds gives up on it and the OnFailure destination gets AWS's
invocation record; disabling stops delivery; a durable restart resumes after the last
record processed; AWS's validation errors.
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"""

from __future__ import annotations

import base64
import json
import re
import time
from types import SimpleNamespace
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python, error_of, make_queue
# The lam and sqs fixtures, and the relay function, are the SQS and DynamoDB tests' own.
from test_lambda_esm import drain, lam, relay, sqs, wait_for  # noqa: F401

# Sends the data of every record of each invocation, as one message, to OUT_URL (a FIFO
# queue, so the invocations read in order). MODE=raise fails the invocation when a
# record's data is "bad"; MODE=report names the bad records as batch item failures.
BATCH_LOG = """
import base64, json, os, boto3

sqs = boto3.client("sqs")

def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    sqs.send_message(QueueUrl=os.environ["OUT_URL"], MessageBody=json.dumps(data),
                     MessageGroupId="g", MessageDeduplicationId=context.aws_request_id)
    bad = [r["kinesis"]["sequenceNumber"] for r, d in zip(event["Records"], data) if d == "bad"]
    if bad and os.environ["MODE"] == "raise":
        raise ValueError("bad record")
    return {"batchItemFailures": [{"itemIdentifier": s} for s in bad]}
"""

FAILING = """
def handler(event, context):
    raise ValueError("cannot process")
"""

# Counts records across the invocations of a tumbling window, and logs each invocation's
# window context to OUT_URL (a FIFO queue).
WINDOW_COUNTER = """
import base64, json, os, boto3

sqs = boto3.client("sqs")
KEYS = ("window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow", "isWindowTerminatedEarly")

def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    seen = {k: event.get(k) for k in KEYS}
    seen["data"] = data
    sqs.send_message(QueueUrl=os.environ["OUT_URL"], MessageBody=json.dumps(seen),
                     MessageGroupId="g", MessageDeduplicationId=context.aws_request_id)
    return {"state": {"count": event["state"].get("count", 0) + len(data)}}
"""

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def kinesis(aws_client):
    return aws_client("kinesis")


def make_stream(kinesis, name, shards=1):
    """A new ACTIVE stream; its ARN."""
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    summary = lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    wait_for(lambda: summary()["StreamStatus"] == "ACTIVE")
    return summary()["StreamARN"]


def put(kinesis, stream, *data, key="k"):
    """Puts each datum in order; their (shard id, sequence number)s."""
    out = []
    for d in data:
        r = kinesis.put_record(StreamName=stream, Data=d.encode() if isinstance(d, str) else d, PartitionKey=key)
        out.append((r["ShardId"], r["SequenceNumber"]))
    return out


def batch_logger(lam, sqs, unique_name, mode):
    out_url, _ = make_queue(sqs, unique_name("log") + ".fifo", FifoQueue="true")
    name = unique_name("fn")
    create_python(lam, name, BATCH_LOG, Environment={"Variables": {"OUT_URL": out_url, "MODE": mode}}, Timeout=30)
    return name, out_url


def failing_mapping(lam, sqs, kinesis, unique_name, name=None, records=(), **options):
    """A new stream holding `records`, mapped from TRIM_HORIZON to function `name` (by
    default one that always fails) with an SQS OnFailure queue: .uuid, .function,
    .stream (name), .arn, .dest_url, .dest_arn, .written (the records' shard and sequence)."""
    if name is None:
        name = unique_name("fn")
        create_python(lam, name, FAILING)
    dest_url, dest_arn = make_queue(sqs, unique_name("failed"))
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    written = put(kinesis, stream, *records)
    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON",
        DestinationConfig={"OnFailure": {"Destination": dest_arn}}, **options,
    )["UUID"]
    return SimpleNamespace(uuid=uuid, function=name, stream=stream, arn=arn, dest_url=dest_url, dest_arn=dest_arn,
                           written=written)


def given_up(sqs, f):
    """The first OnFailure record the mapping sent, parsed."""
    (msg,) = wait_for(lambda: sqs.receive_message(QueueUrl=f.dest_url, WaitTimeSeconds=1).get("Messages"))
    return json.loads(msg["Body"])


def topic_with_inbox(sns, sqs, unique_name):
    """An SNS topic delivering raw messages to a new queue: (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=unique_name("failed"))["TopicArn"]
    inbox_url, inbox_arn = make_queue(sqs, unique_name("inbox"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
    return topic, inbox_url


def data_of(record):
    return base64.b64decode(record["kinesis"]["data"]).decode()


def mapping_of(lam, uuid):
    return lam.get_event_source_mapping(UUID=uuid)


def nothing_more(sqs, url):
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


# --------------------------------------------------------------------------- delivery


def test_records_reach_the_function_in_order_in_awss_kinesis_event(lam, sqs, kinesis, aws_cli, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    before = time.time()
    written = put(kinesis, stream, json.dumps({"n": 1}), "two", b"\x00\xff")
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON")
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "User action"
    assert created["BatchSize"] == 100
    assert created["StartingPosition"] == "TRIM_HORIZON"
    assert created["ParallelizationFactor"] == 1
    assert created["MaximumRetryAttempts"] == -1
    assert created["MaximumRecordAgeInSeconds"] == -1
    assert created["BisectBatchOnFunctionError"] is False
    assert created["TumblingWindowInSeconds"] == 0
    assert created["LastProcessingResult"] == "No records processed"
    assert created["DestinationConfig"] == {"OnFailure": {}}
    assert created["FunctionResponseTypes"] == []

    got = [g["record"] for g in drain(sqs, out, 3)]
    role = lam.get_function(FunctionName=name)["Configuration"]["Role"]
    assert [data_of(r) for r in got[:2]] == ['{"n": 1}', "two"]
    assert base64.b64decode(got[2]["kinesis"]["data"]) == b"\x00\xff"
    for r, (shard, seq) in zip(got, written):
        assert list(r) == ["kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                           "invokeIdentityArn", "awsRegion", "eventSourceARN"]
        assert set(r["kinesis"]) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                                     "approximateArrivalTimestamp"}
        assert r["kinesis"]["kinesisSchemaVersion"] == "1.0"
        assert r["kinesis"]["partitionKey"] == "k"
        assert r["kinesis"]["sequenceNumber"] == seq
        assert isinstance(r["kinesis"]["approximateArrivalTimestamp"], float)
        assert before - 5 < r["kinesis"]["approximateArrivalTimestamp"] < time.time() + 5
        assert r["eventSource"] == "aws:kinesis"
        assert r["eventVersion"] == "1.0"
        assert r["eventID"] == f"{shard}:{seq}"
        assert r["eventName"] == "aws:kinesis:record"
        assert r["invokeIdentityArn"] == role
        assert r["awsRegion"] == "us-east-1"
        assert r["eventSourceARN"] == arn
    seqs = [int(r["kinesis"]["sequenceNumber"]) for r in got]
    assert seqs == sorted(seqs)
    wait_for(lambda: mapping_of(lam, created["UUID"])["LastProcessingResult"] == "OK")
    cli = aws_cli("lambda", "get-event-source-mapping", "--uuid", created["UUID"])
    assert cli["State"] == "Enabled"
    assert cli["EventSourceArn"] == arn


def test_batch_size_caps_each_invocation(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    put(kinesis, stream, *[f"r{i}" for i in range(5)])
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=2)
    assert created["BatchSize"] == 2
    got = drain(sqs, out, 5)
    assert [data_of(g["record"]) for g in got] == [f"r{i}" for i in range(5)]
    assert [g["batch"] for g in got] == [2, 2, 2, 2, 1]


def test_filters_match_the_decoded_json_data(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    pattern = {"data": {"kind": ["order"], "total": [{"numeric": [">", 100]}]}}
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    assert json.loads(created["FilterCriteria"]["Filters"][0]["Pattern"]) == pattern
    put(kinesis, stream,
        json.dumps({"kind": "order", "total": 150}),
        json.dumps({"kind": "order", "total": 5}),
        json.dumps({"kind": "refund", "total": 500}),
        "kind order total 500",
        json.dumps({"kind": "order", "total": 101}))
    got = [json.loads(data_of(g["record"])) for g in drain(sqs, out, 2)]
    assert got == [{"kind": "order", "total": 150}, {"kind": "order", "total": 101}]
    nothing_more(sqs, out)


def test_latest_skips_what_the_stream_held_and_trim_horizon_reads_it(lam, sqs, kinesis, unique_name):
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    put(kinesis, stream, "old")
    latest_fn, latest_out = relay(lam, sqs, unique_name, fifo=True)
    oldest_fn, oldest_out = relay(lam, sqs, unique_name, fifo=True)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=latest_fn, StartingPosition="LATEST")
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=oldest_fn, StartingPosition="TRIM_HORIZON")
    put(kinesis, stream, "new")
    assert [data_of(g["record"]) for g in drain(sqs, latest_out, 1)] == ["new"]
    assert [data_of(g["record"]) for g in drain(sqs, oldest_out, 2)] == ["old", "new"]
    nothing_more(sqs, latest_out)


def test_at_timestamp_starts_at_the_first_record_from_then(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    put(kinesis, stream, "before")
    # boto3 sends the timestamp in whole seconds: leave more than a second either side.
    time.sleep(1.5)
    at = datetime.now(timezone.utc)
    time.sleep(1.1)
    put(kinesis, stream, "after")
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=at)
    assert created["StartingPosition"] == "AT_TIMESTAMP"
    assert abs(created["StartingPositionTimestamp"].timestamp() - at.timestamp()) < 1
    assert [data_of(g["record"]) for g in drain(sqs, out, 1)] == ["after"]
    nothing_more(sqs, out)


def test_a_mapping_of_a_stream_consumer_reads_its_stream(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=unique_name("c"))["Consumer"]["ConsumerARN"]
    wait_for(lambda: kinesis.describe_stream_consumer(ConsumerARN=consumer)
             ["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE")
    created = lam.create_event_source_mapping(EventSourceArn=consumer, FunctionName=name, StartingPosition="LATEST")
    assert created["EventSourceArn"] == consumer
    put(kinesis, stream, "fan-out")
    (got,) = drain(sqs, out, 1)
    assert data_of(got["record"]) == "fan-out"
    assert lam.list_event_source_mappings(EventSourceArn=consumer)["EventSourceMappings"][0]["UUID"] == created["UUID"]


def test_every_shard_is_read_and_each_keeps_its_order(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream, shards=3)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON", ParallelizationFactor=4)
    written = {}
    for i in range(12):
        key = f"key-{i % 4}"
        ((shard, seq),) = put(kinesis, stream, f"{key}/{i}", key=key)
        written[seq] = shard
    got = [g["record"] for g in drain(sqs, out, 12)]
    assert {r["kinesis"]["sequenceNumber"] for r in got} == set(written)
    for r in got:
        assert r["eventID"] == f"{written[r['kinesis']['sequenceNumber']]}:{r['kinesis']['sequenceNumber']}"
    for key in {f"key-{i % 4}" for i in range(12)}:
        mine = [int(data_of(r).split("/")[1]) for r in got if data_of(r).startswith(key + "/")]
        assert mine == sorted(mine)
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"][0]["ParallelizationFactor"] == 4


def test_shards_a_reshard_opens_are_read_after_their_parent(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON")
    ((parent, _),) = put(kinesis, stream, "a1", key="a")
    put(kinesis, stream, "b1", key="b")
    kinesis.split_shard(StreamName=stream, ShardToSplit=parent, NewStartingHashKey=str(2**127))
    wait_for(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    children = {s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"] if s.get("ParentShardId") == parent}
    assert len(children) == 2
    later = put(kinesis, stream, "a2", key="a") + put(kinesis, stream, "b2", key="b")
    assert {shard for shard, _ in later} <= children
    got = [g["record"] for g in drain(sqs, out, 4)]
    # The parent is read to its end before its children: each key keeps its order.
    assert sorted(data_of(r) for r in got[:2]) == ["a1", "b1"]
    assert sorted(data_of(r) for r in got[2:]) == ["a2", "b2"]
    assert {r["eventID"].split(":")[0] for r in got[2:]} == {shard for shard, _ in later}
    nothing_more(sqs, out)


# --------------------------------------------------------------------------- failures


def test_retries_exhausted_send_awss_invocation_record_to_the_sqs_destination(lam, sqs, kinesis, unique_name):
    f = failing_mapping(lam, sqs, kinesis, unique_name, MaximumRetryAttempts=1)
    uuid, stream, arn, name, dest_url = f.uuid, f.stream, f.arn, f.function, f.dest_url
    ((shard, seq),) = put(kinesis, stream, "poison")
    doc = given_up(sqs, f)
    assert set(doc) == {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}
    assert doc["version"] == "1.0"
    assert ISO_MILLIS.match(doc["timestamp"])
    ctx = doc["requestContext"]
    assert ctx["condition"] == "RetryAttemptsExhausted"
    assert ctx["approximateInvokeCount"] == 2
    assert ctx["functionArn"].endswith(f":function:{name}")
    assert ctx["requestId"]
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = doc["KinesisBatchInfo"]
    assert info["shardId"] == shard
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seq
    assert info["batchSize"] == 1
    assert info["streamArn"] == arn
    assert ISO_MILLIS.match(info["approximateArrivalOfFirstRecord"])
    assert info["approximateArrivalOfFirstRecord"] == info["approximateArrivalOfLastRecord"]
    m = mapping_of(lam, uuid)
    assert m["LastProcessingResult"] == "PROBLEM: Function call failed"
    assert m["DestinationConfig"] == {"OnFailure": {"Destination": f.dest_arn}}
    # The poller moved on: the record is not given up on twice.
    nothing_more(sqs, dest_url)


def test_bisect_splits_a_failing_batch_until_the_bad_record_stands_alone(lam, sqs, kinesis, unique_name):
    name, log = batch_logger(lam, sqs, unique_name, "raise")
    f = failing_mapping(lam, sqs, kinesis, unique_name, name=name, records=("a", "b", "bad", "d"),
                        BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0)
    assert drain(sqs, log, 5) == [["a", "b", "bad", "d"], ["a", "b"], ["bad", "d"], ["bad"], ["d"]]
    info = given_up(sqs, f)["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == f.written[2][1]
    nothing_more(sqs, log)


def test_batch_item_failures_retry_from_the_lowest_failed_record(lam, sqs, kinesis, unique_name):
    name, log = batch_logger(lam, sqs, unique_name, "report")
    f = failing_mapping(lam, sqs, kinesis, unique_name, name=name, records=("a", "bad", "c"),
                        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1)
    assert mapping_of(lam, f.uuid)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # "a" is checkpointed; the retry starts at "bad"; after it the batch is given up on.
    assert drain(sqs, log, 2) == [["a", "bad", "c"], ["bad", "c"]]
    info = given_up(sqs, f)["KinesisBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        2, f.written[1][1], f.written[2][1])
    put(kinesis, f.stream, "e")
    assert drain(sqs, log, 1) == [["e"]]


def test_records_older_than_the_maximum_age_are_given_up_on(kagami_process, unique_name):
    server = kagami_process()
    lam, sqs, kinesis = server.client("lambda"), server.client("sqs"), server.client("kinesis")
    f = failing_mapping(lam, sqs, kinesis, unique_name, MaximumRecordAgeInSeconds=60)
    uuid, stream, dest_url = f.uuid, f.stream, f.dest_url
    put(kinesis, stream, "stale")
    wait_for(lambda: mapping_of(lam, uuid)["LastProcessingResult"] == "PROBLEM: Function call failed")
    # With infinite retries only the record's age ends them.
    assert sqs.receive_message(QueueUrl=dest_url, WaitTimeSeconds=1).get("Messages") is None
    server.advance_clock(120)
    doc = given_up(sqs, f)
    assert doc["requestContext"]["condition"] == "RecordAgeExceeded"
    assert doc["KinesisBatchInfo"]["batchSize"] == 1


def test_an_sns_topic_as_on_failure_destination_gets_the_record(lam, sqs, kinesis, aws_client, unique_name):
    name = unique_name("fn")
    create_python(lam, name, FAILING)
    topic, inbox_url = topic_with_inbox(aws_client("sns"), sqs, unique_name)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    ((shard, seq),) = put(kinesis, stream, "poison")
    (msg,) = wait_for(lambda: sqs.receive_message(QueueUrl=inbox_url, WaitTimeSeconds=1).get("Messages"))
    doc = json.loads(msg["Body"])
    assert doc["requestContext"]["approximateInvokeCount"] == 1
    assert (doc["KinesisBatchInfo"]["shardId"], doc["KinesisBatchInfo"]["startSequenceNumber"]) == (shard, seq)


def test_dynamodb_stream_mappings_share_the_stream_options(lam, sqs, aws_client, unique_name):
    ddb = aws_client("dynamodb")
    name = unique_name("fn")
    create_python(lam, name, FAILING)
    topic, inbox_url = topic_with_inbox(aws_client("sns"), sqs, unique_name)
    table = unique_name("t")
    stream = ddb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]["LatestStreamArn"]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=name, StartingPosition="LATEST",
                                        MaximumRecordAgeInSeconds=59)
    assert error_of(e)[:2] == ("InvalidParameterValueException",
                               "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)")
    for pk in ("a", "b"):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}})
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=2,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    # The batch of two is bisected; each half fails once and goes to the topic on its own.
    got = []
    wait_for(lambda: got.extend(sqs.receive_message(QueueUrl=inbox_url, WaitTimeSeconds=1).get("Messages", [])) or len(got) >= 2)
    infos = [json.loads(m["Body"])["DDBStreamBatchInfo"] for m in got]
    assert [i["batchSize"] for i in infos] == [1, 1]
    assert infos[0]["startSequenceNumber"] != infos[1]["startSequenceNumber"]
    assert all(i["streamArn"] == stream for i in infos)


def test_a_tumbling_window_carries_state_to_its_final_invocation(kagami_process, unique_name):
    server = kagami_process()
    lam, sqs, kinesis = server.client("lambda"), server.client("sqs"), server.client("kinesis")
    out, _ = make_queue(sqs, unique_name("log") + ".fifo", FifoQueue="true")
    name = unique_name("fn")
    create_python(lam, name, WINDOW_COUNTER, Environment={"Variables": {"OUT_URL": out}}, Timeout=30)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    ((shard, _),) = put(kinesis, stream, "a")
    put(kinesis, stream, "b")
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON", TumblingWindowInSeconds=60)
    assert created["TumblingWindowInSeconds"] == 60
    (first,) = drain(sqs, out, 1)
    assert first["data"] == ["a", "b"]
    assert first["state"] == {}
    assert (first["shardId"], first["eventSourceARN"]) == (shard, arn)
    assert (first["isFinalInvokeForWindow"], first["isWindowTerminatedEarly"]) == (False, False)
    start, end = (datetime.fromisoformat(first["window"][k].replace("Z", "+00:00")) for k in ("start", "end"))
    assert (end - start).total_seconds() == 60 and start.timestamp() % 60 == 0
    nothing_more(sqs, out)
    # When the window's time is up, the last invocation gets the state the others built.
    server.advance_clock(120)
    (final,) = drain(sqs, out, 1)
    assert final["data"] == []
    assert final["state"] == {"count": 2}
    assert final["isFinalInvokeForWindow"] is True
    assert final["window"] == first["window"]
    put(kinesis, stream, "c")
    (later,) = drain(sqs, out, 1)
    assert (later["data"], later["state"], later["isFinalInvokeForWindow"]) == (["c"], {}, False)
    assert later["window"]["start"] >= first["window"]["end"]


# --------------------------------------------------------------------------- control plane


def test_disabling_stops_delivery_and_enabling_resumes_it(lam, sqs, kinesis, unique_name):
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST")["UUID"]
    wait_for(lambda: mapping_of(lam, uuid)["State"] == "Enabled")
    put(kinesis, stream, "first")
    assert [data_of(g["record"]) for g in drain(sqs, out, 1)] == ["first"]
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert mapping_of(lam, uuid)["State"] == "Disabled"
    put(kinesis, stream, "second")
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=3).get("Messages") is None
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    # Enabling resumes after the last record processed: "first" is not delivered again.
    assert [data_of(g["record"]) for g in drain(sqs, out, 1)] == ["second"]
    nothing_more(sqs, out)
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=uuid)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_update_changes_the_stream_options(lam, sqs, kinesis, unique_name):
    name, _ = relay(lam, sqs, unique_name, fifo=True)
    _, dest_arn = make_queue(sqs, unique_name("failed"))
    arn = make_stream(kinesis, unique_name("s"))
    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST", Enabled=False)["UUID"]
    updated = lam.update_event_source_mapping(
        UUID=uuid, BatchSize=500, MaximumBatchingWindowInSeconds=5, ParallelizationFactor=10,
        MaximumRetryAttempts=10000, MaximumRecordAgeInSeconds=604800, BisectBatchOnFunctionError=True,
        TumblingWindowInSeconds=60, FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    assert updated["State"] == "Updating"
    got = mapping_of(lam, uuid)
    assert got["State"] == "Disabled"
    assert (got["BatchSize"], got["MaximumBatchingWindowInSeconds"], got["ParallelizationFactor"]) == (500, 5, 10)
    assert (got["MaximumRetryAttempts"], got["MaximumRecordAgeInSeconds"]) == (10000, 604800)
    assert got["BisectBatchOnFunctionError"] is True
    assert got["TumblingWindowInSeconds"] == 60
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert got["DestinationConfig"] == {"OnFailure": {"Destination": dest_arn}}
    with pytest.raises(ClientError) as e:
        lam.update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=59)
    assert error_of(e) == ("InvalidParameterValueException",
                           "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)", 400)
    lam.delete_event_source_mapping(UUID=uuid)


def test_validation_errors_are_awss(lam, sqs, kinesis, unique_name):
    name, _ = relay(lam, sqs, unique_name)
    arn = make_stream(kinesis, unique_name("s"))
    missing = arn.rsplit("/", 1)[0] + "/" + unique_name("missing")
    null_position = ("InvalidParameterValueException",
                     "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
                     "Member must not be null.", 400)

    def too_big(value, member, limit):
        return ("ValidationException",
                f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {limit}", 400)

    cases = [
        (dict(), null_position),
        (dict(StartingPosition="LATEST", StartingPositionTimestamp=datetime.now(timezone.utc)),
         ("InvalidParameterValueException", "Timestamp only valid with StartingPosition AT_TIMESTAMP", 400)),
        (dict(StartingPosition="LATEST", BatchSize=10001), too_big(10001, "batchSize", 10000)),
        (dict(StartingPosition="LATEST", ParallelizationFactor=11), too_big(11, "parallelizationFactor", 10)),
        (dict(StartingPosition="LATEST", MaximumRetryAttempts=10001), too_big(10001, "maximumRetryAttempts", 10000)),
        (dict(StartingPosition="LATEST", MaximumRecordAgeInSeconds=604801),
         too_big(604801, "maximumRecordAgeInSeconds", 604800)),
        (dict(StartingPosition="LATEST", MaximumRecordAgeInSeconds=30),
         ("InvalidParameterValueException",
          "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)", 400)),
        (dict(StartingPosition="LATEST", FilterCriteria={"Filters": [{"Pattern": "{\"data\": 1}"}]}),
         ("InvalidParameterValueException", "Invalid filter pattern definition.", 400)),
        (dict(EventSourceArn=missing, StartingPosition="LATEST"),
         ("InvalidParameterValueException", f"Stream not found: {missing}", 400)),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(**{"EventSourceArn": arn, "FunctionName": name, **kwargs})
        assert error_of(e) == expected, kwargs
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="AT_TIMESTAMP")
    assert error_of(e)[0] == "InvalidParameterValueException"
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []

    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST", Enabled=False)["UUID"]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST")
    assert error_of(e) == (
        "ResourceConflictException",
        f'The event source arn (" {arn} ") and function (" {name} ") provided mapping already exists. '
        f"Please update or delete the existing mapping with UUID {uuid}",
        409,
    )
    lam.delete_event_source_mapping(UUID=uuid)


# --------------------------------------------------------------------------- durability


def test_a_durable_restart_resumes_after_the_last_record_processed(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam, sqs, kinesis = server.client("lambda"), server.client("sqs"), server.client("kinesis")
    name, out = relay(lam, sqs, unique_name, fifo=True)
    stream = unique_name("s")
    arn = make_stream(kinesis, stream)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON")["UUID"]
    put(kinesis, stream, "one", "two")
    assert [data_of(g["record"]) for g in drain(sqs, out, 2)] == ["one", "two"]
    wait_for(lambda: mapping_of(lam, uuid)["LastProcessingResult"] == "OK")
    time.sleep(0.5)  # the checkpoint is saved right after the batch succeeds
    server.kill9()
    server.restart()
    lam, sqs, kinesis = server.client("lambda"), server.client("sqs"), server.client("kinesis")
    assert mapping_of(lam, uuid)["State"] == "Enabled"
    put(kinesis, stream, "three")
    # Records delivered before the restart are not delivered again.
    assert [data_of(g["record"]) for g in drain(sqs, out, 1)] == ["three"]
    nothing_more(sqs, out)
