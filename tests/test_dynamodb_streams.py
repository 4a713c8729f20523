"""DynamoDB Streams: records of every item write on a table with a stream (INSERT, MODIFY,
REMOVE in commit order, images per StreamViewType, none for a write that changes nothing),
the Streams API (ListStreams, DescribeStream, GetShardIterator, GetRecords), TTL deletions
by the service, disabling and re-enabling, and records that survive kill -9."""

from __future__ import annotations

import re
import time

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of


def stream_table(ddb, name, view_type="NEW_AND_OLD_IMAGES", range_key=None):
    out = create_table(
        ddb, name, range_key=range_key,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    return out["LatestStreamArn"]


def shard_of(streams, arn):
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return shards[0]


def read_all(streams, arn, iterator_type="TRIM_HORIZON", **kwargs):
    shard = shard_of(streams, arn)
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=iterator_type, **kwargs
    )["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_records_follow_every_kind_of_write_in_order(aws_client, unique_name):
    ddb, streams = aws_client("dynamodb"), aws_client("dynamodbstreams")
    name = unique_name("orders")
    arn = stream_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}},
    ]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"pk": {"S": "c"}}}},
        {"Delete": {"TableName": name, "Key": {"pk": {"S": "b"}}}},
    ])
    ddb.execute_statement(Statement=f"UPDATE \"{name}\" SET v = 9 WHERE pk = 'c'")
    ddb.delete_item(TableName=name, Key={"pk": {"S": "c"}})
    # Writes that change nothing leave no record: an identical put, a delete of nothing.
    ddb.put_item(TableName=name, Item={"pk": {"S": "z"}, "v": {"N": "1"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "z"}, "v": {"N": "1"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "z"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "1"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "nothing"}})

    records = read_all(streams, arn)
    got = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    assert got[:2] == [("INSERT", "a"), ("MODIFY", "a")]
    assert sorted(got[2:4]) == [("INSERT", "b"), ("REMOVE", "a")]
    assert sorted(got[4:6]) == [("INSERT", "c"), ("REMOVE", "b")]
    assert got[6:] == [("MODIFY", "c"), ("REMOVE", "c"), ("INSERT", "z")]
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    first = records[0]
    assert re.fullmatch(r"\d{21,}", first["dynamodb"]["SequenceNumber"])
    assert first["eventVersion"] == "1.1"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == "us-east-1"
    assert first["eventID"]
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert first["dynamodb"]["SizeBytes"] > 0
    assert abs(first["dynamodb"]["ApproximateCreationDateTime"].timestamp() - time.time()) < 120
    assert "userIdentity" not in first
    modify = records[1]["dynamodb"]
    assert modify["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert modify["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}}


@pytest.mark.parametrize("view_type,new,old", [
    ("KEYS_ONLY", False, False),
    ("NEW_IMAGE", True, False),
    ("OLD_IMAGE", False, True),
    ("NEW_AND_OLD_IMAGES", True, True),
])
def test_images_follow_the_view_type(aws_client, unique_name, view_type, new, old):
    ddb, streams = aws_client("dynamodb"), aws_client("dynamodbstreams")
    name = unique_name("views")
    arn = stream_table(ddb, name, view_type, range_key=("sk", "N"))
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "two"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    insert, modify, remove = read_all(streams, arn)
    keys = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    for r in (insert, modify, remove):
        assert r["dynamodb"]["Keys"] == keys
        assert r["dynamodb"]["StreamViewType"] == view_type
    assert ("NewImage" in insert["dynamodb"]) == new
    assert ("OldImage" in insert["dynamodb"]) is False
    assert ("NewImage" in remove["dynamodb"]) is False
    assert ("OldImage" in remove["dynamodb"]) == old
    if new:
        assert modify["dynamodb"]["NewImage"]["v"] == {"S": "two"}
    if old:
        assert modify["dynamodb"]["OldImage"]["v"] == {"S": "one"}
        assert remove["dynamodb"]["OldImage"]["v"] == {"S": "two"}


def test_list_and_describe_streams(aws_client, unique_name):
    ddb, streams = aws_client("dynamodb"), aws_client("dynamodbstreams")
    names = [unique_name("listed") for _ in range(3)]
    arns = [stream_table(ddb, n, "KEYS_ONLY") for n in names]
    for name, arn in zip(names, arns):
        listed = streams.list_streams(TableName=name)["Streams"]
        assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": arn.rsplit("/", 1)[1]}]
    seen, start = [], None
    while True:
        kwargs = {"ExclusiveStartStreamArn": start} if start else {}
        page = streams.list_streams(Limit=1, **kwargs)
        assert len(page["Streams"]) <= 1
        seen += [s["StreamArn"] for s in page["Streams"]]
        start = page.get("LastEvaluatedStreamArn")
        if not start:
            break
    assert set(arns) <= set(seen) and len(seen) == len(set(seen))

    description = streams.describe_stream(StreamArn=arns[0])["StreamDescription"]
    assert description["StreamArn"] == arns[0]
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "KEYS_ONLY"
    assert description["TableName"] == names[0]
    assert description["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert description["StreamLabel"] == arns[0].rsplit("/", 1)[1]
    assert "CreationRequestDateTime" in description
    (shard,) = description["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert "StartingSequenceNumber" in shard["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]

    missing = arns[0].rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=missing)
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    assert error_of(e)["Status"] == 400


def test_iterator_types_and_pagination(aws_client, unique_name):
    ddb, streams = aws_client("dynamodb"), aws_client("dynamodbstreams")
    name = unique_name("iter")
    arn = stream_table(ddb, name, "NEW_IMAGE")
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    shard_id = shard_of(streams, arn)["ShardId"]

    def iterator(kind, **kwargs):
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **kwargs)["ShardIterator"]

    # Pages of two, each with the iterator the last returned.
    it, pages = iterator("TRIM_HORIZON"), []
    for _ in range(3):
        out = streams.get_records(ShardIterator=it, Limit=2)
        pages.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]])
        it = out["NextShardIterator"]
    assert pages == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    assert streams.get_records(ShardIterator=it)["Records"] == []

    all_records = read_all(streams, arn)
    third = all_records[2]["dynamodb"]["SequenceNumber"]
    at = streams.get_records(ShardIterator=iterator("AT_SEQUENCE_NUMBER", SequenceNumber=third))["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["k2", "k3", "k4"]
    after = streams.get_records(ShardIterator=iterator("AFTER_SEQUENCE_NUMBER", SequenceNumber=third))["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["k3", "k4"]

    latest = iterator("LATEST")
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    ddb.put_item(TableName=name, Item={"pk": {"S": "k5"}})
    out = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["k5"]
    assert out["NextShardIterator"]

    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=latest, Limit=1001)
    assert error_of(e)["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000", ShardIteratorType="LATEST")
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        iterator("AT_SEQUENCE_NUMBER")
    assert error_of(e)["Code"] == "ValidationException"


def test_disabling_closes_the_shard_and_enabling_opens_a_new_stream(aws_client, unique_name):
    ddb, streams = aws_client("dynamodb"), aws_client("dynamodbstreams")
    name = unique_name("toggle")
    first = stream_table(ddb, name, "KEYS_ONLY")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    shard = shard_of(streams, first)
    it = streams.get_shard_iterator(StreamArn=first, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})
    description = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert description["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in description["Shards"][0]["SequenceNumberRange"]
    # The closed shard's last read has no next iterator.
    out = streams.get_records(ShardIterator=it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["a"]
    assert "NextShardIterator" not in out

    time.sleep(0.01)
    second = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )["TableDescription"]["LatestStreamArn"]
    assert second != first
    ddb.put_item(TableName=name, Item={"pk": {"S": "c"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, second)] == ["c"]
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]}
    assert listed == {first, second}


@pytest.mark.slow
def test_ttl_deletions_are_removes_by_the_service_and_records_survive_kill9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
    arn = stream_table(ddb, "sessions", "NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    now = int(time.time())
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "short"}, "expires": {"N": str(now + 3600)}})
    ddb.delete_item(TableName="sessions", Key={"pk": {"S": "absent"}})
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "user"}})
    ddb.delete_item(TableName="sessions", Key={"pk": {"S": "user"}})
    assert server.advance_clock(7200).status_code == 200
    assert wait_for(lambda: len(read_all(streams, arn)) == 4)
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "REMOVE", "REMOVE"]
    user_remove, ttl_remove = records[2], records[3]
    assert "userIdentity" not in user_remove
    # The Streams API's Identity shape (a Lambda event spells it type/principalId).
    assert ttl_remove["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert ttl_remove["dynamodb"]["Keys"] == {"pk": {"S": "short"}}
    assert ttl_remove["dynamodb"]["OldImage"]["expires"] == {"N": str(now + 3600)}
    assert ttl_remove["dynamodb"]["ApproximateCreationDateTime"].timestamp() >= now + 7000

    server.kill9()
    server.restart()
    ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
    assert ddb.describe_table(TableName="sessions")["Table"]["LatestStreamArn"] == arn
    after = read_all(streams, arn)
    assert after == records
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "again"}})
    newest = read_all(streams, arn)[-1]
    assert newest["eventName"] == "INSERT"
    assert int(newest["dynamodb"]["SequenceNumber"]) > int(records[-1]["dynamodb"]["SequenceNumber"])


@pytest.mark.slow
def test_records_expire_after_24_hours_and_iterators_after_15_minutes(kagami_process):
    server = kagami_process()
    ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
    arn = stream_table(ddb, "old", "KEYS_ONLY")
    ddb.put_item(TableName="old", Item={"pk": {"S": "a"}})
    shard_id = shard_of(streams, arn)["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first_seq = read_all(streams, arn)[0]["dynamodb"]["SequenceNumber"]
    assert server.advance_clock(16 * 60).status_code == 200
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it)
    assert error_of(e)["Code"] == "ExpiredIteratorException"
    assert server.advance_clock(24 * 3600).status_code == 200
    ddb.put_item(TableName="old", Item={"pk": {"S": "b"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, arn)] == ["b"]
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first_seq)
    assert error_of(e)["Code"] == "TrimmedDataAccessException"
