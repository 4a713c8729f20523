"""Kinesis Data Streams for DynamoDB: Enable/Disable/Describe/UpdateKinesisStreamingDestination,
and every item change of a table with an ACTIVE destination put into the Kinesis stream
as DynamoDB's JSON record (both images, INSERT/MODIFY/REMOVE), durably.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import new_account

REGION = "us-east-1"


@pytest.fixture
def account():
    return new_account()


@pytest.fixture
def ddb(aws_client, account):
    return aws_client("dynamodb", account=account)


@pytest.fixture
def kinesis(aws_client, account):
    return aws_client("kinesis", account=account)


def make_table(ddb, name, range_key=False):
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})


def make_stream(kinesis, name):
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def read_records(kinesis, stream, expected, timeout=10.0):
    """Every record of the stream's shard from TRIM_HORIZON, polling until `expected` are there."""
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    deadline = time.time() + timeout
    while True:
        it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out = []
        while it:
            page = kinesis.get_records(ShardIterator=it)
            out += page["Records"]
            if not page["Records"]:
                break
            it = page.get("NextShardIterator")
        if len(out) >= expected or time.time() > deadline:
            return [(r["PartitionKey"], json.loads(r["Data"])) for r in out]
        time.sleep(0.1)


def enable(ddb, table, arn, **config):
    kwargs = {"EnableKinesisStreamingConfiguration": config} if config else {}
    return ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn, **kwargs)


def test_enable_then_every_item_change_is_a_kinesis_record(ddb, kinesis, unique_name):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table)
    arn = make_stream(kinesis, stream)
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == []

    out = enable(ddb, table, arn)
    assert out["TableName"] == table
    assert out["StreamArn"] == arn
    assert out["DestinationStatus"] == "ENABLING"
    desc = ddb.describe_kinesis_streaming_destination(TableName=table)
    assert desc["TableName"] == table
    [dest] = desc["KinesisDataStreamDestinations"]
    assert dest["StreamArn"] == arn
    assert dest["DestinationStatus"] == "ACTIVE"
    assert dest["ApproximateCreationDateTimePrecision"] == "MICROSECOND"

    before_us = int(time.time() * 1_000_000) - 60_000_000
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    # A write that leaves the item as it was changes nothing: no record.
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "b"}, "w": {"S": "x"}}}}]})
    ddb.transact_write_items(TransactItems=[{"Update": {"TableName": table, "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET w = :w",
                                                        "ExpressionAttributeValues": {":w": {"S": "y"}}}}])
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'c', 'n': 5}}")

    records = read_records(kinesis, stream, 6)
    data = [d for _, d in records]
    assert [(d["eventName"], d["dynamodb"]["Keys"]["pk"]["S"]) for d in data] == [
        ("INSERT", "a"), ("MODIFY", "a"), ("REMOVE", "a"), ("INSERT", "b"), ("MODIFY", "b"), ("INSERT", "c")]
    for d in data:
        assert d["tableName"] == table
        assert d["awsRegion"] == REGION
        assert d["eventSource"] == "aws:dynamodb"
        assert d["recordFormat"] == "application/json"
        assert d["userIdentity"] is None
        assert d["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
        assert d["dynamodb"]["ApproximateCreationDateTime"] > before_us
        assert d["dynamodb"]["SizeBytes"] > 0
    assert len({d["eventID"] for d in data}) == 6
    insert, modify, remove = data[0]["dynamodb"], data[1]["dynamodb"], data[2]["dynamodb"]
    assert insert["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in insert
    assert modify["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert modify["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}}
    assert remove["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}} and "NewImage" not in remove
    assert data[4]["dynamodb"]["NewImage"]["w"] == {"S": "y"}
    assert data[5]["dynamodb"]["NewImage"] == {"pk": {"S": "c"}, "n": {"N": "5"}}
    # The partition key is a hash of the item's key: the same for every change of an item.
    keys = [pk for pk, _ in records]
    assert keys[0] == keys[1] == keys[2]
    assert keys[0] != keys[3]


def test_millisecond_precision_and_update(ddb, kinesis, unique_name):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table, range_key=True)
    arn = make_stream(kinesis, stream)
    out = enable(ddb, table, arn, ApproximateCreationDateTimePrecision="MILLISECOND")
    assert out["EnableKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MILLISECOND"}
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    [(_, first)] = read_records(kinesis, stream, 1)
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert first["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MILLISECOND"
    assert abs(first["dynamodb"]["ApproximateCreationDateTime"] - time.time() * 1000) < 600_000

    up = ddb.update_kinesis_streaming_destination(TableName=table, StreamArn=arn,
                                                  UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert up["DestinationStatus"] == "UPDATING"
    assert up["UpdateKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    [dest] = ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]
    assert (dest["DestinationStatus"], dest["ApproximateCreationDateTimePrecision"]) == ("ACTIVE", "MICROSECOND")
    with pytest.raises(ClientError) as e:
        ddb.update_kinesis_streaming_destination(TableName=table, StreamArn=arn,
                                                 UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert e.value.response["Error"]["Code"] == "ValidationException"

    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "2"}})
    records = read_records(kinesis, stream, 2)
    assert records[1][1]["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    assert records[1][1]["dynamodb"]["ApproximateCreationDateTime"] > 1000 * first["dynamodb"]["ApproximateCreationDateTime"] - 1000


def test_disable_stops_records(ddb, kinesis, unique_name, aws_cli, account):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table)
    arn = make_stream(kinesis, stream)
    enable(ddb, table, arn)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    assert len(read_records(kinesis, stream, 1)) == 1

    out = ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert out["DestinationStatus"] == "DISABLING"
    described = aws_cli("dynamodb", "describe-kinesis-streaming-destination", "--table-name", table, account=account)
    assert described["KinesisDataStreamDestinations"][0]["StreamArn"] == arn
    assert described["KinesisDataStreamDestinations"][0]["DestinationStatus"] == "DISABLED"

    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    time.sleep(0.5)
    records = read_records(kinesis, stream, 2, timeout=1.0)
    assert [d["dynamodb"]["Keys"]["pk"]["S"] for _, d in records] == ["before"]

    with pytest.raises(ClientError) as e:
        ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert e.value.response["Error"]["Code"] == "ValidationException"

    # Enabled again, the same destination is ACTIVE once more and streams again.
    enable(ddb, table, arn)
    [dest] = ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]
    assert dest["DestinationStatus"] == "ACTIVE"
    ddb.put_item(TableName=table, Item={"pk": {"S": "again"}})
    assert [d["dynamodb"]["Keys"]["pk"]["S"] for _, d in read_records(kinesis, stream, 2)] == ["before", "again"]


def test_errors(ddb, kinesis, unique_name, account):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table)
    arn = make_stream(kinesis, stream)
    missing = f"arn:aws:kinesis:{REGION}:{account}:stream/{unique_name('nope')}"

    def code(call, **kwargs):
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        return e.value.response["Error"]["Code"]

    assert code(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=missing) == "ResourceNotFoundException"
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == []
    assert code(ddb.enable_kinesis_streaming_destination, TableName=unique_name("none"), StreamArn=arn) == "ResourceNotFoundException"
    assert code(ddb.describe_kinesis_streaming_destination, TableName=unique_name("none")) == "ResourceNotFoundException"
    assert code(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=arn,
                EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"}) == "ValidationException"
    # Not a destination of the table: ValidationException, unless the stream does not exist.
    assert code(ddb.disable_kinesis_streaming_destination, TableName=table, StreamArn=arn) == "ValidationException"
    assert code(ddb.disable_kinesis_streaming_destination, TableName=table, StreamArn=missing) == "ResourceNotFoundException"
    assert code(ddb.update_kinesis_streaming_destination, TableName=table, StreamArn=arn,
                UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"}) == "ValidationException"

    enable(ddb, table, arn)
    assert code(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=arn) == "ValidationException"
    [dest] = ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]
    assert dest["DestinationStatus"] == "ACTIVE"


def test_ttl_deletion_names_the_dynamodb_service(ddb, kinesis, unique_name):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table)
    arn = make_stream(kinesis, stream)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    enable(ddb, table, arn)
    # Already expired: the sweep deletes it within a second.
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "exp": {"N": str(int(time.time()) - 3600)}})
    records = read_records(kinesis, stream, 2)
    assert [d["eventName"] for _, d in records] == ["INSERT", "REMOVE"]
    assert records[0][1]["userIdentity"] is None
    assert records[1][1]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert records[1][1]["dynamodb"]["OldImage"]["pk"] == {"S": "old"}


def test_other_accounts_and_regions_see_no_destination(aws_client, ddb, kinesis, unique_name, account):
    table, stream = unique_name("t"), unique_name("s")
    make_table(ddb, table)
    arn = make_stream(kinesis, stream)
    enable(ddb, table, arn)
    other_region = aws_client("dynamodb", region="eu-west-1", account=account)
    make_table(other_region, table)
    assert other_region.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == []
    other_region.put_item(TableName=table, Item={"pk": {"S": "elsewhere"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "here"}})
    time.sleep(0.3)
    assert [d["dynamodb"]["Keys"]["pk"]["S"] for _, d in read_records(kinesis, stream, 2, timeout=1.0)] == ["here"]


def test_destination_survives_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb, kinesis = server.client("dynamodb"), server.client("kinesis")
    make_table(ddb, "orders")
    arn = make_stream(kinesis, "changes")
    enable(ddb, "orders", arn, ApproximateCreationDateTimePrecision="MILLISECOND")
    ddb.put_item(TableName="orders", Item={"pk": {"S": "one"}})
    assert len(read_records(kinesis, "changes", 1)) == 1
    server.kill9()
    server.restart()
    ddb, kinesis = server.client("dynamodb"), server.client("kinesis")
    [dest] = ddb.describe_kinesis_streaming_destination(TableName="orders")["KinesisDataStreamDestinations"]
    assert (dest["StreamArn"], dest["DestinationStatus"], dest["ApproximateCreationDateTimePrecision"]) == (arn, "ACTIVE", "MILLISECOND")
    ddb.put_item(TableName="orders", Item={"pk": {"S": "two"}})
    records = read_records(kinesis, "changes", 2)
    assert [d["dynamodb"]["Keys"]["pk"]["S"] for _, d in records][-1] == "two"


def test_changes_acknowledged_before_a_kill_reach_the_stream(kagami_process, tmp_path):
    """Records are stored with the item change, so a kill -9 right after the writes
    loses none: the restarted server puts those not yet in the stream (at least once)."""
    server = kagami_process(data_dir=tmp_path / "data")
    ddb, kinesis = server.client("dynamodb"), server.client("kinesis")
    make_table(ddb, "burst")
    arn = make_stream(kinesis, "burst-changes")
    enable(ddb, "burst", arn)
    keys = [f"item-{i:04d}" for i in range(500)]
    for start in range(0, len(keys), 25):
        ddb.batch_write_item(RequestItems={"burst": [
            {"PutRequest": {"Item": {"pk": {"S": k}}}} for k in keys[start:start + 25]]})
    server.kill9()
    server.restart()
    kinesis = server.client("kinesis")
    records = read_records(kinesis, "burst-changes", len(keys), timeout=20)
    inserted = {d["dynamodb"]["Keys"]["pk"]["S"] for _, d in records if d["eventName"] == "INSERT"}
    assert inserted == set(keys)
