"""Asynchronous invocations survive a crash in durable mode: an event Lambda answered
202 for is not lost when kagami is killed (-9) before the event ran, or between two
attempts; after the restart it runs, with the attempts it had already made counted."""

from __future__ import annotations

import json
import time

import pytest

from lambda_helpers import create_python, make_queue

# Appends one line per attempt to the file the event names, then sleeps or fails.
SLOW = """
    import time
    def handler(event, context):
        with open(event["marker"], "a") as f:
            f.write("attempt\\n")
        time.sleep(event.get("sleep", 0))
        return {"done": event["order"]}
"""
FAILING = """
    def handler(event, context):
        with open(event["marker"], "a") as f:
            f.write("attempt\\n")
        raise ValueError("cannot process " + str(event["order"]))
"""


def attempts(marker) -> int:
    try:
        return marker.read_text().count("attempt")
    except FileNotFoundError:
        return 0


def wait_until(predicate, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout} s")


def wait_for_record(sqs, url, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", [])
        if messages:
            assert len(messages) == 1, "the record was delivered once"
            return json.loads(messages[0]["Body"])
    pytest.fail(f"no record reached {url} within {timeout} s")


def test_event_killed_before_it_finished_runs_after_the_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path / "data")
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("done"))
    name = unique_name("slow")
    create_python(lam, name, SLOW, Timeout=30)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    marker = tmp_path / "slow.marker"
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 1, "marker": str(marker), "sleep": 5}))
    assert r["StatusCode"] == 202
    # The first attempt started, and kagami dies (with the runtime) before it ends.
    wait_until(lambda: attempts(marker) == 1, what="the first attempt")
    server.kill9()
    server.restart()
    record = wait_for_record(server.client("sqs"), url)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"]["order"] == 1
    assert record["responsePayload"] == {"done": 1}
    assert attempts(marker) == 2, "the interrupted attempt ran again"


def test_event_waiting_for_its_retry_is_retried_after_the_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path / "data")
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("failed"))
    name = unique_name("retry")
    create_python(lam, name, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    marker = tmp_path / "retry.marker"
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 2, "marker": str(marker)}))
    wait_until(lambda: attempts(marker) == 1, what="the first attempt")
    # Give the failed attempt's retry time a moment to be written, then crash.
    time.sleep(1)
    server.kill9()
    server.restart()
    sqs = server.client("sqs")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", []) == [], "the retry waits a minute"
    assert attempts(marker) == 1
    server.advance_clock(120)
    record = wait_for_record(sqs, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert record["responsePayload"]["errorMessage"] == "cannot process 2"
    assert attempts(marker) == 2


def test_finished_events_do_not_run_again_after_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path / "data")
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("once"))
    name = unique_name("once")
    create_python(lam, name, SLOW)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    marker = tmp_path / "once.marker"
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 3, "marker": str(marker)}))
    assert wait_for_record(sqs, url)["requestContext"]["condition"] == "Success"
    # The event's record is removed just after the delivery (at least once, as in AWS).
    time.sleep(1)
    server.kill9()
    server.restart()
    time.sleep(2)
    assert attempts(marker) == 1
    assert server.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
