"""SQS messages on standard queues: send, receive, delete, visibility, batches, message
and system attributes with their MD5 digests, size and content limits, long polling,
and the internal listing endpoint."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import counts, error_of

DEFAULT_ACCOUNT = "000000000000"


def md5_of_attributes(attributes: dict) -> str:
    """AWS's digest of message attributes ("Calculating the MD5 message digest for message
    attributes"), written from the documentation independently of the server."""
    digest = hashlib.md5()

    def part(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)))
        digest.update(data)

    for name in sorted(attributes):
        value = attributes[name]
        part(name.encode())
        part(value["DataType"].encode())
        if "StringValue" in value:
            digest.update(b"\x01")
            part(value["StringValue"].encode())
        else:
            digest.update(b"\x02")
            part(value["BinaryValue"])
    return digest.hexdigest()


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


@pytest.fixture
def queue(sqs, unique_name):
    return sqs.create_queue(QueueName=unique_name("msg"))["QueueUrl"]


# ------------------------------------------------------------------ the basic cycle


def test_send_receive_delete(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello world")
    uuid.UUID(sent["MessageId"])
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello world").hexdigest()
    assert "MD5OfMessageAttributes" not in sent
    assert counts(sqs, queue) == (1, 0, 0)

    messages = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert len(messages) == 1
    m = messages[0]
    assert (m["MessageId"], m["Body"], m["MD5OfBody"]) == (sent["MessageId"], "hello world", sent["MD5OfMessageBody"])
    assert counts(sqs, queue) == (0, 1, 0)
    # In flight: nobody else receives it.
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)

    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    assert counts(sqs, queue) == (0, 0, 0)
    # Deleting again with the same handle succeeds: the message is simply gone.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def test_unicode_bodies_round_trip(sqs, queue):
    body = "日本語 ✓ emoji 🎉 tab\t newline\n"
    sent = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == body


def test_receive_returns_at_most_max_number_of_messages(sqs, queue):
    for i in range(15):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    assert len(sqs.receive_message(QueueUrl=queue)["Messages"]) == 1
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert 1 <= len(got) <= 10
    assert counts(sqs, queue)[1] == 1 + len(got)


@pytest.mark.parametrize("value", [0, 11])
def test_max_number_of_messages_must_be_1_to_10(sqs, queue, value):
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=value)
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("InvalidParameterValue", 400)
    assert err["Message"] == f"Value {value} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."


def test_wait_time_seconds_must_be_at_most_20(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=21)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."


def test_receipt_handles_differ_on_every_receive(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    first = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"][0]
    second = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"][0]
    assert first["MessageId"] == second["MessageId"]
    assert first["ReceiptHandle"] != second["ReceiptHandle"]


# ------------------------------------------------------------------ system attributes


def test_system_attributes_describe_the_message(sqs, queue):
    before = int(time.time() * 1000) - 2000
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    first = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])
    a1 = first["Messages"][0]["Attributes"]
    assert a1["SenderId"] == DEFAULT_ACCOUNT
    assert before <= int(a1["SentTimestamp"]) <= int(time.time() * 1000) + 2000
    assert a1["ApproximateReceiveCount"] == "1"
    assert int(a1["ApproximateFirstReceiveTimestamp"]) >= int(a1["SentTimestamp"])
    # The deprecated AttributeNames still works, and names filter.
    second = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"])
    a2 = second["Messages"][0]["Attributes"]
    assert a2 == {"ApproximateReceiveCount": "2", "ApproximateFirstReceiveTimestamp": a1["ApproximateFirstReceiveTimestamp"]}


def test_no_attribute_names_means_no_attributes(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})
    m = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "Attributes" not in m
    assert "MessageAttributes" not in m
    assert "MD5OfMessageAttributes" not in m


def test_aws_trace_header_is_a_system_attribute(sqs, queue):
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="x",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    )
    m = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert m["Attributes"] == {"AWSTraceHeader": trace}


def _with_trace_header(client, operation: str, trace: str):
    """Sends X-Amzn-Trace-Id with `operation`, as the X-Ray SDK (or botocore in Lambda) does."""
    def add(request, **_):
        request.headers["X-Amzn-Trace-Id"] = trace
    client.meta.events.register(f"before-sign.sqs.{operation}", add)


def test_trace_header_of_the_request_becomes_aws_trace_header(aws_client, queue):
    sqs = aws_client("sqs")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    _with_trace_header(sqs, "SendMessage", trace)
    sent = sqs.send_message(QueueUrl=queue, MessageBody="traced")
    # The client sent no system attributes, so there is no digest of them to compare.
    assert "MD5OfMessageSystemAttributes" not in sent
    m = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert m["Attributes"] == {"AWSTraceHeader": trace}


def test_aws_trace_header_attribute_overrides_the_trace_header(aws_client, queue):
    sqs = aws_client("sqs")
    _with_trace_header(sqs, "SendMessage", "Root=1-00000000-000000000000000000000000;Sampled=0")
    given = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="x",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": given}},
    )
    m = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert m["Attributes"] == {"AWSTraceHeader": given}


def test_trace_header_applies_to_every_message_of_a_batch(aws_client, queue):
    sqs = aws_client("sqs")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    _with_trace_header(sqs, "SendMessageBatch", trace)
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}]
    )
    got = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageSystemAttributeNames=["AWSTraceHeader"]
    )["Messages"]
    assert sorted(m["Body"] for m in got) == ["a", "b"]
    assert all(m["Attributes"] == {"AWSTraceHeader": trace} for m in got)


def test_standard_queues_accept_message_group_ids_for_fair_queues(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageGroupId="tenant-1")
    m = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["MessageGroupId"])["Messages"][0]
    assert m["Attributes"] == {"MessageGroupId": "tenant-1"}


def test_deduplication_ids_are_refused_on_standard_queues(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(e)["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------ message attributes


ATTRIBUTES = {
    "city": {"DataType": "String", "StringValue": "Any City"},
    "count": {"DataType": "Number", "StringValue": "230.000000000000000001"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02binary\xff"},
    "custom": {"DataType": "String.custom", "StringValue": "v"},
    "prefix.one": {"DataType": "String", "StringValue": "1"},
    "prefix.two": {"DataType": "String", "StringValue": "2"},
}


def test_message_attribute_digest_is_aws_algorithm(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    m = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert m["MessageAttributes"] == ATTRIBUTES
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)


@pytest.mark.parametrize(
    "names, expected",
    [
        (["All"], set(ATTRIBUTES)),
        ([".*"], set(ATTRIBUTES)),
        (["city", "blob"], {"city", "blob"}),
        (["prefix.*"], {"prefix.one", "prefix.two"}),
        (["nothing"], set()),
    ],
)
def test_message_attribute_names_select_attributes(sqs, queue, names, expected):
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=ATTRIBUTES)
    m = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=names)["Messages"][0]
    got = m.get("MessageAttributes", {})
    assert set(got) == expected
    if expected:
        # The digest covers what is returned, so SDKs can check it.
        assert m["MD5OfMessageAttributes"] == md5_of_attributes(got)


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({"AWS.reserved": {"DataType": "String", "StringValue": "v"}}, id="reserved-prefix"),
        pytest.param({"bad name": {"DataType": "String", "StringValue": "v"}}, id="space-in-name"),
        pytest.param({"a": {"DataType": "Strung", "StringValue": "v"}}, id="unknown-type"),
        pytest.param({"a": {"DataType": "String", "StringValue": ""}}, id="empty-value"),
        pytest.param({"a": {"DataType": "Number", "StringValue": "twelve"}}, id="not-a-number"),
        pytest.param({f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}, id="eleven"),
    ],
)
def test_invalid_message_attributes_are_invalid_parameter_values(sqs, queue, attributes):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attributes)
    assert error_of(e)["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------ limits and contents


def test_message_size_counts_body_and_attributes(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("small"), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    # 1000 bytes of body plus an attribute of 4 + 6 + 20 bytes is over 1024.
    with pytest.raises(ClientError):
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * 1000,
            MessageAttributes={"name": {"DataType": "String", "StringValue": "y" * 20}},
        )


def test_default_limit_is_1_mib(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x" * 1_048_576)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="x" * 1_048_577)
    assert "Message must be shorter than 1048576 bytes." in error_of(e)["Message"]
    m = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert len(m["Body"]) == 1_048_576


@pytest.mark.parametrize("body", ["bell \x07", "nul \x00", "non-character \uffff"])
def test_characters_outside_the_xml_range_are_invalid_message_contents(sqs, queue, body):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("InvalidMessageContents", 400)
    assert err["Message"].startswith("Invalid characters found.")


def test_empty_body_is_a_missing_parameter(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="")
    err = error_of(e)
    assert (err["Code"], err["Message"]) == ("MissingParameter", "The request must contain the parameter MessageBody.")


@pytest.mark.parametrize("delay", [-1, 901])
def test_delay_seconds_must_be_0_to_900(sqs, queue, delay):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="x", DelaySeconds=delay)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."


def test_delayed_message_is_counted_as_delayed_and_not_received(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=600)
    sqs.send_message(QueueUrl=queue, MessageBody="now")
    assert counts(sqs, queue) == (1, 0, 1)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["now"]


def test_delay_queue_delays_every_message(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("delay"), Attributes={"DelaySeconds": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert counts(sqs, url) == (0, 0, 1)
    # A per-message delay overrides the queue's.
    sqs.send_message(QueueUrl=url, MessageBody="y", DelaySeconds=0)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["y"]


# ------------------------------------------------------------------ visibility


def test_change_message_visibility_to_zero_releases_the_message(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert counts(sqs, queue) == (1, 0, 0)
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["MessageId"] == m["MessageId"]


def test_change_visibility_of_a_message_not_in_flight_is_message_not_inflight(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=30)
    err = error_of(e)
    assert err["Code"] == "AWS.SimpleQueueService.MessageNotInflight"
    assert err["QueryErrorCode"] == "MessageNotInflight"
    assert err["Status"] == 400


def test_change_visibility_beyond_43200_is_invalid(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=43201)
    assert error_of(e)["Code"] == "InvalidParameterValue"


def test_invalid_receipt_handles_are_receipt_handle_is_invalid(sqs, queue, unique_name):
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle")
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("ReceiptHandleIsInvalid", 404)
    assert err["Message"] == 'The input receipt handle "not-a-handle" is not a valid receipt handle.'
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle="not-a-handle", VisibilityTimeout=1)
    assert error_of(e)["Code"] == "ReceiptHandleIsInvalid"
    # A handle of another queue's message is not valid for this queue either.
    other = sqs.create_queue(QueueName=unique_name("other"))["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=other)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    assert error_of(e)["Code"] == "ReceiptHandleIsInvalid"


# ------------------------------------------------------------------ batches


def test_send_message_batch_reports_each_entry(sqs, queue):
    result = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "one", "MessageBody": "1"},
            {"Id": "two", "MessageBody": "2", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "bad-delay", "MessageBody": "3", "DelaySeconds": 1000},
            {"Id": "bad_chars", "MessageBody": "\x01"},
        ],
    )
    ok = {e["Id"]: e for e in result["Successful"]}
    assert set(ok) == {"one", "two"}
    assert ok["one"]["MD5OfMessageBody"] == hashlib.md5(b"1").hexdigest()
    assert ok["two"]["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    failed = {e["Id"]: e for e in result["Failed"]}
    assert failed["bad-delay"]["Code"] == "InvalidParameterValue"
    assert failed["bad-delay"]["SenderFault"] is True
    assert failed["bad_chars"]["Code"] == "InvalidMessageContents"
    bodies = {m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]}
    assert bodies == {"1", "2"}


@pytest.mark.parametrize(
    "entries, code, message",
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest",
         "There should be at least one SendMessageBatchRequestEntry in the request."),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
         "Maximum number of entries per request are 10. You have sent 11."),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
         "Id a repeated."),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId",
         "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."),
        ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "x" * 600_000}],
         "AWS.SimpleQueueService.BatchRequestTooLong",
         "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes."),
    ],
    ids=["empty", "eleven", "duplicate-ids", "bad-id", "too-long"],
)
def test_send_message_batch_request_errors(sqs, queue, entries, code, message):
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    err = error_of(e)
    assert (err["Code"], err["Status"], err["Message"]) == (code, 400, message)


def test_delete_message_batch_reports_invalid_handles(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    while len(messages) < 3:
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    entries = [{"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    entries.append({"Id": "bogus", "ReceiptHandle": "bogus"})
    result = sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in result["Successful"]) == ["m0", "m1", "m2"]
    assert result["Failed"] == [
        {
            "Id": "bogus",
            "SenderFault": True,
            "Code": "ReceiptHandleIsInvalid",
            "Message": 'The input receipt handle "bogus" is not a valid receipt handle.',
        }
    ]
    assert counts(sqs, queue) == (0, 0, 0)
    with pytest.raises(ClientError) as e:
        sqs.delete_message_batch(QueueUrl=queue, Entries=[])
    assert error_of(e)["Message"] == "There should be at least one DeleteMessageBatchRequestEntry in the request."


def test_change_message_visibility_batch(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}])
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2
    result = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "zero", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "long", "ReceiptHandle": messages[1]["ReceiptHandle"], "VisibilityTimeout": 600},
            {"Id": "bad", "ReceiptHandle": "bad", "VisibilityTimeout": 0},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["long", "zero"]
    assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    assert counts(sqs, queue) == (1, 1, 0)
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility_batch(
            QueueUrl=queue, Entries=[{"Id": "x", "ReceiptHandle": "h"}, {"Id": "x", "ReceiptHandle": "h"}]
        )
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


# ------------------------------------------------------------------ long polling


def test_long_poll_returns_as_soon_as_a_message_arrives(sqs, aws_client, queue):
    sender = aws_client("sqs")

    def send_later():
        time.sleep(1.0)
        sender.send_message(QueueUrl=queue, MessageBody="wake up")

    thread = threading.Thread(target=send_later)
    started = time.monotonic()
    thread.start()
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=15)
    elapsed = time.monotonic() - started
    thread.join()
    assert [m["Body"] for m in got["Messages"]] == ["wake up"]
    assert 0.9 <= elapsed < 5, elapsed


def test_long_poll_on_an_empty_queue_waits_the_full_time(sqs, queue):
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)
    elapsed = time.monotonic() - started
    assert "Messages" not in got
    assert 1.9 <= elapsed < 4, elapsed


def test_receive_message_wait_time_seconds_is_the_default_wait(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("lp"), Attributes={"ReceiveMessageWaitTimeSeconds": "1"})["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert 0.9 <= time.monotonic() - started < 3
    # WaitTimeSeconds=0 overrides it: short polling.
    started = time.monotonic()
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    # Well below the 1 s a long poll would take, with room for a busy 2-core CI machine.
    assert time.monotonic() - started < 0.8


def test_long_poll_wakes_when_visibility_timeout_ends(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)
    assert len(got["Messages"]) == 1
    assert time.monotonic() - started < 3


# ------------------------------------------------------------------ internal endpoint


def test_internal_endpoint_lists_messages_without_changing_visibility(sqs, http, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="first", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    sqs.send_message(QueueUrl=queue, MessageBody="second")
    sqs.send_message(QueueUrl=queue, MessageBody="third", DelaySeconds=600)
    received = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    response = http.get("/_kagami/sqs/messages", params={"QueueUrl": queue})
    assert response.status_code == 200
    listing = response.json()
    assert listing["QueueUrl"] == queue
    by_body = {m["Body"]: m for m in listing["Messages"]}
    assert [m["Body"] for m in listing["Messages"]] == ["first", "second", "third"]
    assert by_body[received["Body"]]["Status"] == "INFLIGHT"
    assert by_body[received["Body"]]["ReceiveCount"] == 1
    other = "second" if received["Body"] == "first" else "first"
    assert by_body[other]["Status"] == "VISIBLE"
    assert by_body["third"]["Status"] == "DELAYED"
    assert by_body["first"]["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    # Listing did not receive anything.
    again = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["Body"] == other
    assert again["Attributes"]["ApproximateReceiveCount"] == "1"


def test_internal_endpoint_reports_missing_queues(http, kagami, unique_name):
    response = http.get("/_kagami/sqs/messages", params={"QueueUrl": f"{kagami.endpoint}/{DEFAULT_ACCOUNT}/{unique_name('none')}"})
    assert response.status_code == 404
    assert http.get("/_kagami/sqs/messages").status_code == 400


# ------------------------------------------------------------------ AWS CLI


def test_cli_sends_receives_and_deletes(aws_cli, unique_name):
    url = aws_cli("sqs", "create-queue", "--queue-name", unique_name("cli"))["QueueUrl"]
    sent = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
                   "--message-attributes", '{"k": {"DataType": "String", "StringValue": "v"}}')
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    batch = aws_cli("sqs", "send-message-batch", "--queue-url", url, "--entries",
                    '[{"Id": "a", "MessageBody": "A"}, {"Id": "b", "MessageBody": "B"}]')
    assert sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"]
    got = aws_cli("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                  "--message-attribute-names", "All", "--attribute-names", "All")["Messages"]
    assert sorted(m["Body"] for m in got) == ["A", "B", "from the cli"]
    for m in got:
        assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    first = got[0]
    aws_cli("sqs", "change-message-visibility", "--queue-url", url, "--receipt-handle", first["ReceiptHandle"],
            "--visibility-timeout", "0")
    aws_cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", first["ReceiptHandle"])
    rest = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got[1:])]
    deleted = aws_cli("sqs", "delete-message-batch", "--queue-url", url, "--entries", json.dumps(rest))
    assert len(deleted["Successful"]) == 2
    attrs = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names",
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    code, stderr = aws_cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", "nope", expect_error=True)
    assert "ReceiptHandleIsInvalid" in stderr


def test_sender_id_of_an_assumed_role_is_role_id_and_session(aws_client, queue):
    sts = aws_client("sts")
    assumed = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/worker", RoleSessionName="job-7")
    role_id = assumed["AssumedRoleUser"]["AssumedRoleId"]
    assert role_id.endswith(":job-7")
    as_role = aws_client("sqs", credentials=assumed["Credentials"])
    as_role.send_message(QueueUrl=queue, MessageBody="from a role")
    m = aws_client("sqs").receive_message(QueueUrl=queue, MessageSystemAttributeNames=["SenderId"])["Messages"][0]
    assert m["Attributes"]["SenderId"] == role_id
