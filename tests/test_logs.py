"""CloudWatch Logs: log groups, streams, events, filter patterns, retention, tags,
subscription and metric filters, Logs Insights, durability and isolation."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python, error_code

RETENTION_VALUES = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


def now_ms() -> int:
    return int(time.time() * 1000)


def pages(call, field: str, limit: int = 3, **kwargs) -> list:
    """Every item of `field` over the pages of `call`, following nextToken `limit` at a time."""
    seen, token = [], None
    while True:
        page = call(limit=limit, **kwargs, **({"nextToken": token} if token else {}))
        assert len(page[field]) <= limit
        seen += page[field]
        token = page.get("nextToken")
        if not token:
            return seen


@pytest.fixture
def logs(aws_client):
    return aws_client("logs")


def make_stream(logs, unique_name, group=None, stream="s1"):
    group = group or unique_name("/test/group")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    return group, stream


def put(logs, group, stream, messages, base=None):
    base = base if base is not None else now_ms() - 60_000
    events = [{"timestamp": base + i, "message": m} for i, m in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


# --------------------------------------------------------------------------- log groups


def test_create_log_group_is_described_with_arns_and_defaults(logs, unique_name):
    name = unique_name("/aws/app")
    before = now_ms()
    logs.create_log_group(logGroupName=name, tags={"team": "a"})
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert len(groups) == 1
    g = groups[0]
    assert g["logGroupName"] == name
    assert g["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert before - 5000 <= g["creationTime"] <= now_ms() + 5000
    assert g["storedBytes"] == 0
    assert g["metricFilterCount"] == 0
    assert g["logGroupClass"] == "STANDARD"
    assert "retentionInDays" not in g
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"team": "a"}


def test_create_existing_log_group_fails(logs, unique_name):
    name = unique_name("g")
    logs.create_log_group(logGroupName=name)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=name)
    assert error_code(e) == "ResourceAlreadyExistsException"
    assert e.value.response["Error"]["Message"] == "The specified log group already exists"


@pytest.mark.parametrize("bad", ["has space", "colon:name", "star*", "x" * 513])
def test_invalid_log_group_names_are_rejected(logs, bad):
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=bad)
    assert error_code(e) == "InvalidParameterException"


def test_log_group_class_is_kept(logs, unique_name):
    name = unique_name("ia")
    logs.create_log_group(logGroupName=name, logGroupClass="INFREQUENT_ACCESS")
    g = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    assert g["logGroupClass"] == "INFREQUENT_ACCESS"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=unique_name("ia"), logGroupClass="COLD")
    assert error_code(e) == "InvalidParameterException"


def test_delete_log_group_removes_it_and_its_streams(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    put(logs, group, stream, ["a"])
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName=group)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The specified log group does not exist."
    logs.create_log_group(logGroupName=group)
    assert logs.describe_log_streams(logGroupName=group)["logStreams"] == []


def test_describe_log_groups_paginates_and_filters_by_pattern(logs, unique_name):
    prefix = unique_name("/page")
    names = [f"{prefix}/g{i:02}" for i in range(7)]
    for n in names:
        logs.create_log_group(logGroupName=n)
    seen = [g["logGroupName"] for g in pages(logs.describe_log_groups, "logGroups", logGroupNamePrefix=prefix)]
    assert seen == names
    paginator = logs.get_paginator("describe_log_groups")
    all_names = [g["logGroupName"] for p in paginator.paginate(logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2}) for g in p["logGroups"]]
    assert all_names == names
    pattern = prefix.split("-")[-1].upper() + "/G03"
    by_pattern = logs.describe_log_groups(logGroupNamePattern=pattern)["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == [names[3]]
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(logGroupNamePrefix=prefix, logGroupNamePattern="x")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(limit=51)
    assert error_code(e) == "InvalidParameterException"


# --------------------------------------------------------------------------- streams


def test_log_streams_lifecycle_and_errors(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    assert error_code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=group, logStreamName="bad:name")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName=unique_name("nogroup"), logStreamName="s")
    assert error_code(e) == "ResourceNotFoundException"
    s = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert s["logStreamName"] == stream
    assert s["arn"].endswith(f":log-group:{group}:log-stream:{stream}")
    assert "firstEventTimestamp" not in s
    logs.delete_log_stream(logGroupName=group, logStreamName=stream)
    with pytest.raises(ClientError) as e:
        logs.delete_log_stream(logGroupName=group, logStreamName=stream)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The specified log stream does not exist."


def test_describe_log_streams_orders_by_name_or_last_event_time(logs, unique_name):
    group = unique_name("order")
    logs.create_log_group(logGroupName=group)
    base = now_ms() - 100_000
    for name, offset in [("c", 1), ("a", 3), ("b", 2)]:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, ["x"], base=base + offset * 1000)
    by_name = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    assert by_name == ["a", "b", "c"]
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["a", "b", "c"]
    assert by_time[0]["lastEventTimestamp"] == base + 3000
    ascending = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime")["logStreams"]
    assert [s["logStreamName"] for s in ascending] == ["c", "b", "a"]
    s = ascending[0]
    assert s["firstEventTimestamp"] == s["lastEventTimestamp"] == base + 1000
    assert "lastIngestionTime" in s and "uploadSequenceToken" in s
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a")
    assert error_code(e) == "InvalidParameterException"
    page1 = logs.describe_log_streams(logGroupName=group, limit=2)
    assert [s["logStreamName"] for s in page1["logStreams"]] == ["a", "b"]
    page2 = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page1["nextToken"])
    assert [s["logStreamName"] for s in page2["logStreams"]] == ["c"]
    assert "nextToken" not in page2
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]
    assert [s["logStreamName"] for s in prefixed] == ["b"]


# --------------------------------------------------------------------------- events


def test_put_and_get_log_events_in_timestamp_order(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    base = now_ms() - 10_000
    r = logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": base + 2, "message": "second"}, {"timestamp": base + 1, "message": "first"}],
    )
    assert "nextSequenceToken" in r
    assert "rejectedLogEventsInfo" not in r
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["first", "second"]
    assert events[0]["timestamp"] == base + 1
    assert "ingestionTime" in events[0]
    # The sequence token is ignored, whatever it says.
    logs.put_log_events(logGroupName=group, logStreamName=stream, sequenceToken="bogus", logEvents=[{"timestamp": base + 3, "message": "third"}])
    assert len(logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]) == 3


def test_put_log_events_rejects_too_old_too_new_and_expired_events(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    events = [
        {"timestamp": now - 15 * 86_400_000, "message": "too old"},
        {"timestamp": now - 2 * 86_400_000, "message": "expired"},
        {"timestamp": now, "message": "ok"},
        {"timestamp": now + 3 * 3_600_000, "message": "too new"},
    ]
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    assert error_code(e) == "InvalidParameterException"  # spans more than 24 hours
    r = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[2:])
    assert r["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    r = logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now - 25 * 3_600_000, "message": "expired"}, {"timestamp": now - 2 * 3_600_000, "message": "ok"}],
    )
    assert r["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    logs.delete_retention_policy(logGroupName=group)
    r = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now - 14 * 86_400_000 - 7_200_000, "message": "too old"}, {"timestamp": now - 14 * 86_400_000 + 3_600_000, "message": "x"}])
    assert r["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
    msgs = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]]
    assert sorted(msgs) == ["ok", "ok", "x"]


def test_put_log_events_batch_limits(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    now = now_ms()
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": "x"}] * 10_001)
    assert error_code(e) == "InvalidParameterException"
    # 1,048,576 bytes counting 26 bytes of overhead per event.
    fits = 1_048_576 - 26
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": "a" * fits}])
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": "a" * (fits + 1)}])
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName="missing", logEvents=[{"timestamp": now, "message": "x"}])
    assert error_code(e) == "ResourceNotFoundException"


def test_get_log_events_tokens_page_forward_and_backward(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    put(logs, group, stream, [f"m{i}" for i in range(10)])
    head = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=4)
    assert [e["message"] for e in head["events"]] == ["m0", "m1", "m2", "m3"]
    assert head["nextForwardToken"].startswith("f/") and head["nextBackwardToken"].startswith("b/")
    nxt = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=head["nextForwardToken"], limit=4)
    assert [e["message"] for e in nxt["events"]] == ["m4", "m5", "m6", "m7"]
    last = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=nxt["nextForwardToken"], limit=4)
    assert [e["message"] for e in last["events"]] == ["m8", "m9"]
    end = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=last["nextForwardToken"], limit=4)
    assert end["events"] == []
    # At the end, AWS answers with the token it was given.
    assert end["nextForwardToken"] == last["nextForwardToken"]
    back = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=nxt["nextBackwardToken"], limit=3)
    assert [e["message"] for e in back["events"]] == ["m1", "m2", "m3"]
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3)
    assert [e["message"] for e in tail["events"]] == ["m7", "m8", "m9"]
    # New events appear after the forward token of the end.
    put(logs, group, stream, ["late"], base=now_ms())
    more = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=end["nextForwardToken"])
    assert [e["message"] for e in more["events"]] == ["late"]


def test_get_log_events_time_range(logs, unique_name):
    group, stream = make_stream(logs, unique_name)
    base = now_ms() - 60_000
    put(logs, group, stream, ["a", "b", "c", "d"], base=base)
    r = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=base + 1, endTime=base + 3, startFromHead=True)
    # endTime is exclusive.
    assert [e["message"] for e in r["events"]] == ["b", "c"]
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName=group, logStreamName="nope")
    assert error_code(e) == "ResourceNotFoundException"


# --------------------------------------------------------------------------- filter patterns


@pytest.fixture
def filter_group(logs, unique_name):
    group = unique_name("/filter")
    logs.create_log_group(logGroupName=group)
    for s in ["web-1", "web-2", "worker"]:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    base = now_ms() - 60_000
    put(logs, group, "web-1", [
        "ERROR disk full on /dev/sda",
        "INFO request served",
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 2326',
    ], base=base)
    put(logs, group, "web-2", [
        "WARN slow response",
        '10.0.0.2 - bob [10/Oct/2000:13:25:16 -0700] "POST /api HTTP/1.1" 200 512',
    ], base=base + 10)
    put(logs, group, "worker", [
        json.dumps({"level": "ERROR", "latency": 250, "user": {"id": "u1"}}),
        json.dumps({"level": "INFO", "latency": 20, "user": {"id": "u2"}}),
        "ERROR timeout talking to db",
    ], base=base + 20)
    return group, base


def messages(logs, group, pattern=None, **kwargs):
    if pattern is not None:
        kwargs["filterPattern"] = pattern
    return [e["message"] for e in logs.filter_log_events(logGroupName=group, **kwargs)["events"]]


def test_filter_terms_phrases_exclusions_and_or(logs, filter_group):
    group, _ = filter_group
    assert messages(logs, group, "ERROR") == ["ERROR disk full on /dev/sda", '{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}', "ERROR timeout talking to db"]
    assert messages(logs, group, "ERROR -timeout -latency") == ["ERROR disk full on /dev/sda"]
    assert messages(logs, group, '"disk full"') == ["ERROR disk full on /dev/sda"]
    assert messages(logs, group, "?WARN ?INFO") == ["INFO request served", "WARN slow response", '{"level": "INFO", "latency": 20, "user": {"id": "u2"}}']
    assert messages(logs, group, "error") == []  # case-sensitive
    assert len(messages(logs, group)) == 8


def test_filter_json_patterns(logs, filter_group):
    group, _ = filter_group
    assert messages(logs, group, '{ $.level = "ERROR" && $.latency > 100 }') == ['{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}']
    assert messages(logs, group, '{ $.user.id = "u2" || $.latency >= 250 }') == [
        '{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}',
        '{"level": "INFO", "latency": 20, "user": {"id": "u2"}}',
    ]
    assert messages(logs, group, "{ $.level = INF* }") == ['{"level": "INFO", "latency": 20, "user": {"id": "u2"}}']
    assert messages(logs, group, "{ $.missing NOT EXISTS && $.latency < 100 }") == ['{"level": "INFO", "latency": 20, "user": {"id": "u2"}}']


def test_filter_space_delimited_patterns(logs, filter_group):
    group, _ = filter_group
    assert len(messages(logs, group, "[ip, identity, user, timestamp, request, status, bytes]")) == 2
    assert messages(logs, group, "[ip, identity, user, timestamp, request, status = 4*, bytes]") == [
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 2326'
    ]
    assert messages(logs, group, "[..., status, bytes < 1000]") == ['10.0.0.2 - bob [10/Oct/2000:13:25:16 -0700] "POST /api HTTP/1.1" 200 512']
    assert len(messages(logs, group, '[ip, ..., request = "*GET*" || request = "*POST*", status, bytes]')) == 2


def test_filter_by_streams_time_and_pagination(logs, filter_group):
    group, base = filter_group
    r = logs.filter_log_events(logGroupName=group, logStreamNames=["web-2"])
    assert {e["logStreamName"] for e in r["events"]} == {"web-2"}
    assert [s["logStreamName"] for s in r["searchedLogStreams"]] == ["web-2"]
    assert all(len(e["eventId"]) == 56 for e in r["events"])
    r = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="web")
    assert {e["logStreamName"] for e in r["events"]} == {"web-1", "web-2"}
    assert messages(logs, group, startTime=base + 20, endTime=base + 22) == ['{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}', '{"level": "INFO", "latency": 20, "user": {"id": "u2"}}']
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, logStreamNames=["web-1"], logStreamNamePrefix="web")
    assert error_code(e) == "InvalidParameterException"
    seen = [e["message"] for e in pages(logs.filter_log_events, "events", logGroupName=group)]
    assert seen == messages(logs, group)
    assert [e["timestamp"] for e in logs.filter_log_events(logGroupName=group)["events"]] == sorted(
        e["timestamp"] for e in logs.filter_log_events(logGroupName=group)["events"]
    )
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.a = ")
    assert error_code(e) == "InvalidParameterException"


def test_aws_cli_filter_and_get_log_events(aws_cli, filter_group):
    # The pinned AWS CLI is v1, which has no `aws logs tail`; these are what it calls.
    group, _ = filter_group
    out = aws_cli("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "WARN")
    assert [e["message"] for e in out["events"]] == ["WARN slow response"]
    out = aws_cli("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR", "--max-items", "2")
    assert len(out["events"]) == 2 and "NextToken" in out
    out = aws_cli("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "web-1", "--start-from-head")
    assert [e["message"] for e in out["events"]][0] == "ERROR disk full on /dev/sda"


# --------------------------------------------------------------------------- retention and tags


def test_put_retention_policy_accepts_only_documented_values(logs, unique_name):
    group = unique_name("ret")
    logs.create_log_group(logGroupName=group)
    for days in RETENTION_VALUES[:4] + [3653]:
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)
        assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == days
    for bad in [0, 2, 4000]:
        with pytest.raises(ClientError) as e:
            logs.put_retention_policy(logGroupName=group, retentionInDays=bad)
        assert error_code(e) == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=unique_name("none"), retentionInDays=1)
    assert error_code(e) == "ResourceNotFoundException"


def test_retention_expires_events_as_the_clock_advances(kagami_process):
    server = kagami_process()
    logs = server.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    now = now_ms()
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now - 3_600_000, "message": "old"}, {"timestamp": now, "message": "new"}])
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    assert len(logs.get_log_events(logGroupName="g", logStreamName="s")["events"]) == 2
    # One day minus 30 minutes: "old" is now more than a day old, "new" is not.
    server.advance_clock(86_400 - 1800)
    assert [e["message"] for e in logs.get_log_events(logGroupName="g", logStreamName="s")["events"]] == ["new"]
    assert [e["message"] for e in logs.filter_log_events(logGroupName="g")["events"]] == ["new"]
    server.advance_clock(3600)
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 0


def test_tags_by_arn_and_legacy_operations(logs, unique_name):
    group = unique_name("tags")
    logs.create_log_group(logGroupName=group, tags={"a": "1"})
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"b": "2"}
    logs.tag_log_group(logGroupName=group, tags={"c": "3"})
    logs.untag_log_group(logGroupName=group, tags=["b"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"c": "3"}
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn + "-missing")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(51)})
    assert error_code(e) == "TooManyTagsException"


# --------------------------------------------------------------------------- subscription and metric filters


def test_subscription_filters_are_limited_to_two_per_group(logs, unique_name):
    group = unique_name("sub")
    logs.create_log_group(logGroupName=group)
    dest = "arn:aws:lambda:us-east-1:000000000000:function:nothing"
    logs.put_subscription_filter(logGroupName=group, filterName="one", filterPattern="ERROR", destinationArn=dest)
    logs.put_subscription_filter(logGroupName=group, filterName="two", filterPattern="", destinationArn=dest)
    # Updating an existing filter is not a third one.
    logs.put_subscription_filter(logGroupName=group, filterName="one", filterPattern="WARN", destinationArn=dest)
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="three", filterPattern="", destinationArn=dest)
    assert error_code(e) == "LimitExceededException"
    filters = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in filters] == [("one", "WARN"), ("two", "")]
    assert filters[0]["destinationArn"] == dest and filters[0]["logGroupName"] == group
    logs.delete_subscription_filter(logGroupName=group, filterName="one")
    with pytest.raises(ClientError) as e:
        logs.delete_subscription_filter(logGroupName=group, filterName="one")
    assert error_code(e) == "ResourceNotFoundException"
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]] == ["two"]


def test_subscription_filter_delivers_matching_events_to_lambda(aws_client, logs, unique_name):
    lam = aws_client("lambda")
    sink = unique_name("sink")
    fn = unique_name("receiver")
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=sink)
    source = f'''
import base64, gzip, json, os, boto3
def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    boto3.client("s3", region_name="us-east-1").put_object(Bucket="{sink}", Key=data["logStream"], Body=json.dumps(data))
    return {{}}
'''
    arn = create_python(lam, fn, source, Timeout=30)["FunctionArn"]
    group, stream = make_stream(logs, unique_name)
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=arn)
    put(logs, group, stream, ["ERROR one", "INFO skip", "ERROR two"])
    deadline = time.time() + 30
    body = None
    while time.time() < deadline:
        try:
            body = json.loads(s3.get_object(Bucket=sink, Key=stream)["Body"].read())
            break
        except ClientError:
            time.sleep(0.3)
    assert body is not None, "the function never received the subscription's events"
    assert body["messageType"] == "DATA_MESSAGE"
    assert body["owner"] == "000000000000"
    assert body["logGroup"] == group and body["logStream"] == stream
    assert body["subscriptionFilters"] == ["errors"]
    assert [e["message"] for e in body["logEvents"]] == ["ERROR one", "ERROR two"]
    assert all(set(e) == {"id", "timestamp", "message"} for e in body["logEvents"])


def test_metric_filters_are_stored_validated_and_counted(logs, unique_name):
    group = unique_name("metric")
    logs.create_log_group(logGroupName=group)
    t = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", metricTransformations=[t])
    logs.put_metric_filter(logGroupName=group, filterName="latency", filterPattern="{ $.latency > 0 }", metricTransformations=[{**t, "metricName": "Latency", "metricValue": "$.latency"}])
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in filters] == ["errors", "latency"]
    assert filters[0]["metricTransformations"][0] == t
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    by_metric = logs.describe_metric_filters(metricName="Latency", metricNamespace="App")["metricFilters"]
    assert [f["filterName"] for f in by_metric if f["logGroupName"] == group] == ["latency"]
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="bad", filterPattern="{ $.a = ", metricTransformations=[t])
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="two", filterPattern="", metricTransformations=[t, t])
    assert error_code(e) == "InvalidParameterException"
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    with pytest.raises(ClientError) as e:
        logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert error_code(e) == "ResourceNotFoundException"


# --------------------------------------------------------------------------- isolation and durability


def test_accounts_and_regions_are_isolated(aws_client, unique_name):
    name = unique_name("iso")
    a = aws_client("logs", account="111111111111")
    b = aws_client("logs", account="222222222222")
    west = aws_client("logs", region="us-west-2", account="111111111111")
    a.create_log_group(logGroupName=name)
    assert b.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    assert west.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    b.create_log_group(logGroupName=name)
    arn = a.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"]
    assert ":111111111111:" in arn
    west.create_log_group(logGroupName=name)
    west_arn = west.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"]
    assert west_arn.startswith("arn:aws:logs:us-west-2:111111111111:")


def test_groups_streams_and_events_survive_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/durable", tags={"k": "v"})
    logs.put_retention_policy(logGroupName="/durable", retentionInDays=7)
    logs.create_log_stream(logGroupName="/durable", logStreamName="s")
    logs.create_log_stream(logGroupName="/durable", logStreamName="gone")
    base = now_ms() - 1000
    put(logs, "/durable", "s", ["one", "two", "three"], base=base)
    logs.delete_log_stream(logGroupName="/durable", logStreamName="gone")
    logs.put_metric_filter(logGroupName="/durable", filterName="m", filterPattern="one", metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}])
    server.kill9()
    server.restart()
    logs = server.client("logs")
    g = logs.describe_log_groups()["logGroups"]
    assert [(x["logGroupName"], x["retentionInDays"], x["metricFilterCount"]) for x in g] == [("/durable", 7, 1)]
    assert logs.list_tags_log_group(logGroupName="/durable")["tags"] == {"k": "v"}
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/durable")["logStreams"]] == ["s"]
    events = logs.get_log_events(logGroupName="/durable", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["one", "two", "three"]
    put(logs, "/durable", "s", ["four"], base=base + 10)
    assert [e["message"] for e in logs.filter_log_events(logGroupName="/durable")["events"]] == ["one", "two", "three", "four"]


def test_unimplemented_operations_answer_not_implemented(logs):
    with pytest.raises(ClientError) as e:
        logs.describe_account_policies(policyType="DATA_PROTECTION_POLICY")
    assert error_code(e) == "NotImplemented"


# --------------------------------------------------------------------------- Logs Insights


def run_query(logs, group, query, **kwargs):
    end = int(time.time()) + 60
    qid = logs.start_query(logGroupName=group, startTime=end - 3600, endTime=end, queryString=query, **kwargs)["queryId"]
    r = logs.get_query_results(queryId=qid)
    assert r["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in r["results"]], r


def test_insights_fields_filter_sort_limit(logs, filter_group):
    group, base = filter_group
    rows, r = run_query(logs, group, "fields @timestamp, @message, @logStream | filter @message like /ERROR/ | sort @timestamp asc | limit 2")
    assert [row["@message"] for row in rows] == ["ERROR disk full on /dev/sda", '{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}']
    assert rows[0]["@logStream"] == "web-1"
    assert set(rows[0]) == {"@timestamp", "@message", "@logStream", "@ptr"}
    assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$", rows[0]["@timestamp"])
    assert r["statistics"]["recordsScanned"] == 8
    rows, _ = run_query(logs, group, 'fields level, latency | filter level = "ERROR" and latency > 100')
    assert rows == [{"level": "ERROR", "latency": "250", "@ptr": rows[0]["@ptr"]}]
    rows, _ = run_query(logs, group, 'filter level != "ERROR" and ispresent_not_a_field = 1')
    assert rows == []
    rows, _ = run_query(logs, group, 'fields @message | filter @logStream = "web-2" | sort @timestamp desc')
    assert [row["@message"] for row in rows] == ['10.0.0.2 - bob [10/Oct/2000:13:25:16 -0700] "POST /api HTTP/1.1" 200 512', "WARN slow response"]


def test_insights_stats_count_by_field(logs, filter_group):
    group, _ = filter_group
    rows, _ = run_query(logs, group, "stats count(*) as events by @logStream | sort events desc, @logStream asc")
    assert rows == [
        {"@logStream": "web-1", "events": "3"},
        {"@logStream": "worker", "events": "3"},
        {"@logStream": "web-2", "events": "2"},
    ]
    rows, _ = run_query(logs, group, "filter latency > 0 | stats count(*), avg(latency)")
    assert rows == [{"count(*)": "2", "avg(latency)": "135"}]


def test_insights_query_lifecycle_and_errors(logs, filter_group, unique_name):
    group, _ = filter_group
    end = int(time.time()) + 60
    qid = logs.start_query(logGroupName=group, startTime=end - 3600, endTime=end, queryString="fields @message")["queryId"]
    described = logs.describe_queries(logGroupName=group)["queries"]
    assert described[0]["queryId"] == qid and described[0]["status"] == "Running"
    assert described[0]["queryString"] == "fields @message"
    assert logs.stop_query(queryId=qid)["success"] is True
    assert logs.get_query_results(queryId=qid)["status"] == "Cancelled"
    assert [q["queryId"] for q in logs.describe_queries(logGroupName=group, status="Cancelled")["queries"]] == [qid]
    with pytest.raises(ClientError) as e:
        logs.stop_query(queryId=qid)
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=group, startTime=end - 3600, endTime=end, queryString="frobnicate everything")
    assert error_code(e) == "MalformedQueryException"
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=unique_name("missing"), startTime=end - 3600, endTime=end, queryString="fields @message")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert error_code(e) == "ResourceNotFoundException"
    rows_two, _ = run_query(logs, group, "fields @message | limit 100", limit=3)
    assert len(rows_two) == 3
