"""Lambda writes each invocation's log to CloudWatch Logs: /aws/lambda/<name>, one
stream per execution environment, with START, the function's output, END and REPORT."""

from __future__ import annotations

import re
import time

from lambda_helpers import create_python

STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def wait_for_messages(logs, group, count, timeout=20):
    deadline = time.time() + timeout
    events = []
    while time.time() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if len(events) >= count:
            return events
        time.sleep(0.2)
    return events


def test_invocation_output_and_report_lines_reach_the_function_log_group(aws_client, unique_name):
    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("logged")
    source = """
    import sys
    def handler(event, context):
        print("hello from", event["who"])
        print("to stderr", file=sys.stderr)
        return "ok"
    """
    create_python(lam, name, source)
    first = lam.invoke(FunctionName=name, Payload=b'{"who": "first"}')
    assert first["StatusCode"] == 200 and "FunctionError" not in first
    lam.invoke(FunctionName=name, Payload=b'{"who": "second"}')
    group = f"/aws/lambda/{name}"
    events = wait_for_messages(logs, group, 10)
    # Lambda ends every message with a newline.
    assert all(e["message"].endswith("\n") for e in events)
    messages = [e["message"].rstrip("\n") for e in events]
    assert "hello from first" in messages and "hello from second" in messages
    assert "to stderr" in messages
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    ends = [m for m in messages if m.startswith("END RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(starts) == len(ends) == len(reports) == 2
    assert starts[0].endswith("Version: $LATEST")
    assert reports[0].endswith(" ms\t") and events[-1]["message"].endswith("\t\n")
    assert "Duration: " in reports[0] and "Billed Duration: " in reports[0] and "Memory Size: 128 MB" in reports[0]
    # A cold start reports its init duration; the warm one does not.
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    # The order within an invocation: START, output, END, REPORT (stdout and stderr are
    # two pipes, so their lines may interleave either way).
    i = messages.index(starts[0])
    request_id = starts[0].split()[2]
    assert sorted(messages[i + 1 : i + 3]) == ["hello from first", "to stderr"]
    assert messages[i + 3 : i + 5] == [f"END RequestId: {request_id}", reports[0]]
    # One warm environment served both invocations: one stream, named as Lambda names it.
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1
    assert STREAM_NAME.match(streams[0]["logStreamName"]), streams[0]["logStreamName"]
    assert {e["logStreamName"] for e in events} == {streams[0]["logStreamName"]}
    found = logs.filter_log_events(logGroupName=group, filterPattern='"hello from second"')["events"]
    assert [e["message"] for e in found] == ["hello from second\n"]


def test_function_sees_its_own_log_group_and_stream(aws_client, unique_name):
    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("whoami")
    source = """
    import os
    def handler(event, context):
        print("stream=" + os.environ["AWS_LAMBDA_LOG_STREAM_NAME"])
        return os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    """
    create_python(lam, name, source)
    out = lam.invoke(FunctionName=name)["Payload"].read()
    assert out == f'"/aws/lambda/{name}"'.encode()
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 4)
    line = next(e for e in events if e["message"].startswith("stream="))
    assert line["message"] == "stream=" + line["logStreamName"] + "\n"


def test_timed_out_invocation_logs_the_timeout(aws_client, unique_name):
    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("slow")
    source = """
    import time
    def handler(event, context):
        print("going to sleep")
        time.sleep(10)
    """
    create_python(lam, name, source, Timeout=1)
    r = lam.invoke(FunctionName=name)
    assert r["FunctionError"] == "Unhandled"
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 5)
    messages = [e["message"] for e in events]
    assert "going to sleep\n" in messages
    assert any("Task timed out after 1.00 seconds" in m for m in messages)
    assert messages[-1].startswith("REPORT RequestId: ")
