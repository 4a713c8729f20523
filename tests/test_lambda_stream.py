"""Lambda InvokeWithResponseStream (an application/vnd.amazon.eventstream answer:
PayloadChunk events, then InvokeComplete with ErrorCode, ErrorDetails and LogResult) and
the deprecated InvokeAsync (the body is the event, queued like an Event invoke: 202)."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError

from lambda_helpers import create_python, error_of, function_arn, new_account, package

ECHO = """
    def handler(event, context):
        print("handling", event.get("n"))
        return {"echo": event, "version": context.function_version}
"""
FAILING = """
    class OrderError(Exception):
        pass

    def handler(event, context):
        raise OrderError("order 42 is missing")
"""
EVENTSTREAM = "application/vnd.amazon.eventstream"


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def stream(lam, name, event=None, **kwargs):
    """(response, PayloadChunk bytes joined, the events in order)."""
    r = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    events = list(r["EventStream"])
    body = b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e)
    return r, body, events


def test_payload_chunks_carry_the_handler_result_then_invoke_complete(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    r, body, events = stream(lam, name, {"n": 1})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["ResponseStreamContentType"] == EVENTSTREAM
    assert json.loads(body) == {"echo": {"n": 1}, "version": "$LATEST"}
    assert [next(iter(e)) for e in events][-1] == "InvokeComplete", events
    assert all("PayloadChunk" in e for e in events[:-1])
    complete = events[-1]["InvokeComplete"]
    assert "ErrorCode" not in complete and "ErrorDetails" not in complete
    assert "LogResult" not in complete, "logs only with LogType Tail"


def test_log_type_tail_puts_the_log_in_invoke_complete(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    _, body, events = stream(lam, name, {"n": 7}, LogType="Tail")
    assert json.loads(body)["echo"] == {"n": 7}
    log = base64.b64decode(events[-1]["InvokeComplete"]["LogResult"]).decode()
    assert "START RequestId:" in log and "handling 7" in log and "REPORT RequestId:" in log


def test_a_handler_error_ends_the_stream_with_its_error_code(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, FAILING)
    r, body, events = stream(lam, name)
    assert r["StatusCode"] == 200, "a function error is not an API error"
    assert body == b"", "the error is no response payload"
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "OrderError"
    assert complete["ErrorDetails"] == "order 42 is missing"


def test_qualifier_runs_the_published_version_and_the_alias(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, 'def handler(e, c):\n    return "v1"\n')
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.update_function_code(
        FunctionName=name,
        ZipFile=package({"app.py": 'def handler(e, c):\n    return "v2"\n'}),
    )
    r, body, _ = stream(lam, name, Qualifier=version)
    assert (r["ExecutedVersion"], json.loads(body)) == (version, "v1")
    r, body, _ = stream(lam, name, Qualifier="live")
    assert (r["ExecutedVersion"], json.loads(body)) == (version, "v1")
    r, body, _ = stream(lam, name)
    assert (r["ExecutedVersion"], json.loads(body)) == ("$LATEST", "v2")


def test_unknown_function_or_qualifier_is_resource_not_found(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {function_arn(name)}", 404)
    create_python(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.invoke_with_response_stream(FunctionName=name, Qualifier="9", Payload=b"{}")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_functions_are_private_to_their_account(lam, aws_client, unique_name):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    other = aws_client("lambda", account=new_account())
    with pytest.raises(ClientError) as e:
        other.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_event_is_not_a_response_streaming_invocation_type(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.invoke_with_response_stream(FunctionName=name, InvocationType="Event", Payload=b"{}")
    code, message, status = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert "Member must satisfy enum value set: [RequestResponse, DryRun]" in message


def test_dry_run_answers_204_without_running(lam, unique_name):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    r = lam.invoke_with_response_stream(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert r["StatusCode"] == 204


def test_each_event_is_a_framed_message_with_aws_headers(http, unique_name, lam):
    name = unique_name("stream")
    create_python(lam, name, ECHO)
    r = http.signed(
        "POST", f"/2021-11-15/functions/{name}/response-streaming-invocations", "lambda", body=b'{"n": 3}'
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == EVENTSTREAM
    assert r.headers["X-Amz-Executed-Version"] == "$LATEST"
    buffer = EventStreamBuffer()
    buffer.add_data(r.content)  # the parser checks the prelude and message CRCs
    messages = list(buffer)
    headers = [m.headers for m in messages]
    assert headers[0] == {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert json.loads(messages[0].payload)["echo"] == {"n": 3}
    assert headers[-1] == {":event-type": "InvokeComplete", ":content-type": "application/json", ":message-type": "event"}
    assert json.loads(messages[-1].payload) == {}


# ----------------------------------------------------------------------------- InvokeAsync


def test_invoke_async_answers_202_and_runs_the_function(lam, aws_client, unique_name):
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("invoke-async"))["QueueUrl"]
    name = unique_name("async")
    create_python(lam, name, """
        import boto3
        def handler(event, context):
            boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody="ran with " + event["n"])
    """, Timeout=30)
    r = lam.invoke_async(FunctionName=name, InvokeArgs=json.dumps({"queue": queue_url, "n": "41"}))
    assert r["Status"] == 202
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)["Messages"]
    assert got[0]["Body"] == "ran with 41"


def test_invoke_async_of_an_unknown_function_is_resource_not_found(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.invoke_async(FunctionName=name, InvokeArgs=b"{}")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {function_arn(name)}", 404)


def test_invoke_async_refuses_an_event_over_256_kb(lam, unique_name):
    name = unique_name("async")
    create_python(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.invoke_async(FunctionName=name, InvokeArgs=json.dumps({"pad": "x" * 262_144}))
    code, _, status = error_of(e)
    assert (code, status) == ("RequestTooLargeException", 413)
