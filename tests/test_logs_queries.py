"""CloudWatch Logs: regular expressions in filter patterns, TestMetricFilter,
GetLogGroupFields, GetLogRecord and the Logs Insights commands parse, dedup,
stats ... by bin() and count_distinct."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import error_code


@pytest.fixture
def logs(aws_client):
    return aws_client("logs")


@pytest.fixture
def app_group(logs, unique_name):
    """A group with two streams of access-log and JSON lines, a minute old and older."""
    group = unique_name("/insights/app")
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    base = now - 20 * 60_000
    lines = {
        "web": [
            (base, "[INFO] user=ann path=/home took 30ms"),
            (base + 60_000, "[ERROR] user=bob path=/pay took 250ms"),
            (base + 7 * 60_000, "[INFO] user=ann path=/cart took 45ms"),
            (now - 60_000, "[WARN] user=cid path=/home took 120ms"),
        ],
        "worker": [
            (base + 30_000, '{"level": "ERROR", "job": "sync", "ms": 900}'),
            (now - 30_000, '{"level": "INFO", "job": "mail", "ms": 12}'),
        ],
    }
    for stream, events in lines.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t, "message": m} for t, m in events])
    return group


def filtered(logs, group, pattern):
    return [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]


def query(logs, group, text):
    end = int(time.time()) + 60
    qid = logs.start_query(logGroupName=group, startTime=end - 3600, endTime=end, queryString=text)["queryId"]
    r = logs.get_query_results(queryId=qid)
    assert r["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in r["results"]]


# --------------------------------------------------------------------------- filter patterns


def test_filter_patterns_with_regular_expressions(logs, app_group):
    assert filtered(logs, app_group, "%ERROR|WARN%") == ['{"level": "ERROR", "job": "sync", "ms": 900}', "[ERROR] user=bob path=/pay took 250ms", "[WARN] user=cid path=/home took 120ms"]
    assert filtered(logs, app_group, r"%took [0-9]{3}ms$%") == ["[ERROR] user=bob path=/pay took 250ms", "[WARN] user=cid path=/home took 120ms"]
    assert filtered(logs, app_group, r"%^\[INFO\]%") == ["[INFO] user=ann path=/home took 30ms", "[INFO] user=ann path=/cart took 45ms"]
    assert filtered(logs, app_group, '{ $.job = %^s% }') == ['{"level": "ERROR", "job": "sync", "ms": 900}']
    assert filtered(logs, app_group, "[level = %ERR%, ...]") == ["[ERROR] user=bob path=/pay took 250ms"]
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=app_group, filterPattern="%(ERROR)%")
    assert error_code(e) == "InvalidParameterException"


def test_metric_filters_accept_regular_expressions(logs, app_group):
    transformation = [{"metricName": "Slow", "metricNamespace": "App", "metricValue": "1"}]
    logs.put_metric_filter(logGroupName=app_group, filterName="slow", filterPattern=r"%took [0-9]{3}ms%", metricTransformations=transformation)
    assert logs.describe_metric_filters(logGroupName=app_group)["metricFilters"][0]["filterPattern"] == r"%took [0-9]{3}ms%"
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=app_group, filterName="bad", filterPattern="%something!%", metricTransformations=transformation)
    assert error_code(e) == "InvalidParameterException"


def test_test_metric_filter_reports_matches_and_extracted_values(logs):
    messages = ["127.0.0.1 frank GET 404 1534", "10.0.0.2 bob POST 200 512", "not an access line"]
    r = logs.test_metric_filter(filterPattern="[ip, user, method, status = 4*, bytes]", logEventMessages=messages)
    assert r["matches"] == [
        {
            "eventNumber": 1,
            "eventMessage": "127.0.0.1 frank GET 404 1534",
            "extractedValues": {"$ip": "127.0.0.1", "$user": "frank", "$method": "GET", "$status": "404", "$bytes": "1534"},
        }
    ]
    r = logs.test_metric_filter(filterPattern="%POST|GET%", logEventMessages=messages)
    assert [(m["eventNumber"], m["extractedValues"]) for m in r["matches"]] == [(1, {}), (2, {})]
    with pytest.raises(ClientError) as e:
        logs.test_metric_filter(filterPattern="{ $.a = }", logEventMessages=messages)
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.test_metric_filter(filterPattern="x", logEventMessages=["m"] * 51)
    assert error_code(e) == "InvalidParameterException"


# --------------------------------------------------------------------------- fields and records


def test_get_log_group_fields_counts_recent_fields(logs, app_group):
    fields = {f["name"]: f["percent"] for f in logs.get_log_group_fields(logGroupName=app_group)["logGroupFields"]}
    # The last 15 minutes hold three events, one of them a JSON line.
    assert fields["@message"] == 100 and fields["@timestamp"] == 100 and fields["@logStream"] == 100
    assert fields["level"] == 33 and fields["job"] == 33 and fields["ms"] == 33
    # With a time, the 8 minutes either side of it are searched: the first JSON line's time.
    around = (int(time.time()) - 20 * 60) + 30
    fields = {f["name"]: f["percent"] for f in logs.get_log_group_fields(logGroupName=app_group, time=around)["logGroupFields"]}
    assert fields["@message"] == 100 and fields["job"] == 25
    with pytest.raises(ClientError) as e:
        logs.get_log_group_fields(logGroupName=app_group + "-missing")
    assert error_code(e) == "ResourceNotFoundException"


def test_get_log_record_follows_an_insights_pointer(logs, app_group):
    rows = query(logs, app_group, 'fields @message | filter job = "sync"')
    assert len(rows) == 1
    record = logs.get_log_record(logRecordPointer=rows[0]["@ptr"])["logRecord"]
    assert record["@message"] == '{"level": "ERROR", "job": "sync", "ms": 900}'
    assert record["@logStream"] == "worker"
    assert record["@log"].endswith(":" + app_group)
    assert record["job"] == "sync" and record["ms"] == "900"
    assert int(record["@timestamp"]) > 0 and int(record["@ingestionTime"]) >= int(record["@timestamp"])
    with pytest.raises(ClientError) as e:
        logs.get_log_record(logRecordPointer="garbage")
    assert error_code(e) == "InvalidParameterException"


# --------------------------------------------------------------------------- Insights commands


def test_insights_parse_with_glob_and_regex(logs, app_group):
    rows = query(logs, app_group, 'parse @message "[*] user=* path=* took *ms" as level, user, path, ms | filter @logStream = "web" and level = "INFO" | sort @timestamp asc | fields user, path, ms')
    assert [(r["user"], r["path"], r["ms"]) for r in rows] == [("ann", "/home", "30"), ("ann", "/cart", "45")]
    rows = query(logs, app_group, r"parse @message /user=(?<who>\w+) path=(?<path>\S+)/ | filter who = 'bob' | fields who, path")
    assert [(r["who"], r["path"]) for r in rows] == [("bob", "/pay")]
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=app_group, startTime=0, endTime=int(time.time()), queryString='parse @message "a * b *" as x')
    assert error_code(e) == "MalformedQueryException"


def test_insights_dedup_keeps_the_first_row_of_each_value(logs, app_group):
    rows = query(logs, app_group, 'parse @message "user=* " as user | filter ispresent(user) | sort @timestamp desc | dedup user | fields user')
    assert [r["user"] for r in rows] == ["cid", "ann", "bob"]


def test_insights_stats_by_bin_and_distinct_counts(logs, app_group):
    rows = query(logs, app_group, "filter @logStream = 'web' | stats count(*) as n by bin(1h)")
    assert len(rows) in (1, 2) and sum(int(r["n"]) for r in rows) == 4
    assert all(r["bin(1h)"].endswith(":00:00.000") for r in rows)
    rows = query(logs, app_group, 'parse @message "user=* " as user | stats count_distinct(user) as users, count(*) as lines, max(ms) as slowest')
    assert rows == [{"users": "3", "lines": "6", "slowest": "900"}]
    rows = query(logs, app_group, "filter ms > 0 | stats avg(ms) as avg, sum(ms) as total, min(ms) as fastest by level | sort level asc")
    assert rows == [{"level": "ERROR", "avg": "900", "total": "900", "fastest": "900"}, {"level": "INFO", "avg": "12", "total": "12", "fastest": "12"}]


def test_aws_cli_test_metric_filter(aws_cli):
    out = aws_cli("logs", "test-metric-filter", "--filter-pattern", '{ $.level = "ERROR" }', "--log-event-messages", json.dumps({"level": "ERROR"}), json.dumps({"level": "INFO"}))
    assert [m["eventNumber"] for m in out["matches"]] == [1]
