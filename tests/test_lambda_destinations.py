"""Lambda asynchronous invocation records and dead letters reaching SNS topics and
EventBridge buses, as AWS sends them: the invocation record as the SNS message, or as
the detail of an event from source `lambda` with detail-type "Lambda Function
Invocation Result - Success"/"- Failure" and the bus and function ARNs as resources;
the failed event as the dead-letter message with RequestID, ErrorCode and ErrorMessage
attributes. Also the checks of DeadLetterConfig.TargetArn and destination ARNs."""

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


@pytest.fixture
def sns(aws_client):
    return aws_client("sns")


@pytest.fixture
def events(aws_client):
    return aws_client("events")


def wait_for_body(sqs, url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=1).get("Messages", [])
        if messages:
            return json.loads(messages[0]["Body"])
    pytest.fail(f"nothing reached {url} within {timeout} s")


def topic_into_queue(sns, sqs, unique_name):
    """An SNS topic subscribed by a new SQS queue: (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name("from-topic"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, url


def bus_into_queue(events, sqs, unique_name, detail_type, bus=None):
    """A rule on `bus` (a new custom bus when None) forwarding Lambda's results of
    `detail_type` to a new queue: (bus ARN, queue URL)."""
    if bus is None:
        bus = unique_name("bus")
        bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    else:
        bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    url, queue_arn = make_queue(sqs, unique_name("from-bus"))
    rule = unique_name("rule")
    events.put_rule(
        Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"], "detail-type": [detail_type]})
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return bus_arn, url


# ----------------------------------------------------------------------------- SNS


def test_on_success_topic_gets_the_invocation_record_as_its_message(lam, sqs, sns, unique_name):
    topic, url = topic_into_queue(sns, sqs, unique_name)
    name = unique_name("ok-sns")
    create_python(lam, name, SUCCEEDING)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}})
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 1}))
    envelope = wait_for_body(sqs, url)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    record = json.loads(envelope["Message"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["functionArn"].endswith(f"function:{name}:$LATEST")
    assert record["requestPayload"] == {"order": 1}
    assert record["responsePayload"] == {"ok": True, "order": 1}


def test_on_failure_topic_gets_the_record_of_the_exhausted_event(lam, sqs, sns, unique_name):
    topic, url = topic_into_queue(sns, sqs, unique_name)
    name = unique_name("fail-sns")
    create_python(lam, name, FAILING)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 2}))
    record = json.loads(wait_for_body(sqs, url)["Message"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "cannot process 2"


def test_dead_letter_topic_gets_the_event_with_its_error_attributes(lam, sqs, sns, unique_name):
    topic, url = topic_into_queue(sns, sqs, unique_name)
    name = unique_name("dlq-sns")
    created = create_python(lam, name, FAILING, DeadLetterConfig={"TargetArn": topic})
    assert created["DeadLetterConfig"] == {"TargetArn": topic}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 3}))
    envelope = wait_for_body(sqs, url)
    # Only the event, unchanged: no invocation record.
    assert json.loads(envelope["Message"]) == {"order": 3}
    attributes = envelope["MessageAttributes"]
    assert attributes["RequestID"] == {"Type": "String", "Value": r["ResponseMetadata"]["RequestId"]}
    assert attributes["ErrorCode"] == {"Type": "Number", "Value": "200"}
    assert attributes["ErrorMessage"] == {"Type": "String", "Value": "cannot process 3"}


# ----------------------------------------------------------------------------- EventBridge


def test_on_success_bus_gets_a_lambda_event_with_the_record_as_detail(lam, sqs, events, unique_name):
    bus_arn, url = bus_into_queue(events, sqs, unique_name, "Lambda Function Invocation Result - Success")
    name = unique_name("ok-bus")
    function_arn = create_python(lam, name, SUCCEEDING)["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": bus_arn}})
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 4}))
    event = wait_for_body(sqs, url)
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["account"] == "000000000000"
    assert event["region"] == "us-east-1"
    assert event["resources"] == [bus_arn, f"{function_arn}:$LATEST"]
    detail = event["detail"]
    assert detail["version"] == "1.0"
    assert detail["requestContext"]["condition"] == "Success"
    assert detail["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert detail["requestContext"]["functionArn"] == f"{function_arn}:$LATEST"
    assert detail["requestPayload"] == {"order": 4}
    assert detail["responsePayload"] == {"ok": True, "order": 4}


def test_on_failure_default_bus_gets_the_failure_event(lam, sqs, events, unique_name):
    bus_arn, url = bus_into_queue(events, sqs, unique_name, "Lambda Function Invocation Result - Failure", bus="default")
    assert bus_arn == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    name = unique_name("fail-bus")
    function_arn = create_python(lam, name, FAILING)["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": bus_arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 5}))
    # The rule matches on the detail-type: other functions' results on the default bus
    # may share the queue only if they failed too, so look for this function's event.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = wait_for_body(sqs, url)
        if event["detail"]["requestContext"]["functionArn"] == f"{function_arn}:$LATEST":
            break
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["resources"] == [bus_arn, f"{function_arn}:$LATEST"]
    assert event["detail"]["requestContext"]["condition"] == "RetriesExhausted"
    assert event["detail"]["responsePayload"]["errorMessage"] == "cannot process 5"


# ----------------------------------------------------------------------------- validation


def test_sns_and_eventbridge_destinations_are_accepted(lam, unique_name):
    name = unique_name("dest-ok")
    create_python(lam, name, SUCCEEDING)
    topic = "arn:aws:sns:us-east-1:000000000000:some-topic"
    bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    put = lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": bus}, "OnFailure": {"Destination": topic}}
    )
    assert put["DestinationConfig"] == {"OnSuccess": {"Destination": bus}, "OnFailure": {"Destination": topic}}
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": "arn:aws:dynamodb:us-east-1:000000000000:table/t"}}
        )
    assert error_code(e) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": "not-an-arn"}})
    assert error_code(e) == "ValidationException"
    assert "Value 'not-an-arn' at 'destinationConfig.onSuccess.destination' failed to satisfy constraint" in str(e.value)


@pytest.mark.parametrize(
    "target, message",
    [
        ("arn:aws:s3:::a-bucket", "The service specified by the TargetArn is not supported for dead letter configuration."),
        ("arn:aws:sqs:eu-west-1:000000000000:elsewhere", "must be in the same region as the Lambda function"),
        ("arn:aws:sqs:us-east-1:000000000000:ordered.fifo", "FIFO SQS queue is not supported for dead letter configuration"),
    ],
)
def test_dead_letter_targets_must_be_a_queue_or_topic_of_the_region(lam, unique_name, target, message):
    name = unique_name("dlq-bad")
    with pytest.raises(ClientError) as e:
        create_python(lam, name, SUCCEEDING, DeadLetterConfig={"TargetArn": target})
    assert error_code(e) == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"].startswith("Invalid dead letter queue ARN: ")
    assert message in e.value.response["Error"]["Message"]
    create_python(lam, name, SUCCEEDING)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": target})
    assert error_code(e) == "InvalidParameterValueException"
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName=name)


def test_dead_letter_topic_set_and_cleared_with_the_cli(aws_cli, lam, unique_name):
    name = unique_name("dlq-cli")
    create_python(lam, name, SUCCEEDING)
    topic = "arn:aws:sns:us-east-1:000000000000:dlq-topic"
    out = aws_cli("lambda", "update-function-configuration", "--function-name", name, "--dead-letter-config", f"TargetArn={topic}")
    assert out["DeadLetterConfig"] == {"TargetArn": topic}
    out = aws_cli("lambda", "update-function-configuration", "--function-name", name, "--dead-letter-config", "TargetArn=")
    assert "DeadLetterConfig" not in out or out["DeadLetterConfig"] == {}
