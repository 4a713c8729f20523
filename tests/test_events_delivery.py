"""EventBridge delivery: PutEvents (validation per entry, the event envelope), rules
matching events to SQS, Lambda, CloudWatch Logs and event-bus targets, Input,
InputPath and InputTransformer, FIFO queues, dead-letter queues, cross-account buses,
scheduled rules on the emulated clock, and durability across a restart."""

from __future__ import annotations

import json
import random
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def events(aws_client):
    return aws_client("events")


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


def new_account() -> str:
    return str(random.randint(100000000000, 999999999999))


def make_queue(sqs, name: str, **attributes) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def messages(sqs, url, expected: int = 1, timeout: float = 15, attributes: bool = False) -> list[dict]:
    """Receives until `expected` messages arrived or `timeout` passed."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    kwargs = {"MessageAttributeNames": ["All"]} if attributes else {}
    while len(got) < expected and time.monotonic() < deadline:
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10, **kwargs)
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def no_messages(sqs, url, wait: int = 2) -> bool:
    return "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait)


def rule_to_queue(events, sqs, unique_name, pattern=None, bus=None, **target):
    """A rule on `bus` matching `pattern` (source my.app) with one SQS target: (rule arn, queue url)."""
    url, arn = make_queue(sqs, unique_name("q"))
    name = unique_name("rule")
    kwargs = {"EventBusName": bus} if bus else {}
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern or {"source": ["my.app"]}), **kwargs)["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn, **target}], **kwargs)
    return rule_arn, url


def entry(detail=None, **overrides):
    e = {"Source": "my.app", "DetailType": "Order Placed", "Detail": json.dumps(detail if detail is not None else {"order": 1})}
    e.update(overrides)
    return e


# ----------------------------------------------------------------------------- PutEvents


def test_put_events_delivers_the_event_envelope_to_an_sqs_target(events, sqs, unique_name):
    _, url = rule_to_queue(events, sqs, unique_name)
    out = events.put_events(Entries=[entry({"order": 42, "items": ["a"]}, Resources=["arn:aws:s3:::b"])])
    assert out["FailedEntryCount"] == 0
    event_id = out["Entries"][0]["EventId"]
    assert uuid.UUID(event_id)
    [m] = messages(sqs, url)
    body = json.loads(m["Body"])
    assert list(body) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert body["version"] == "0"
    assert body["id"] == event_id
    assert (body["detail-type"], body["source"]) == ("Order Placed", "my.app")
    assert (body["account"], body["region"]) == (ACCOUNT, REGION)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["time"])
    assert body["resources"] == ["arn:aws:s3:::b"]
    assert body["detail"] == {"order": 42, "items": ["a"]}


def test_the_entry_time_becomes_the_event_time(events, sqs, unique_name):
    import datetime

    source = unique_name("timed")
    _, url = rule_to_queue(events, sqs, unique_name, pattern={"source": [source]})
    when = datetime.datetime(2024, 2, 29, 12, 30, 15, 750000, tzinfo=datetime.timezone.utc)
    events.put_events(Entries=[entry(Source=source, Time=when)])
    assert json.loads(messages(sqs, url)[0]["Body"])["time"] == "2024-02-29T12:30:15Z"


def test_events_that_do_not_match_or_hit_disabled_rules_are_not_delivered(events, sqs, unique_name):
    pattern = {"source": ["my.app"], "detail": {"order": [{"numeric": [">", 10]}]}}
    rule_arn, url = rule_to_queue(events, sqs, unique_name, pattern=pattern)
    events.put_events(Entries=[entry({"order": 5}), entry({"order": 5}, Source="other")])
    assert no_messages(sqs, url)
    events.disable_rule(Name=rule_arn.split("/")[-1])
    events.put_events(Entries=[entry({"order": 50})])
    assert no_messages(sqs, url)
    events.enable_rule(Name=rule_arn.split("/")[-1])
    events.put_events(Entries=[entry({"order": 50})])
    assert json.loads(messages(sqs, url)[0]["Body"])["detail"] == {"order": 50}


def test_put_events_validates_each_entry(events, unique_name):
    out = events.put_events(
        Entries=[
            entry(),
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "s", "Detail": "{}"},
            {"Source": "s", "DetailType": "t"},
            entry(Detail="[1, 2]"),
            entry(Detail="not json"),
            # AWS accepts, and drops, events for a bus that does not exist.
            entry(EventBusName=unique_name("missing")),
        ]
    )
    assert out["FailedEntryCount"] == 5
    results = out["Entries"]
    assert "EventId" in results[0] and "ErrorCode" not in results[0]
    assert results[1] == {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}
    assert results[2] == {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
    assert results[3] == {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}
    assert results[4] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert results[5] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert uuid.UUID(results[6]["EventId"]) and "ErrorCode" not in results[6]


def test_sources_of_aws_services_are_refused_per_entry(events, sqs, unique_name):
    _, url = rule_to_queue(events, sqs, unique_name, pattern={"source": [{"prefix": "aws."}, "my.app"]})
    out = events.put_events(Entries=[entry(Source="aws.s3"), entry(Source="aws.events"), entry(), entry(Source="awsome.app")])
    assert out["FailedEntryCount"] == 2
    refused = {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
    assert out["Entries"][:2] == [refused, refused]
    assert all("EventId" in e and "ErrorCode" not in e for e in out["Entries"][2:])
    # Only the accepted event reaches the target.
    [m] = messages(sqs, url)
    assert json.loads(m["Body"])["source"] == "my.app"
    assert no_messages(sqs, url, wait=1)


def test_put_events_limits(events):
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[entry() for _ in range(11)])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    big = json.dumps({"blob": "x" * (130 * 1024)})
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[entry(Detail=big), entry(Detail=big)])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert events.put_events(Entries=[entry(Detail=big)])["FailedEntryCount"] == 0


def test_put_events_to_a_custom_bus_by_name_and_arn(events, sqs, unique_name):
    bus = unique_name("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    _, url = rule_to_queue(events, sqs, unique_name, bus=bus)
    _, default_url = rule_to_queue(events, sqs, unique_name)
    events.put_events(Entries=[entry({"n": 1}, EventBusName=bus), entry({"n": 2}, EventBusName=bus_arn)])
    got = sorted(json.loads(m["Body"])["detail"]["n"] for m in messages(sqs, url, expected=2))
    assert got == [1, 2]
    # The default bus's rules see neither.
    assert no_messages(sqs, default_url, wait=1)


def test_events_stay_in_their_account_and_region(aws_client, unique_name):
    account = new_account()
    here, there = aws_client("events", account=account), aws_client("events", account=account, region="eu-west-1")
    sqs_here = aws_client("sqs", account=account)
    other_account = aws_client("events", account=new_account())
    _, url = rule_to_queue(here, sqs_here, unique_name)
    there.put_events(Entries=[entry({"from": "eu-west-1"})])
    other_account.put_events(Entries=[entry({"from": "other account"})])
    assert no_messages(sqs_here, url)
    here.put_events(Entries=[entry({"from": "us-east-1"})])
    body = json.loads(messages(sqs_here, url)[0]["Body"])
    assert (body["detail"], body["account"], body["region"]) == ({"from": "us-east-1"}, account, REGION)


# ----------------------------------------------------------------------------- input


def test_input_input_path_and_input_transformer(events, sqs, unique_name):
    source = unique_name("src")
    pattern = {"source": [source]}
    _, constant = rule_to_queue(events, sqs, unique_name, pattern=pattern, Input='{"fixed": true}')
    _, path = rule_to_queue(events, sqs, unique_name, pattern=pattern, InputPath="$.detail.order")
    rule_arn, transformed = rule_to_queue(
        events,
        sqs,
        unique_name,
        pattern=pattern,
        InputTransformer={
            "InputPathsMap": {"id": "$.detail.order.id", "total": "$.detail.order.total", "src": "$.source"},
            "InputTemplate": '{"order": <id>, "total": <total>, "text": "order <id> from <src>", "rule": "<aws.events.rule-name>"}',
        },
    )
    _, plain = rule_to_queue(
        events,
        sqs,
        unique_name,
        pattern=pattern,
        InputTransformer={"InputPathsMap": {"id": "$.detail.order.id"}, "InputTemplate": '"Order <id> placed"'},
    )
    events.put_events(Entries=[entry({"order": {"id": "o-7", "total": 12.5}}, Source=source)])
    assert json.loads(messages(sqs, constant)[0]["Body"]) == {"fixed": True}
    assert json.loads(messages(sqs, path)[0]["Body"]) == {"id": "o-7", "total": 12.5}
    assert json.loads(messages(sqs, transformed)[0]["Body"]) == {
        "order": "o-7",
        "total": 12.5,
        "text": f"order o-7 from {source}",
        "rule": rule_arn.split("/")[-1],
    }
    assert messages(sqs, plain)[0]["Body"] == '"Order o-7 placed"'


def test_fifo_queue_targets_get_the_message_group(events, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name("f") + ".fifo", FifoQueue="true")
    name = unique_name("fifo")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    events.put_targets(Rule=name, Targets=[{"Id": "f", "Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}}])
    events.put_events(Entries=[entry(Source=name)])
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["MessageGroupId"])
    assert r["Messages"][0]["Attributes"]["MessageGroupId"] == "g1"


def test_undeliverable_events_go_to_the_dead_letter_queue(events, sqs, unique_name):
    dlq_url, dlq_arn = make_queue(sqs, unique_name("dlq"))
    name = unique_name("dead")
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))["RuleArn"]
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('nope')}"
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}, "RetryPolicy": {"MaximumRetryAttempts": 0}}])
    event_id = events.put_events(Entries=[entry(Source=name)])["Entries"][0]["EventId"]
    [m] = messages(sqs, dlq_url, attributes=True)
    assert json.loads(m["Body"])["id"] == event_id
    attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert attrs["RULE_ARN"] == rule_arn
    assert attrs["TARGET_ARN"] == missing
    assert attrs["ERROR_CODE"] and attrs["ERROR_MESSAGE"]


# ----------------------------------------------------------------------------- other targets


def test_an_event_bus_target_forwards_to_another_account(aws_client, unique_name):
    a, b = new_account(), new_account()
    ev_a, ev_b = aws_client("events", account=a), aws_client("events", account=b)
    sqs_b = aws_client("sqs", account=b)
    bus = unique_name("central")
    bus_arn = ev_b.create_event_bus(Name=bus)["EventBusArn"]
    ev_b.put_permission(EventBusName=bus, Action="events:PutEvents", Principal=a, StatementId="from-a")
    _, url = rule_to_queue(ev_b, sqs_b, unique_name, bus=bus)
    # Account A forwards its default bus's events to B's bus.
    name = unique_name("fwd")
    ev_a.put_rule(Name=name, EventPattern=json.dumps({"source": ["my.app"]}))
    ev_a.put_targets(Rule=name, Targets=[{"Id": "bus", "Arn": bus_arn}])
    event_id = ev_a.put_events(Entries=[entry({"hop": 1})])["Entries"][0]["EventId"]
    body = json.loads(messages(sqs_b, url)[0]["Body"])
    assert (body["id"], body["account"], body["detail"]) == (event_id, a, {"hop": 1})
    # PutEvents straight to the ARN of B's bus reaches it too.
    ev_a.put_events(Entries=[entry({"hop": 0}, EventBusName=bus_arn)])
    assert json.loads(messages(sqs_b, url)[0]["Body"])["detail"] == {"hop": 0}


def test_a_lambda_target_is_invoked_with_the_event(aws_client, events, unique_name):
    lam, logs = aws_client("lambda"), aws_client("logs")
    fn = unique_name("fn")
    arn = create_python(lam, fn, "import json\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n")["FunctionArn"]
    name = unique_name("lrule")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": arn}])
    event_id = events.put_events(Entries=[entry({"to": "lambda"}, Source=name)])["Entries"][0]["EventId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn}", filterPattern="EVENT")["events"]
        except ClientError:
            found = []
        if found:
            logged = json.loads(found[0]["message"].split("EVENT ", 1)[1])
            assert (logged["id"], logged["detail"]) == (event_id, {"to": "lambda"})
            return
        time.sleep(0.5)
    pytest.fail("the function never logged the event")


def test_a_log_group_target_receives_the_event(aws_client, events, unique_name):
    logs = aws_client("logs")
    group = f"/aws/events/{unique_name('g')}"
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    name = unique_name("logrule")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    events.put_targets(Rule=name, Targets=[{"Id": "logs", "Arn": group_arn}])
    event_id = events.put_events(Entries=[entry(Source=name)])["Entries"][0]["EventId"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = logs.filter_log_events(logGroupName=group)["events"]
        if found:
            assert json.loads(found[0]["message"])["id"] == event_id
            assert found[0]["logStreamName"] == event_id
            return
        time.sleep(0.3)
    pytest.fail("no event reached the log group")


def test_sns_and_kinesis_targets(aws_client, events, sqs, unique_name):
    sns, kinesis = aws_client("sns"), aws_client("kinesis")
    url, queue_arn = make_queue(sqs, unique_name("sub"))
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    stream = unique_name("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    name = unique_name("fan")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "sns", "Arn": topic},
            {"Id": "kinesis", "Arn": stream_arn, "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"}},
        ],
    )
    event_id = events.put_events(Entries=[entry({"customer": "c-9"}, Source=name)])["Entries"][0]["EventId"]
    assert json.loads(messages(sqs, url)[0]["Body"])["id"] == event_id
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        out = kinesis.get_records(ShardIterator=iterator)
        if out["Records"]:
            [record] = out["Records"]
            assert record["PartitionKey"] == "c-9"
            assert json.loads(record["Data"])["id"] == event_id
            return
        iterator = out["NextShardIterator"]
        time.sleep(0.3)
    pytest.fail("no record reached the stream")


# ----------------------------------------------------------------------------- schedules and durability


def test_a_scheduled_rule_fires_as_the_clock_advances(kagami_process, unique_name):
    server = kagami_process()
    events, sqs = server.client("events"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("sched"))
    name = unique_name("every5")
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    assert no_messages(sqs, url, wait=1)
    server.advance_clock(300)
    [m] = messages(sqs, url)
    body = json.loads(m["Body"])
    assert (body["source"], body["detail-type"], body["detail"]) == ("aws.events", "Scheduled Event", {})
    assert body["resources"] == [rule_arn]
    assert (body["account"], body["region"], body["version"]) == (ACCOUNT, REGION, "0")
    # Disabled rules do not fire.
    events.disable_rule(Name=name)
    server.advance_clock(600)
    assert no_messages(sqs, url, wait=1)
    # A cron rule fires at its next matching minute.
    cron = unique_name("cron")
    events.put_rule(Name=cron, ScheduleExpression="cron(0/10 * * * ? *)")
    events.put_targets(Rule=cron, Targets=[{"Id": "q", "Arn": arn, "Input": '{"cron": true}'}])
    server.advance_clock(600)
    assert json.loads(messages(sqs, url)[0]["Body"]) == {"cron": True}


def test_buses_rules_targets_and_tags_survive_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    events, sqs = server.client("events"), server.client("sqs")
    bus = unique_name("dbus")
    events.create_event_bus(Name=bus, Description="kept", Tags=[{"Key": "k", "Value": "v"}])
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="all")
    url, arn = make_queue(sqs, unique_name("dq"))
    name = unique_name("drule")
    rule_arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["my.app"]}), State="DISABLED")["RuleArn"]
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn, "InputPath": "$.detail"}])
    events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "t", "Value": "1"}])

    server.restart()
    events, sqs = server.client("events"), server.client("sqs")
    described = events.describe_event_bus(Name=bus)
    assert described["Description"] == "kept"
    assert [s["Sid"] for s in json.loads(described["Policy"])["Statement"]] == ["all"]
    rule = events.describe_rule(Name=name, EventBusName=bus)
    assert (rule["State"], json.loads(rule["EventPattern"])) == ("DISABLED", {"source": ["my.app"]})
    assert events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"] == [{"Id": "q", "Arn": arn, "InputPath": "$.detail"}]
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "t", "Value": "1"}]
    events.enable_rule(Name=name, EventBusName=bus)
    events.put_events(Entries=[entry({"after": "restart"}, EventBusName=bus)])
    assert json.loads(messages(sqs, url)[0]["Body"]) == {"after": "restart"}


def test_scheduled_rules_keep_firing_after_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    events, sqs = server.client("events"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("sq"))
    name = unique_name("hourly")
    events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn, "Input": '{"tick": 1}'}])
    server.restart()
    events, sqs = server.client("events"), server.client("sqs")
    assert no_messages(sqs, url, wait=1)
    server.advance_clock(3600)
    assert json.loads(messages(sqs, url)[0]["Body"]) == {"tick": 1}


def test_delivered_events_are_not_delivered_again_after_kill_9(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    events, sqs = server.client("events"), server.client("sqs")
    _, url = rule_to_queue(events, sqs, unique_name, InputPath="$.detail")
    scheduled_url, scheduled_arn = make_queue(sqs, unique_name("sq"))
    tick = unique_name("tick")
    events.put_rule(Name=tick, ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule=tick, Targets=[{"Id": "q", "Arn": scheduled_arn}])
    events.put_events(Entries=[entry({"n": i}) for i in range(5)])
    assert sorted(json.loads(m["Body"])["n"] for m in messages(sqs, url, expected=5)) == list(range(5))
    server.advance_clock(3600)
    assert len(messages(sqs, scheduled_url)) == 1

    server.kill9()
    server.restart()
    sqs = server.client("sqs")
    # A delivery that ended leaves nothing behind to resume, even once its retries would be due.
    server.advance_clock(600)
    assert no_messages(sqs, url, wait=2)
    assert no_messages(sqs, scheduled_url, wait=1)
