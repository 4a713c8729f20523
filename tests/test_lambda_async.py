"""Lambda asynchronous invocation: event invoke configurations (Put/Get/Update/Delete/
List FunctionEventInvokeConfig[s]), retries on function errors after 1 then 2 minutes of
emulated time, maximum event age, OnSuccess/OnFailure destinations (SQS, another
function) with AWS's invocation record, and the function's dead-letter queue."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import create_python, error_code, make_queue

FAILING = """
    def handler(event, context):
        raise ValueError("cannot process " + str(event.get("order")))
"""
SUCCEEDING = """
    def handler(event, context):
        return {"ok": True, "order": event.get("order")}
"""


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


def receive(sqs, url, wait=2, attributes=False):
    kwargs = {"MessageAttributeNames": ["All"]} if attributes else {}
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10, **kwargs).get("Messages", [])


def record_after_retries(server, sqs, url, rounds):
    """The invocation record that reaches `url` as emulated time passes two minutes a round."""
    for _ in range(rounds):
        server.advance_clock(120)
        messages = receive(sqs, url, wait=2)
        if messages:
            return json.loads(messages[0]["Body"])
    pytest.fail("the record never arrived")


def wait_for_message(sqs, url, timeout=30, attributes=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = receive(sqs, url, attributes=attributes)
        if messages:
            return messages[0]
    pytest.fail(f"no message reached {url} within {timeout} s")


# ----------------------------------------------------------------------------- configuration


def test_put_get_update_list_delete_event_invoke_config(lam, sqs, unique_name):
    name = unique_name("eic")
    create_python(lam, name, SUCCEEDING)
    _, queue_arn = make_queue(sqs, unique_name("dest"))
    put = lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        MaximumEventAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert put["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"
    assert put["MaximumRetryAttempts"] == 1
    assert put["MaximumEventAgeInSeconds"] == 3600
    assert put["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}
    assert put["DestinationConfig"]["OnSuccess"] == {}
    assert "LastModified" in put
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert updated["MaximumRetryAttempts"] == 0
    assert updated["MaximumEventAgeInSeconds"] == 3600, "update keeps what it does not name"
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 0
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [put["FunctionArn"]]
    # Put replaces the whole configuration.
    replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2)
    assert "MaximumEventAgeInSeconds" not in replaced
    assert replaced["DestinationConfig"]["OnFailure"] == {}
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert f"The function {put['FunctionArn']} doesn't have an EventInvokeConfig" in str(e.value)
    for call in (
        lambda: lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1),
        lambda: lam.delete_function_event_invoke_config(FunctionName=name),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"
    assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []


def test_event_invoke_config_limits_and_destinations_are_checked(lam, unique_name):
    name = unique_name("lim")
    create_python(lam, name, SUCCEEDING)
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=3)
    assert error_code(e) == "ValidationException"
    assert "maximumRetryAttempts" in str(e.value)
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=21601)
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": "arn:aws:s3:::some-bucket"}}
        )
    assert error_code(e) == "InvalidParameterValueException"
    assert "The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::some-bucket), onFailure=null) is invalid." in str(e.value)
    self_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": self_arn}})
    assert error_code(e) == "InvalidParameterValueException"
    assert "You can't specify the function as a destination for itself." in str(e.value)
    missing_fn = self_arn.replace(name, unique_name("absent"))
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": missing_fn}})
    assert error_code(e) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=unique_name("nofn"), MaximumRetryAttempts=1)
    assert error_code(e) == "ResourceNotFoundException"


def test_event_invoke_configs_go_with_their_function(lam, unique_name):
    name = unique_name("gone")
    create_python(lam, name, SUCCEEDING)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.delete_function(FunctionName=name)
    create_python(lam, name, SUCCEEDING)
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"


# ----------------------------------------------------------------------------- delivery


def test_on_success_destination_gets_the_invocation_record(lam, sqs, unique_name):
    name = unique_name("ok")
    create_python(lam, name, SUCCEEDING)
    url, arn = make_queue(sqs, unique_name("ok-dest"))
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 7}))
    assert r["StatusCode"] == 202
    record = json.loads(wait_for_message(sqs, url)["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"].endswith(f"function:{name}:$LATEST")
    assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": True, "order": 7}
    assert record["timestamp"].endswith("Z")


def test_failure_without_retries_goes_to_on_failure_at_once(lam, sqs, unique_name):
    name = unique_name("fail0")
    create_python(lam, name, FAILING)
    url, arn = make_queue(sqs, unique_name("fail-dest"))
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 8}))
    record = json.loads(wait_for_message(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "cannot process 8"


def test_dead_letter_queue_gets_the_failed_event(lam, sqs, unique_name):
    dlq_url, dlq_arn = make_queue(sqs, unique_name("dlq"))
    name = unique_name("dlqfn")
    created = create_python(lam, name, FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    assert created["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 9}))
    message = wait_for_message(sqs, dlq_url, attributes=True)
    assert json.loads(message["Body"]) == {"order": 9}
    attrs = message["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] == r["ResponseMetadata"]["RequestId"]
    assert attrs["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attrs["ErrorMessage"]["StringValue"] == "cannot process 9"
    # UpdateFunctionConfiguration changes it.
    other_url, other_arn = make_queue(sqs, unique_name("dlq2"))
    updated = lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": other_arn})
    assert updated["DeadLetterConfig"] == {"TargetArn": other_arn}


def test_a_function_destination_is_invoked_with_the_record(lam, sqs, unique_name):
    # The destination function fails on purpose: its own OnFailure queue then shows the
    # record it was invoked with as its requestPayload.
    url, arn = make_queue(sqs, unique_name("chain"))
    second = unique_name("second")
    second_arn = create_python(lam, second, FAILING)["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=second, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    first = unique_name("first")
    create_python(lam, first, SUCCEEDING)
    lam.put_function_event_invoke_config(FunctionName=first, DestinationConfig={"OnSuccess": {"Destination": second_arn}})
    lam.invoke(FunctionName=first, InvocationType="Event", Payload=json.dumps({"order": 10}))
    outer = json.loads(wait_for_message(sqs, url)["Body"])
    assert outer["requestContext"]["functionArn"].endswith(f"function:{second}:$LATEST")
    inner = outer["requestPayload"]
    assert inner["requestContext"]["condition"] == "Success"
    assert inner["requestContext"]["functionArn"].endswith(f"function:{first}:$LATEST")
    assert inner["responsePayload"] == {"ok": True, "order": 10}


def test_failed_events_are_retried_twice_after_one_and_two_minutes(kagami_process, unique_name):
    server = kagami_process()
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("retry"))
    name = unique_name("retry")
    create_python(lam, name, FAILING)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 11}))
    # The first attempt fails at once; the retries wait for emulated minutes.
    assert receive(sqs, url, wait=3) == []
    record = record_after_retries(server, sqs, url, rounds=10)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"order": 11}


def test_events_older_than_the_maximum_age_are_dropped(kagami_process, unique_name):
    server = kagami_process()
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("age"))
    name = unique_name("age")
    create_python(lam, name, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 12}))
    assert receive(sqs, url, wait=3) == []
    record = record_after_retries(server, sqs, url, rounds=5)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_event_invoke_configs_survive_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam = server.client("lambda")
    name = unique_name("durable")
    create_python(lam, name, SUCCEEDING)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120)
    server.restart()
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 120)


def test_event_invoke_configs_are_per_account(aws_client, unique_name):
    mine, theirs = aws_client("lambda"), aws_client("lambda", account="111122223333")
    name = unique_name("acct")
    create_python(mine, name, SUCCEEDING)
    create_python(theirs, name, SUCCEEDING)
    mine.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    with pytest.raises(ClientError) as e:
        theirs.get_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert "111122223333" in str(e.value)


def test_throttled_events_wait_until_concurrency_allows_them(kagami_process, unique_name):
    # Reserved concurrency 0 throttles every attempt: the event is kept, not dropped, and
    # runs once the function may run again (AWS retries throttles for up to 6 hours).
    server = kagami_process()
    lam, sqs = server.client("lambda"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name("throttled"))
    name = unique_name("throttled")
    create_python(lam, name, SUCCEEDING)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 13}))
    assert r["StatusCode"] == 202
    assert receive(sqs, url, wait=3) == []
    lam.delete_function_concurrency(FunctionName=name)
    server.advance_clock(600)
    record = json.loads(wait_for_message(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1, "throttled attempts are not invocations"
    assert record["responsePayload"] == {"ok": True, "order": 13}
