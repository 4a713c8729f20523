"""CloudWatch Logs sending events elsewhere: export tasks to S3 and subscription filters
whose destination is a Kinesis stream, directly or through a cross-account destination."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import error_code, new_account

ROLE = "arn:aws:iam::000000000000:role/CWLtoKinesisRole"


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


# --------------------------------------------------------------------------- export tasks


@pytest.fixture
def account(aws_client):
    """Clients of a fresh account: export tasks are listed account-wide."""
    acct = new_account()
    return aws_client("logs", account=acct), aws_client("s3", account=acct)


def make_group(logs, group, streams: dict[str, list[tuple[int, str]]]):
    logs.create_log_group(logGroupName=group)
    for stream, events in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t, "message": m} for t, m in events])


def test_export_task_writes_each_streams_events_of_the_range_to_s3(account, unique_name):
    logs, s3 = account
    bucket = unique_name("exports")
    s3.create_bucket(Bucket=bucket)
    base = now_ms() - 600_000
    make_group(
        logs,
        "/app/export",
        {
            "web-1": [(base, "first"), (base + 1000, "second"), (base + 500_000, "too late")],
            "web-2": [(base + 2000, "other stream")],
            "batch": [(base + 3000, "not under the prefix")],
        },
    )
    task_id = logs.create_export_task(taskName="nightly", logGroupName="/app/export", logStreamNamePrefix="web", fromTime=base, to=base + 2000, destination=bucket, destinationPrefix="cwl/app")["taskId"]
    task = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]
    assert task["status"]["code"] == "COMPLETED"
    assert (task["taskName"], task["logGroupName"], task["destination"], task["destinationPrefix"]) == ("nightly", "/app/export", bucket, "cwl/app")
    assert (task["from"], task["to"]) == (base, base + 2000)
    assert task["executionInfo"]["completionTime"] >= task["executionInfo"]["creationTime"]

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(["cwl/app/aws-logs-write-test", f"cwl/app/{task_id}/web-1/000000.gz", f"cwl/app/{task_id}/web-2/000000.gz"])
    body = s3.get_object(Bucket=bucket, Key=f"cwl/app/{task_id}/web-1/000000.gz")["Body"].read()
    assert gzip.decompress(body).decode() == f"{iso(base)} first\n{iso(base + 1000)} second\n"
    body = s3.get_object(Bucket=bucket, Key=f"cwl/app/{task_id}/web-2/000000.gz")["Body"].read()
    assert gzip.decompress(body).decode() == f"{iso(base + 2000)} other stream\n"


def test_export_task_default_prefix_listing_and_errors(account, unique_name):
    logs, s3 = account
    bucket = unique_name("exports")
    s3.create_bucket(Bucket=bucket)
    base = now_ms() - 60_000
    make_group(logs, "/g", {"s": [(base, "line")]})
    ids = [logs.create_export_task(logGroupName="/g", fromTime=base, to=base + 1, destination=bucket)["taskId"] for _ in range(3)]
    obj = s3.get_object(Bucket=bucket, Key=f"exportedlogs/{ids[0]}/s/000000.gz")["Body"].read()
    assert gzip.decompress(obj).decode() == f"{iso(base)} line\n"

    seen, token = [], None
    while True:
        page = logs.describe_export_tasks(limit=2, **({"nextToken": token} if token else {}))
        assert len(page["exportTasks"]) <= 2
        seen += [t["taskId"] for t in page["exportTasks"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    assert len(logs.describe_export_tasks(statusCode="COMPLETED")["exportTasks"]) == 3
    assert logs.describe_export_tasks(statusCode="RUNNING")["exportTasks"] == []
    assert logs.describe_export_tasks(taskId="no-such-task")["exportTasks"] == []

    with pytest.raises(ClientError) as e:
        logs.cancel_export_task(taskId=ids[0])
    assert error_code(e) == "InvalidOperationException"
    with pytest.raises(ClientError) as e:
        logs.cancel_export_task(taskId="no-such-task")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.create_export_task(logGroupName="/g", fromTime=base, to=base + 1, destination=unique_name("no-bucket"))
    assert error_code(e) == "InvalidParameterException"
    assert e.value.response["Error"]["Message"] == "The given bucket does not exist. Please make sure the bucket is valid."
    with pytest.raises(ClientError) as e:
        logs.create_export_task(logGroupName="/missing", fromTime=base, to=base + 1, destination=bucket)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The specified log group does not exist."
    with pytest.raises(ClientError) as e:
        logs.create_export_task(logGroupName="/g", fromTime=base + 1, to=base, destination=bucket)
    assert error_code(e) == "InvalidParameterException"


def test_aws_cli_export_task(aws_cli, aws_client, unique_name):
    bucket = unique_name("cli-exports")
    aws_client("s3").create_bucket(Bucket=bucket)
    group = unique_name("/cli/export")
    base = now_ms() - 60_000
    make_group(aws_client("logs"), group, {"s": [(base, "hello")]})
    task_id = aws_cli("logs", "create-export-task", "--log-group-name", group, "--from", str(base), "--to", str(base + 10), "--destination", bucket)["taskId"]
    tasks = aws_cli("logs", "describe-export-tasks", "--task-id", task_id)["exportTasks"]
    assert tasks[0]["status"]["code"] == "COMPLETED"


def test_export_tasks_survive_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    logs, s3 = server.client("logs"), server.client("s3")
    s3.create_bucket(Bucket="durable-exports")
    base = now_ms() - 60_000
    make_group(logs, "/g", {"s": [(base, "kept")]})
    task_id = logs.create_export_task(logGroupName="/g", fromTime=base, to=base, destination="durable-exports")["taskId"]
    server.kill9()
    server.restart()
    logs = server.client("logs")
    task = logs.describe_export_tasks()["exportTasks"]
    assert [(t["taskId"], t["status"]["code"]) for t in task] == [(task_id, "COMPLETED")]


# --------------------------------------------------------------------------- Kinesis subscriptions


def make_stream(kinesis, name: str) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    for _ in range(100):
        d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
        if d["StreamStatus"] == "ACTIVE":
            return d["StreamARN"]
        time.sleep(0.1)
    raise AssertionError("stream never became ACTIVE")


def messages_in(kinesis, name: str, want: int) -> list[dict]:
    """The decoded CloudWatch Logs messages of the stream's records, oldest first."""
    shard = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out: list[dict] = []
    for _ in range(50):
        r = kinesis.get_records(ShardIterator=it)
        out += [json.loads(gzip.decompress(rec["Data"])) for rec in r["Records"]]
        if len(out) >= want:
            return out
        it = r["NextShardIterator"]
        time.sleep(0.1)
    return out


def test_subscription_filter_delivers_gzipped_messages_to_kinesis(aws_client, unique_name):
    kinesis, logs = aws_client("kinesis"), aws_client("logs")
    stream = unique_name("cwl-sink")
    arn = make_stream(kinesis, stream)
    group = unique_name("/sub/kinesis")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="app")
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="?ERROR ?FATAL", destinationArn=arn, roleArn=ROLE)
    base = now_ms() - 1000
    logs.put_log_events(logGroupName=group, logStreamName="app", logEvents=[
        {"timestamp": base, "message": "ERROR disk full"},
        {"timestamp": base + 1, "message": "INFO fine"},
        {"timestamp": base + 2, "message": "FATAL out of memory"},
    ])
    control, data = messages_in(kinesis, stream, 2)[:2]
    assert control["messageType"] == "CONTROL_MESSAGE"
    assert control["logEvents"][0]["message"].startswith("CWL CONTROL MESSAGE")
    assert data["messageType"] == "DATA_MESSAGE"
    assert (data["owner"], data["logGroup"], data["logStream"], data["subscriptionFilters"]) == ("000000000000", group, "app", ["errors"])
    assert [(e["timestamp"], e["message"]) for e in data["logEvents"]] == [(base, "ERROR disk full"), (base + 2, "FATAL out of memory")]
    assert all(len(e["id"]) == 56 for e in data["logEvents"])


def test_subscription_to_a_missing_kinesis_stream_is_refused(aws_client, unique_name):
    logs = aws_client("logs")
    group = unique_name("/sub/missing")
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=f"arn:aws:kinesis:us-east-1:000000000000:stream/{unique_name('nothing')}", roleArn=ROLE)
    assert error_code(e) == "InvalidParameterException"
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_cross_account_destination_delivers_to_its_target_stream(aws_client, unique_name):
    receiver, sender = new_account(), new_account()
    kinesis = aws_client("kinesis", account=receiver)
    stream = unique_name("central")
    arn = make_stream(kinesis, stream)
    central = aws_client("logs", account=receiver)
    destination = central.put_destination(destinationName="central", targetArn=arn, roleArn=f"arn:aws:iam::{receiver}:role/CWLtoKinesisRole")["destination"]
    central.put_destination_policy(destinationName="central", accessPolicy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": sender}, "Action": "logs:PutSubscriptionFilter", "Resource": destination["arn"]}]}))

    logs = aws_client("logs", account=sender)
    logs.create_log_group(logGroupName="/sender/app")
    logs.create_log_stream(logGroupName="/sender/app", logStreamName="s")
    logs.put_subscription_filter(logGroupName="/sender/app", filterName="all", filterPattern="", destinationArn=destination["arn"])
    logs.put_log_events(logGroupName="/sender/app", logStreamName="s", logEvents=[{"timestamp": now_ms() - 1000, "message": "from the other account"}])
    data = [m for m in messages_in(kinesis, stream, 2) if m["messageType"] == "DATA_MESSAGE"]
    assert len(data) == 1
    assert (data[0]["owner"], data[0]["logGroup"]) == (sender, "/sender/app")
    assert [e["message"] for e in data[0]["logEvents"]] == ["from the other account"]

    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName="/sender/app", filterName="gone", filterPattern="", destinationArn=destination["arn"].replace(":central", ":nowhere"))
    assert error_code(e) == "ResourceNotFoundException"
