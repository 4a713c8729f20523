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


def report_line(messages):
    return next(m for m in messages if m.startswith("REPORT RequestId: "))


def test_import_error_is_logged_as_lambda_logs_a_failed_init(aws_client, unique_name):
    import base64
    import json

    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("noimport")
    create_python(lam, name, "def handler(e, c):\n    return 1\n", handler="nothere.handler")
    r = lam.invoke(FunctionName=name, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(r["Payload"].read())
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert doc["errorMessage"] == "Unable to import module 'nothere': No module named 'nothere'"
    assert doc["stackTrace"] == []
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 6)
    messages = [e["message"].rstrip("\n") for e in events]
    error = "[ERROR] Runtime.ImportModuleError: Unable to import module 'nothere': No module named 'nothere'"
    assert error in messages
    init_report = next(m for m in messages if m.startswith("INIT_REPORT "))
    assert init_report.startswith("INIT_REPORT Init Duration: ")
    assert init_report.endswith("\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError")
    # The init's output and report come before START; REPORT carries the status.
    start = next(i for i, m in enumerate(messages) if m.startswith("START RequestId: "))
    assert messages.index(error) < messages.index(init_report) < start
    assert messages[start + 1].startswith("END RequestId: ")
    assert report_line(messages).endswith("\tStatus: error\tError Type: Runtime.ImportModuleError\t")
    # LogType Tail returns the same lines.
    tail = base64.b64decode(r["LogResult"]).decode()
    assert error in tail and "Status: error\tError Type: Runtime.ImportModuleError" in tail


def test_bootstrap_that_exits_during_init_is_logged_as_an_exit_error(aws_client, unique_name):
    import json

    from lambda_helpers import ROLE, package

    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("exits")
    bootstrap = "#!/bin/sh\necho 'cannot start' >&2\nexit 1\n"
    lam.create_function(
        FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
        Code={"ZipFile": package({"bootstrap": bootstrap}, modes={"bootstrap": 0o755})},
    )
    r = lam.invoke(FunctionName=name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(r["Payload"].read())
    assert doc["errorType"] == "Runtime.ExitError"
    assert "Error: Runtime exited with error: exit status" in doc["errorMessage"]
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 7)
    messages = [e["message"].rstrip("\n") for e in events]
    assert "cannot start" in messages
    assert any(m.startswith("INIT_REPORT ") and m.endswith("Error Type: Runtime.ExitError") for m in messages)
    assert doc["errorMessage"] in messages and "Runtime.ExitError" in messages
    assert report_line(messages).endswith("\tStatus: error\tError Type: Runtime.ExitError\t")


def test_missing_bootstrap_is_logged_as_an_invalid_entrypoint(aws_client, unique_name):
    import json

    from lambda_helpers import ROLE, package

    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("noboot")
    lam.create_function(
        FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
        Code={"ZipFile": package({"README": "no bootstrap here"})},
    )
    r = lam.invoke(FunctionName=name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(r["Payload"].read())
    assert doc["errorType"] == "Runtime.InvalidEntrypoint"
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 6)
    messages = [e["message"].rstrip("\n") for e in events]
    assert any(m.endswith("Error Type: Runtime.InvalidEntrypoint") and m.startswith("INIT_REPORT ") for m in messages)
    assert doc["errorMessage"] in messages
    assert report_line(messages).endswith("\tStatus: error\tError Type: Runtime.InvalidEntrypoint\t")
    assert STREAM_NAME.match(events[0]["logStreamName"])


def test_timed_out_invocation_reports_status_timeout(aws_client, unique_name):
    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique_name("slow2")
    create_python(lam, name, "import time\ndef handler(e, c):\n    time.sleep(10)\n", Timeout=1)
    lam.invoke(FunctionName=name)
    events = wait_for_messages(logs, f"/aws/lambda/{name}", 4)
    assert report_line([e["message"] for e in events]).endswith("\tStatus: timeout\t\n")
