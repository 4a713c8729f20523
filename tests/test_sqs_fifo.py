"""FIFO queues: MessageGroupId and MessageDeduplicationId rules, exactly-once processing
in the 5-minute deduplication interval, content-based deduplication, strict ordering
within a message group, in-flight group blocking, SequenceNumber and
ReceiveRequestAttemptId."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import error_of


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


@pytest.fixture
def fifo(sqs, unique_name):
    def create(**attributes):
        attrs = {"FifoQueue": "true", **{k: str(v) for k, v in attributes.items()}}
        return sqs.create_queue(QueueName=unique_name("f") + ".fifo", Attributes=attrs)["QueueUrl"]

    return create


def bodies(response) -> list[str]:
    return [m["Body"] for m in response.get("Messages", [])]


def test_message_group_id_is_required(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    err = error_of(e)
    assert (err["Code"], err["Message"]) == ("MissingParameter", "The request must contain the parameter MessageGroupId.")


def test_deduplication_id_is_required_without_content_based_deduplication(sqs, fifo):
    url = fifo()
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == (
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    )


def test_per_message_delay_is_not_valid_for_fifo_queues(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == (
        "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
    )
    # DelaySeconds=0 is fine.
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=0)


@pytest.mark.parametrize("field", ["MessageGroupId", "MessageDeduplicationId"])
def test_ids_must_be_alphanumeric_or_punctuation(sqs, fifo, field):
    url = fifo()
    params = {"MessageGroupId": "g", "MessageDeduplicationId": "d"}
    params[field] = "has space"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", **params)
    assert error_of(e)["Code"] == "InvalidParameterValue"
    params[field] = "ok-!#$%&'()*+,./:;<=>?@[]^_`{|}~"
    sqs.send_message(QueueUrl=url, MessageBody="x", **params)


def test_content_based_deduplication_delivers_one_copy(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    second = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert second["MessageId"] == first["MessageId"]
    assert second["SequenceNumber"] == first["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    assert bodies(got) == ["same"]
    attrs = got["Messages"][0]["Attributes"]
    assert attrs["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    assert attrs["MessageGroupId"] == "g"
    assert attrs["SequenceNumber"] == first["SequenceNumber"]


def test_explicit_deduplication_id_overrides_content(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d1")
    assert a["MessageId"] == b["MessageId"]
    # Deleted messages still deduplicate within the interval.
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    c = sqs.send_message(QueueUrl=url, MessageBody="three", MessageGroupId="g", MessageDeduplicationId="d1")
    assert c["MessageId"] == a["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_deduplication_scope_message_group(sqs, fifo):
    url = fifo(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g1", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g2", MessageDeduplicationId="d")
    c = sqs.send_message(QueueUrl=url, MessageBody="c", MessageGroupId="g1", MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]
    assert c["MessageId"] == a["MessageId"]


def test_sequence_numbers_are_increasing_20_digit_numbers(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    numbers = [sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId=f"g{i % 2}")["SequenceNumber"]
               for i in range(5)]
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == 5


def test_messages_of_a_group_arrive_in_order(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    seen = []
    while len(seen) < 10:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
        seen += [m["Body"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert seen == [f"m{i}" for i in range(10)]


def test_a_group_with_a_message_in_flight_is_blocked(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body, group in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    assert bodies(first) == ["a1"]
    # a2 waits behind a1; group b is still available.
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["b1", "b2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a2"]


def test_a_receive_returns_as_many_messages_of_one_group_as_it_can(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("a3", "a")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a1", "a2", "a3", "b1", "b2"]


def test_order_is_kept_when_a_message_becomes_visible_again(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    m0 = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"], VisibilityTimeout=0)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_a_message_visible_again_waits_while_a_later_one_of_its_group_is_in_flight(sqs, fifo):
    # "A group is blocked while any of its messages is in flight": m0 made visible again
    # must not be delivered while m1 is still being processed, nor may m2 overtake.
    url = fifo(ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="h")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=2)["Messages"]
    assert [m["Body"] for m in got] == ["m0", "m1"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=30)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["other"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # Once m1 is visible again too, the group is delivered from its start, in order.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=0)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_queue_delay_change_applies_to_messages_already_in_a_fifo_queue(sqs, fifo):
    # "For FIFO queues, the per-queue delay setting is retroactive" (Amazon SQS delay queues).
    url = fifo(ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "600"})
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesDelayed"]) == ("0", "1")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["x"]


def test_purge_forgets_deduplication_ids(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"]
    sqs.purge_queue(QueueUrl=url)
    again = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"]
    assert again != first
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["x"]


def test_expired_receipt_handle_cannot_delete(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    stale = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=stale)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"].endswith("Reason: The receipt handle has expired.")
    fresh = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=fresh)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)


def test_receive_request_attempt_id_returns_the_same_messages(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    assert bodies(first) == ["m0", "m1"]
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry["Messages"]] == [
        (m["MessageId"], m["ReceiptHandle"]) for m in first["Messages"]
    ]
    # Another attempt id is a new receive: the group is in flight.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="attempt-2")


def test_send_message_batch_on_fifo(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "a", "MessageGroupId": "g"},
            {"Id": "b", "MessageBody": "b", "MessageGroupId": "g"},
            {"Id": "nogroup", "MessageBody": "c"},
        ],
    )
    ok = {e["Id"]: e for e in result["Successful"]}
    assert int(ok["a"]["SequenceNumber"]) < int(ok["b"]["SequenceNumber"])
    assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [("nogroup", "MissingParameter")]
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a", "b"]


def test_fifo_queue_delay_applies_to_all_messages(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true", DelaySeconds=600)
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_cli_fifo_round_trip(aws_cli, unique_name):
    url = aws_cli("sqs", "create-queue", "--queue-name", unique_name("cli") + ".fifo",
                  "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")["QueueUrl"]
    sent = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", "x", "--message-group-id", "g")
    assert len(sent["SequenceNumber"]) == 20
    got = aws_cli("sqs", "receive-message", "--queue-url", url, "--attribute-names", "All")["Messages"][0]
    assert got["Attributes"]["SequenceNumber"] == sent["SequenceNumber"]
    code, stderr = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", "y", expect_error=True)
    assert "MissingParameter" in stderr
