"""Amazon Kinesis Data Streams: streams and shards, records routed by partition key,
every shard iterator type, pagination, retention on the emulated clock, resharding,
tags, consumers, durability and account/region isolation."""

from __future__ import annotations

import datetime
import hashlib
import random

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import error_code, new_account

MAX_HASH = 2**128 - 1


def error_message(excinfo) -> str:
    return excinfo.value.response["Error"]["Message"]


@pytest.fixture
def account():
    return new_account()


@pytest.fixture
def kinesis(aws_client, account):
    """A client in an account of its own, so listings see only this test's streams."""
    return aws_client("kinesis", account=account)


def create(kinesis, name, shards=1):
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    return kinesis.describe_stream(StreamName=name)["StreamDescription"]


def shard_for(shards, partition_key):
    h = int(hashlib.md5(partition_key.encode()).hexdigest(), 16)
    for s in shards:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= h <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError("no shard covers the key")


def iterator(kinesis, stream, shard, kind="TRIM_HORIZON", **kwargs):
    return kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=kind, **kwargs)["ShardIterator"]


def read_all(kinesis, it, limit=10000):
    """Every record from `it` until a page comes back empty."""
    out = []
    while it:
        page = kinesis.get_records(ShardIterator=it, Limit=limit)
        out += page["Records"]
        it = page.get("NextShardIterator")
        if not page["Records"]:
            break
    return out


# --------------------------------------------------------------------------- streams


def test_create_stream_describes_even_hash_key_ranges(kinesis, account, unique_name):
    name = unique_name("s")
    d = create(kinesis, name, shards=3)
    assert d["StreamName"] == name
    assert d["StreamARN"] == f"arn:aws:kinesis:us-east-1:{account}:stream/{name}"
    assert d["StreamStatus"] == "ACTIVE"
    assert d["RetentionPeriodHours"] == 24
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert d["EncryptionType"] == "NONE"
    assert d["HasMoreShards"] is False
    ids = [s["ShardId"] for s in d["Shards"]]
    assert ids == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in d["Shards"]]
    assert ranges[0] == (0, 113427455640312821154458202477256070484)
    assert ranges[-1][1] == MAX_HASH
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))
    for s in d["Shards"]:
        assert len(s["SequenceNumberRange"]["StartingSequenceNumber"]) == 56
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"]
        assert "ParentShardId" not in s
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3
    assert summary["ConsumerCount"] == 0
    assert summary["StreamARN"] == d["StreamARN"]


def test_on_demand_stream_starts_with_four_shards(kinesis, unique_name):
    name = unique_name("od")
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    d = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert d["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert d["OpenShardCount"] == 4
    limits = kinesis.describe_limits()
    assert limits["OpenShardCount"] == 4
    assert limits["OnDemandStreamCount"] == 1
    assert limits["ShardLimit"] == 500
    kinesis.update_stream_mode(StreamARN=d["StreamARN"], StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_creating_an_existing_stream_is_resource_in_use(kinesis, account, unique_name):
    name = unique_name("dup")
    create(kinesis, name)
    with pytest.raises(ClientError) as e:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert error_code(e) == "ResourceInUseException"
    assert error_message(e) == f"Stream {name} under account {account} already exists."


def test_shard_count_over_the_account_limit_is_refused(kinesis, unique_name):
    with pytest.raises(ClientError) as e:
        kinesis.create_stream(StreamName=unique_name("big"), ShardCount=501)
    assert error_code(e) == "LimitExceededException"
    with pytest.raises(ClientError) as e:
        kinesis.create_stream(StreamName="bad name!", ShardCount=1)
    assert error_code(e) == "ValidationException"


def test_missing_stream_is_resource_not_found(kinesis, account):
    for call in (
        lambda: kinesis.describe_stream(StreamName="nope"),
        lambda: kinesis.describe_stream_summary(StreamName="nope"),
        lambda: kinesis.put_record(StreamName="nope", Data=b"x", PartitionKey="k"),
        lambda: kinesis.delete_stream(StreamName="nope"),
        lambda: kinesis.list_shards(StreamName="nope"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"
        assert error_message(e) == f"Stream nope under account {account} not found."


def test_stream_arn_addresses_a_stream_like_its_name(kinesis, account, unique_name):
    name = unique_name("arn")
    d = create(kinesis, name, shards=2)
    arn = d["StreamARN"]
    assert kinesis.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"] == name
    put = kinesis.put_record(StreamARN=arn, Data=b"by-arn", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it, StreamARN=arn)["Records"]] == [b"by-arn"]
    with pytest.raises(ClientError) as e:
        kinesis.describe_stream()
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        kinesis.describe_stream(StreamName="other", StreamARN=arn)
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        kinesis.describe_stream(StreamARN=f"arn:aws:kinesis:us-east-1:{account}:stream/{name}-missing")
    assert error_code(e) == "ResourceNotFoundException"


def test_delete_stream_and_waiter_stream_not_exists(kinesis, unique_name):
    name = unique_name("del")
    create(kinesis, name)
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert name not in kinesis.list_streams()["StreamNames"]
    # The name is free again, and the new stream starts empty.
    d = create(kinesis, name)
    assert read_all(kinesis, iterator(kinesis, name, d["Shards"][0]["ShardId"])) == []


def test_list_streams_pages_with_limit_and_next_token(kinesis, unique_name):
    names = sorted(unique_name("ls") for _ in range(5))
    for n in names:
        kinesis.create_stream(StreamName=n, ShardCount=1)
    first = kinesis.list_streams(Limit=2)
    assert first["StreamNames"] == names[:2]
    assert first["HasMoreStreams"] is True
    assert [s["StreamName"] for s in first["StreamSummaries"]] == names[:2]
    assert first["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"
    second = kinesis.list_streams(NextToken=first["NextToken"], Limit=2)
    assert second["StreamNames"] == names[2:4]
    third = kinesis.list_streams(NextToken=second["NextToken"], Limit=2)
    assert third["StreamNames"] == names[4:]
    assert third["HasMoreStreams"] is False
    assert "NextToken" not in third
    assert kinesis.list_streams(ExclusiveStartStreamName=names[2])["StreamNames"] == names[3:]
    paginated = [n for page in kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}) for n in page["StreamNames"]]
    assert paginated == names


def test_describe_stream_pages_shards(kinesis, unique_name):
    name = unique_name("pg")
    create(kinesis, name, shards=5)
    page = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    assert page["HasMoreShards"] is True
    page = kinesis.describe_stream(StreamName=name, Limit=2, ExclusiveStartShardId="shardId-000000000003")["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000004"]
    assert page["HasMoreShards"] is False


def test_list_shards_pages_with_next_token(kinesis, unique_name):
    name = unique_name("lsh")
    create(kinesis, name, shards=5)
    first = kinesis.list_shards(StreamName=name, MaxResults=2)
    seen = [s["ShardId"] for s in first["Shards"]]
    token = first["NextToken"]
    while token:
        page = kinesis.list_shards(NextToken=token, MaxResults=2)
        seen += [s["ShardId"] for s in page["Shards"]]
        token = page.get("NextToken")
    assert seen == [f"shardId-00000000000{i}" for i in range(5)]
    with pytest.raises(ClientError) as e:
        kinesis.list_shards(StreamName=name, NextToken=first["NextToken"])
    assert error_code(e) == "InvalidArgumentException"
    after = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"})
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000003", "shardId-000000000004"]
    assert len(kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000000")["Shards"]) == 4


def test_pages_are_capped_at_the_service_maximum(kinesis, unique_name):
    name = unique_name("many")
    create(kinesis, name, shards=120)
    page = kinesis.describe_stream(StreamName=name, Limit=500)["StreamDescription"]
    assert len(page["Shards"]) == 100
    assert page["HasMoreShards"] is True
    assert len(kinesis.list_shards(StreamName=name, MaxResults=5000)["Shards"]) == 120
    with pytest.raises(ClientError) as e:
        kinesis.list_shards(StreamName=name, MaxResults=10001)
    assert error_code(e) == "ValidationException"


def test_list_shards_next_token_expires_after_300_seconds(kagami_process):
    server = kagami_process()
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=3)
    token = kinesis.list_shards(StreamName="s", MaxResults=1)["NextToken"]
    assert [s["ShardId"] for s in kinesis.list_shards(NextToken=token)["Shards"]] == ["shardId-000000000001", "shardId-000000000002"]
    server.advance_clock(301)
    with pytest.raises(ClientError) as e:
        kinesis.list_shards(NextToken=token)
    assert error_code(e) == "ExpiredNextTokenException"


# --------------------------------------------------------------------------- records


def test_records_go_to_the_shard_of_their_partition_key_md5(kinesis, unique_name):
    name = unique_name("route")
    shards = create(kinesis, name, shards=4)["Shards"]
    keys = [f"key-{i}" for i in range(40)]
    sent = {}
    for k in keys:
        r = kinesis.put_record(StreamName=name, Data=k.encode(), PartitionKey=k)
        assert r["ShardId"] == shard_for(shards, k)
        assert r["EncryptionType"] == "NONE"
        sent.setdefault(r["ShardId"], []).append((k, r["SequenceNumber"]))
    assert len(sent) > 1
    for shard_id, puts in sent.items():
        seqs = [s for _, s in puts]
        assert all(len(s) == 56 for s in seqs)
        assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)
        assert len(set(seqs)) == len(seqs)
        records = read_all(kinesis, iterator(kinesis, name, shard_id))
        assert [(r["PartitionKey"], r["SequenceNumber"]) for r in records] == puts
        assert [r["Data"] for r in records] == [k.encode() for k, _ in puts]
        assert all(isinstance(r["ApproximateArrivalTimestamp"], datetime.datetime) for r in records)


def test_explicit_hash_key_picks_the_shard(kinesis, unique_name):
    name = unique_name("ehk")
    create(kinesis, name, shards=2)
    low = kinesis.put_record(StreamName=name, Data=b"a", PartitionKey="same", ExplicitHashKey="0")
    high = kinesis.put_record(StreamName=name, Data=b"b", PartitionKey="same", ExplicitHashKey=str(MAX_HASH))
    assert (low["ShardId"], high["ShardId"]) == ("shardId-000000000000", "shardId-000000000001")
    with pytest.raises(ClientError) as e:
        kinesis.put_record(StreamName=name, Data=b"c", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert error_code(e) == "InvalidArgumentException"
    assert "ExplicitHashKey" in error_message(e)


def test_record_size_and_partition_key_limits(kinesis, unique_name):
    name = unique_name("lim")
    create(kinesis, name)
    kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024 - 1), PartitionKey="k")
    with pytest.raises(ClientError) as e:
        kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k" * 257)
    assert error_code(e) == "ValidationException"


def test_put_records_reports_each_record_and_limits_the_batch(kinesis, unique_name):
    name = unique_name("batch")
    shards = create(kinesis, name, shards=3)["Shards"]
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"pk{i}"} for i in range(500)]
    out = kinesis.put_records(StreamName=name, Records=entries)
    assert out["FailedRecordCount"] == 0
    assert len(out["Records"]) == 500
    for e, r in zip(entries, out["Records"]):
        assert r["ShardId"] == shard_for(shards, e["PartitionKey"])
        assert len(r["SequenceNumber"]) == 56
    total = sum(len(read_all(kinesis, iterator(kinesis, name, s["ShardId"]))) for s in shards)
    assert total == 500
    with pytest.raises(ClientError) as e:
        kinesis.put_records(StreamName=name, Records=entries + [{"Data": b"x", "PartitionKey": "k"}])
    assert error_code(e) == "ValidationException"
    big = [{"Data": b"x" * (1024 * 1024 - 10), "PartitionKey": f"k{i}"} for i in range(6)]
    with pytest.raises(ClientError) as e:
        kinesis.put_records(StreamName=name, Records=big)
    assert error_code(e) == "InvalidArgumentException"


def test_every_iterator_type_starts_where_aws_documents(kinesis, unique_name):
    name = unique_name("it")
    create(kinesis, name)
    shard = "shardId-000000000000"
    seqs = [kinesis.put_record(StreamName=name, Data=f"m{i}".encode(), PartitionKey="k")["SequenceNumber"] for i in range(5)]

    def data(it):
        return [r["Data"].decode() for r in kinesis.get_records(ShardIterator=it)["Records"]]

    assert data(iterator(kinesis, name, shard, "TRIM_HORIZON")) == ["m0", "m1", "m2", "m3", "m4"]
    assert data(iterator(kinesis, name, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])) == ["m2", "m3", "m4"]
    assert data(iterator(kinesis, name, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])) == ["m3", "m4"]
    latest = iterator(kinesis, name, shard, "LATEST")
    page = kinesis.get_records(ShardIterator=latest)
    assert page["Records"] == []
    assert page["MillisBehindLatest"] == 0
    kinesis.put_record(StreamName=name, Data=b"m5", PartitionKey="k")
    assert data(page["NextShardIterator"]) == ["m5"]
    assert data(iterator(kinesis, name, shard, "AT_TIMESTAMP", Timestamp=datetime.datetime(2000, 1, 1))) == ["m0", "m1", "m2", "m3", "m4", "m5"]


def test_at_timestamp_starts_at_the_first_record_that_arrived_then(kagami_process):
    server = kagami_process()
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for m in (b"m0", b"m1", b"m2"):
        kinesis.put_record(StreamName="s", Data=m, PartitionKey="k")
        server.advance_clock(10)
    records = kinesis.get_records(ShardIterator=iterator(kinesis, "s", "shardId-000000000000"))["Records"]
    at = records[1]["ApproximateArrivalTimestamp"]
    it = iterator(kinesis, "s", "shardId-000000000000", "AT_TIMESTAMP", Timestamp=at - datetime.timedelta(seconds=5))
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"m1", b"m2"]
    with pytest.raises(ClientError) as e:
        iterator(kinesis, "s", "shardId-000000000000", "AT_TIMESTAMP", Timestamp=at + datetime.timedelta(days=1))
    assert error_code(e) == "InvalidArgumentException"
    # A timestamp after every record: only records that arrive later come.
    later = iterator(kinesis, "s", "shardId-000000000000", "AT_TIMESTAMP", Timestamp=at + datetime.timedelta(seconds=15))
    page = kinesis.get_records(ShardIterator=later)
    assert page["Records"] == []
    kinesis.put_record(StreamName="s", Data=b"m3", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=page["NextShardIterator"])["Records"]] == [b"m3"]


def test_get_records_follows_next_shard_iterator_with_limit(kinesis, unique_name):
    name = unique_name("next")
    create(kinesis, name)
    for i in range(7):
        kinesis.put_record(StreamName=name, Data=str(i).encode(), PartitionKey="p")
    it = iterator(kinesis, name, "shardId-000000000000")
    pages = []
    while True:
        page = kinesis.get_records(ShardIterator=it, Limit=3)
        if not page["Records"]:
            assert page["MillisBehindLatest"] == 0
            break
        pages.append([r["Data"].decode() for r in page["Records"]])
        it = page["NextShardIterator"]
    assert pages == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    with pytest.raises(ClientError) as e:
        kinesis.get_records(ShardIterator=it, Limit=10001)
    assert error_code(e) == "ValidationException"


def test_iterator_errors_are_invalid_argument(kinesis, account, unique_name):
    name = unique_name("bad")
    create(kinesis, name, shards=2)
    seq1 = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey=str(MAX_HASH))["SequenceNumber"]
    with pytest.raises(ClientError) as e:
        kinesis.get_records(ShardIterator="AAAAAAAAAAGarbage==")
    assert error_code(e) == "InvalidArgumentException"
    assert error_message(e) == "Invalid ShardIterator."
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq1)
    assert error_code(e) == "InvalidArgumentException"
    assert "encodes shardId-000000000001" in error_message(e)
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber="12345")
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER")
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000000", "AT_TIMESTAMP")
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000009")
    assert error_code(e) == "ResourceNotFoundException"
    assert error_message(e) == f"Shard shardId-000000000009 in stream {name} under account {account} does not exist"
    with pytest.raises(ClientError) as e:
        iterator(kinesis, name, "shardId-000000000000", "SOMEWHERE")
    assert error_code(e) == "ValidationException"


def test_iterator_expires_after_five_minutes_of_emulated_time(kagami_process):
    server = kagami_process()
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"a", PartitionKey="k")
    it = iterator(kinesis, "s", "shardId-000000000000")
    server.advance_clock(299)
    page = kinesis.get_records(ShardIterator=it)
    assert [r["Data"] for r in page["Records"]] == [b"a"]
    server.advance_clock(302)
    with pytest.raises(ClientError) as e:
        kinesis.get_records(ShardIterator=it)
    assert error_code(e) == "ExpiredIteratorException"
    assert error_message(e).startswith("Iterator expired. The iterator was created at time ")
    assert error_message(e).endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")
    # The iterator a GetRecords answer hands back lives five minutes from then.
    with pytest.raises(ClientError) as e:
        kinesis.get_records(ShardIterator=page["NextShardIterator"])
    assert error_code(e) == "ExpiredIteratorException"


# --------------------------------------------------------------------------- retention


def test_retention_period_bounds_and_direction(kinesis, unique_name):
    name = unique_name("ret")
    create(kinesis, name)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["RetentionPeriodHours"] == 48
    with pytest.raises(ClientError) as e:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=30)
    assert error_code(e) == "InvalidArgumentException"
    assert error_message(e) == (
        f"Requested retention period (30 hours) for stream {name} can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API."
    )
    with pytest.raises(ClientError) as e:
        kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
    assert error_code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=23)
    assert error_message(e) == "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
    with pytest.raises(ClientError) as e:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8761)
    assert error_message(e) == "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 24


def test_records_older_than_retention_are_trimmed(kagami_process):
    server = kagami_process()
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    server.advance_clock(12 * 3600)
    kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")
    shard = "shardId-000000000000"
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "s", shard))] == [b"old", b"new"]
    server.advance_clock(12 * 3600 + 60)
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "s", shard))] == [b"new"]
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    server.advance_clock(24 * 3600)
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "s", shard))] == [b"new"]
    server.advance_clock(24 * 3600)
    assert read_all(kinesis, iterator(kinesis, "s", shard)) == []


# --------------------------------------------------------------------------- resharding


def test_split_shard_closes_the_parent_and_hands_over_to_children(kinesis, unique_name):
    name = unique_name("split")
    create(kinesis, name)
    before = kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")
    parent_it = iterator(kinesis, name, "shardId-000000000000")
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    shards = {s["ShardId"]: s for s in kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]}
    assert set(shards) == {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}
    assert "EndingSequenceNumber" in shards["shardId-000000000000"]["SequenceNumberRange"]
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    assert shards["shardId-000000000001"]["HashKeyRange"]["EndingHashKey"] == str(2**127 - 1)
    assert shards["shardId-000000000002"]["HashKeyRange"]["StartingHashKey"] == str(2**127)
    open_ids = [s["ShardId"] for s in kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]]
    assert open_ids == ["shardId-000000000001", "shardId-000000000002"]
    after = kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="k")
    assert after["ShardId"] != before["ShardId"]
    page = kinesis.get_records(ShardIterator=parent_it)
    assert [r["Data"] for r in page["Records"]] == [b"before"]
    assert "NextShardIterator" not in page
    assert sorted(c["ShardId"] for c in page["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]
    assert all(c["ParentShards"] == ["shardId-000000000000"] for c in page["ChildShards"])
    with pytest.raises(ClientError) as e:
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert error_code(e) == "ResourceInUseException"


def test_merge_shards_and_update_shard_count(kinesis, unique_name):
    name = unique_name("merge")
    create(kinesis, name, shards=3)
    with pytest.raises(ClientError) as e:
        kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000002")
    assert error_code(e) == "InvalidArgumentException"
    kinesis.merge_shards(StreamName=name, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001")
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    merged = [s for s in shards if s["ShardId"] == "shardId-000000000003"][0]
    assert merged["ParentShardId"] == "shardId-000000000000"
    assert merged["AdjacentParentShardId"] == "shardId-000000000001"
    assert merged["HashKeyRange"]["StartingHashKey"] == "0"
    out = kinesis.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (2, 4)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    with pytest.raises(ClientError) as e:
        kinesis.update_shard_count(StreamName=name, TargetShardCount=9, ScalingType="UNIFORM_SCALING")
    assert error_code(e) == "LimitExceededException"
    routed = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    open_shards = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert routed["ShardId"] == shard_for(open_shards, "k")


# --------------------------------------------------------------------------- settings


def test_tags_by_name_and_by_arn(kinesis, unique_name):
    name = unique_name("tags")
    kinesis.create_stream(StreamName=name, ShardCount=1, Tags={"a": "1"})
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.add_tags_to_stream(StreamName=name, Tags={"b": "2", "c": "3"})
    out = kinesis.list_tags_for_stream(StreamName=name, Limit=2)
    assert out["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert out["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="b")
    assert rest == {"Tags": [{"Key": "c", "Value": "3"}], "HasMoreTags": False, "ResponseMetadata": rest["ResponseMetadata"]}
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["a"])
    kinesis.tag_resource(ResourceARN=arn, Tags={"d": "4"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["b"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "c", "Value": "3"}, {"Key": "d", "Value": "4"}]
    with pytest.raises(ClientError) as e:
        kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i}": "v" for i in range(50)})
    assert error_code(e) == "InvalidArgumentException"


def test_encryption_and_enhanced_monitoring_are_stored(kinesis, unique_name):
    name = unique_name("enc")
    create(kinesis, name)
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert (d["EncryptionType"], d["KeyId"]) == ("KMS", "alias/aws/kinesis")
    assert kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert d["EncryptionType"] == "NONE" and "KeyId" not in d
    out = kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
    assert out["CurrentShardLevelMetrics"] == []
    assert out["DesiredShardLevelMetrics"] == ["IncomingBytes", "OutgoingRecords"]
    out = kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
    assert out["DesiredShardLevelMetrics"] == ["OutgoingRecords"]
    em = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["EnhancedMonitoring"]
    assert em == [{"ShardLevelMetrics": ["OutgoingRecords"]}]
    out = kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    assert len(out["DesiredShardLevelMetrics"]) == 7


def test_consumers_register_list_describe_deregister(kinesis, unique_name):
    name = unique_name("cons")
    arn = create(kinesis, name)["StreamARN"]
    c = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app1")["Consumer"]
    assert c["ConsumerARN"].startswith(f"{arn}/consumer/app1:")
    assert c["ConsumerStatus"] == "ACTIVE"
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app2")
    with pytest.raises(ClientError) as e:
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app1")
    assert error_code(e) == "ResourceInUseException"
    first = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1)
    second = kinesis.list_stream_consumers(StreamARN=arn, NextToken=first["NextToken"])
    assert [x["ConsumerName"] for x in first["Consumers"] + second["Consumers"]] == ["app1", "app2"]
    d = kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
    assert (d["ConsumerName"], d["StreamARN"]) == ("app1", arn)
    assert kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app2")["ConsumerDescription"]["ConsumerName"] == "app2"
    kinesis.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
    with pytest.raises(ClientError) as e:
        kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])
    assert error_code(e) == "ResourceNotFoundException"
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["ConsumerCount"] == 1
    with pytest.raises(ClientError) as e:
        kinesis.delete_stream(StreamName=name)
    assert error_code(e) == "ResourceInUseException"
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def test_subscribe_to_shard_is_not_implemented(kinesis, unique_name):
    name = unique_name("sub")
    arn = create(kinesis, name)["StreamARN"]
    c = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]
    with pytest.raises(ClientError) as e:
        kinesis.subscribe_to_shard(ConsumerARN=c["ConsumerARN"], ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    assert error_code(e) == "NotImplemented"


# --------------------------------------------------------------------------- isolation, durability, CLI


def test_streams_are_isolated_by_account_and_region(aws_client, unique_name):
    a, b = new_account(), new_account()
    name = unique_name("iso")
    ka = aws_client("kinesis", account=a)
    kb = aws_client("kinesis", account=b)
    kw = aws_client("kinesis", account=a, region="eu-west-1")
    ka.create_stream(StreamName=name, ShardCount=1)
    ka.put_record(StreamName=name, Data=b"a", PartitionKey="k")
    assert kb.list_streams()["StreamNames"] == []
    assert kw.list_streams()["StreamNames"] == []
    with pytest.raises(ClientError) as e:
        kb.describe_stream(StreamName=name)
    assert error_message(e) == f"Stream {name} under account {b} not found."
    kw.create_stream(StreamName=name, ShardCount=2)
    assert kw.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"].startswith(f"arn:aws:kinesis:eu-west-1:{a}:")
    assert len(ka.describe_stream(StreamName=name)["StreamDescription"]["Shards"]) == 1
    # An iterator is good only in the account and region that issued it.
    it = iterator(ka, name, "shardId-000000000000")
    with pytest.raises(ClientError) as e:
        kw.get_records(ShardIterator=it)
    assert error_code(e) == "InvalidArgumentException"


def test_streams_and_records_survive_a_crash(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="durable", ShardCount=2, Tags={"k": "v"})
    kinesis.increase_stream_retention_period(StreamName="durable", RetentionPeriodHours=72)
    sent = [kinesis.put_record(StreamName="durable", Data=f"m{i}".encode(), PartitionKey="same") for i in range(5)]
    kinesis.create_stream(StreamName="gone", ShardCount=1)
    kinesis.delete_stream(StreamName="gone")
    server.kill9()
    server.restart()
    kinesis = server.client("kinesis")
    assert kinesis.list_streams()["StreamNames"] == ["durable"]
    d = kinesis.describe_stream(StreamName="durable")["StreamDescription"]
    assert d["RetentionPeriodHours"] == 72
    assert len(d["Shards"]) == 2
    assert kinesis.list_tags_for_stream(StreamName="durable")["Tags"] == [{"Key": "k", "Value": "v"}]
    shard = sent[0]["ShardId"]
    records = read_all(kinesis, iterator(kinesis, "durable", shard))
    assert [(r["Data"], r["SequenceNumber"]) for r in records] == [(f"m{i}".encode(), s["SequenceNumber"]) for i, s in enumerate(sent)]
    more = kinesis.put_record(StreamName="durable", Data=b"m5", PartitionKey="same")
    assert int(more["SequenceNumber"]) > int(sent[-1]["SequenceNumber"])
    after = iterator(kinesis, "durable", shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=sent[-1]["SequenceNumber"])
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=after)["Records"]] == [b"m5"]


def test_aws_cli_puts_and_reads_records(aws_cli, unique_name):
    account = new_account()
    name = unique_name("cli")
    aws_cli("kinesis", "create-stream", "--stream-name", name, "--shard-count", "1", account=account)
    aws_cli("kinesis", "wait", "stream-exists", "--stream-name", name, account=account)
    put = aws_cli("kinesis", "put-record", "--stream-name", name, "--partition-key", "k", "--data", "aGVsbG8=", account=account)
    assert put["ShardId"] == "shardId-000000000000"
    it = aws_cli(
        "kinesis", "get-shard-iterator", "--stream-name", name, "--shard-id", put["ShardId"],
        "--shard-iterator-type", "TRIM_HORIZON", account=account,
    )["ShardIterator"]
    out = aws_cli("kinesis", "get-records", "--shard-iterator", it, account=account)
    assert [r["SequenceNumber"] for r in out["Records"]] == [put["SequenceNumber"]]
    assert out["Records"][0]["PartitionKey"] == "k"
    listed = aws_cli("kinesis", "list-streams", account=account)
    assert listed["StreamNames"] == [name]
    code, stderr = aws_cli("kinesis", "describe-stream", "--stream-name", name + "x", account=account, expect_error=True)
    assert "ResourceNotFoundException" in stderr


def test_sequence_numbers_increase_across_many_puts_in_random_shards(kinesis, unique_name):
    name = unique_name("ord")
    create(kinesis, name, shards=3)
    last = {}
    for i in range(60):
        r = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey=str(random.random()))
        seq = int(r["SequenceNumber"])
        assert seq > last.get(r["ShardId"], -1)
        last[r["ShardId"]] = seq
