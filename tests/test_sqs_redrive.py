"""Dead-letter queues: RedrivePolicy and RedriveAllowPolicy validation, messages moving to
the dead-letter queue when ApproximateReceiveCount exceeds maxReceiveCount,
ListDeadLetterSourceQueues, and message move tasks (Start/List/CancelMessageMoveTask)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import error_of


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


def arn_of(sqs, url) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def count(sqs, url, name="ApproximateNumberOfMessages") -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])


def redrive(arn: str, max_receive_count=2) -> str:
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)})


@pytest.fixture
def pair(sqs, unique_name):
    """A source queue whose messages move to a dead-letter queue after 2 receives."""
    dlq = sqs.create_queue(QueueName=unique_name("dlq"))["QueueUrl"]
    source = sqs.create_queue(
        QueueName=unique_name("src"), Attributes={"RedrivePolicy": redrive(arn_of(sqs, dlq), 2)}
    )["QueueUrl"]
    return source, dlq


def exhaust(sqs, source, times=2):
    """Receives the source's messages `times` times, letting them go visible at once."""
    for _ in range(times):
        got = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)
        assert "Messages" in got


# ------------------------------------------------------------------ redrive


def test_message_moves_to_the_dead_letter_queue_after_max_receive_count(sqs, pair):
    source, dlq = pair
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison",
                            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    counts = []
    for _ in range(2):
        m = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])["Messages"][0]
        counts.append(m["Attributes"]["ApproximateReceiveCount"])
    assert counts == ["1", "2"]
    # The third receive finds the count exceeded: the message goes to the DLQ instead.
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    assert count(sqs, source) == 0
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
    m = moved["Messages"][0]
    assert (m["MessageId"], m["Body"]) == (sent["MessageId"], "poison")
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, source)
    assert m["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]


def test_redrive_policy_is_returned_normalised(sqs, pair):
    source, dlq = pair
    policy = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    assert json.loads(policy) == {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 2}
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": ""})
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])


def test_list_dead_letter_source_queues(sqs, unique_name):
    dlq = sqs.create_queue(QueueName=unique_name("dlq"))["QueueUrl"]
    arn = arn_of(sqs, dlq)
    sources = sorted(
        sqs.create_queue(QueueName=f"{unique_name('src')}-{i}", Attributes={"RedrivePolicy": redrive(arn)})["QueueUrl"]
        for i in range(3)
    )
    sqs.create_queue(QueueName=unique_name("unrelated"))
    listed = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert sorted(listed["queueUrls"]) == sources
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert len(page["queueUrls"]) == 2 and "NextToken" in page
    rest = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=page["NextToken"])
    assert sorted(page["queueUrls"] + rest["queueUrls"]) == sources
    assert "NextToken" not in rest
    other = sqs.create_queue(QueueName=unique_name("lonely"))["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=other)["queueUrls"] == []


@pytest.mark.parametrize(
    "policy, reason",
    [
        ({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:does-not-exist", "maxReceiveCount": 3},
         "Reason: Dead letter target does not exist."),
        ({"deadLetterTargetArn": "DLQ", "maxReceiveCount": 0},
         "Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."),
        ({"deadLetterTargetArn": "DLQ", "maxReceiveCount": 1001},
         "Reason: Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."),
        ({"deadLetterTargetArn": "DLQ"},
         "Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount."),
        ({"maxReceiveCount": 3},
         "Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn."),
    ],
)
def test_invalid_redrive_policies(sqs, unique_name, policy, reason):
    dlq_arn = arn_of(sqs, sqs.create_queue(QueueName=unique_name("dlq"))["QueueUrl"])
    raw = json.dumps({k: (dlq_arn if v == "DLQ" else v) for k, v in policy.items()})
    url = sqs.create_queue(QueueName=unique_name("src"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": raw})
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == f"Value {raw} for parameter RedrivePolicy is invalid. {reason}"


def test_dead_letter_queue_must_be_of_the_same_type(sqs, unique_name):
    standard_arn = arn_of(sqs, sqs.create_queue(QueueName=unique_name("dlq"))["QueueUrl"])
    with pytest.raises(ClientError) as e:
        sqs.create_queue(
            QueueName=unique_name("src") + ".fifo",
            Attributes={"FifoQueue": "true", "RedrivePolicy": redrive(standard_arn)},
        )
    assert error_of(e)["Code"] == "InvalidParameterValue"
    fifo_dlq = sqs.create_queue(QueueName=unique_name("dlq") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.create_queue(
        QueueName=unique_name("src") + ".fifo",
        Attributes={"FifoQueue": "true", "RedrivePolicy": redrive(arn_of(sqs, fifo_dlq))},
    )


def test_redrive_allow_policy_decides_which_sources_may_use_a_queue(sqs, unique_name):
    dlq = sqs.create_queue(
        QueueName=unique_name("dlq"), Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}
    )["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=unique_name("src"), Attributes={"RedrivePolicy": redrive(arn_of(sqs, dlq))})
    assert error_of(e)["Code"] == "InvalidParameterValue"

    allowed_name = unique_name("allowed")
    allowed_arn = f"arn:aws:sqs:us-east-1:000000000000:{allowed_name}"
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [allowed_arn]})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": allow})
    got = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(got["RedriveAllowPolicy"]) == json.loads(allow)
    sqs.create_queue(QueueName=allowed_name, Attributes={"RedrivePolicy": redrive(arn_of(sqs, dlq))})
    with pytest.raises(ClientError):
        sqs.create_queue(QueueName=unique_name("other"), Attributes={"RedrivePolicy": redrive(arn_of(sqs, dlq))})


def test_invalid_redrive_allow_policy(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})})
    assert error_of(e)["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------ message move tasks


def wait_for_status(sqs, source_arn, status, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"][0]
        if task["Status"] == status or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_move_task_redrives_messages_back_to_their_source(sqs, pair):
    source, dlq = pair
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")
    exhaust(sqs, source)
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    assert count(sqs, dlq) == 3

    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    task = wait_for_status(sqs, dlq_arn, "COMPLETED")
    assert task["Status"] == "COMPLETED"
    assert task["SourceArn"] == dlq_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 3
    assert task["ApproximateNumberOfMessagesToMove"] == 3
    assert "TaskHandle" not in task
    assert task["StartedTimestamp"] > 0
    assert count(sqs, dlq) == 0
    got = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in got) == ["m0", "m1", "m2"]
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in got)


def test_move_task_to_a_destination_arn(sqs, pair, unique_name):
    source, dlq = pair
    sqs.send_message(QueueUrl=source, MessageBody="x")
    exhaust(sqs, source)
    sqs.receive_message(QueueUrl=source)  # moves it
    target = sqs.create_queue(QueueName=unique_name("target"))["QueueUrl"]
    dlq_arn = arn_of(sqs, dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, target))
    task = wait_for_status(sqs, dlq_arn, "COMPLETED")
    assert task["DestinationArn"] == arn_of(sqs, target)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=target)["Messages"]] == ["x"]
    assert count(sqs, source) == 0


def test_rate_limited_move_task_runs_and_can_be_cancelled(sqs, pair):
    source, dlq = pair
    sqs.send_message_batch(QueueUrl=source, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(6)])
    exhaust(sqs, source)
    sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    assert count(sqs, dlq) == 6
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING"
    assert running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    # Only one active task per source.
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert error_of(e)["Code"] == "InvalidParameterValue"

    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 0 <= moved < 6
    task = wait_for_status(sqs, dlq_arn, "CANCELLED")
    assert task["Status"] == "CANCELLED"
    assert count(sqs, dlq) + count(sqs, source) == 6
    assert count(sqs, dlq) > 0
    with pytest.raises(ClientError):
        sqs.cancel_message_move_task(TaskHandle=handle)


def test_list_message_move_tasks_returns_the_most_recent_first(sqs, pair):
    source, dlq = pair
    dlq_arn = arn_of(sqs, dlq)
    for _ in range(2):
        sqs.send_message(QueueUrl=source, MessageBody="x")
        exhaust(sqs, source)
        sqs.receive_message(QueueUrl=source)
        sqs.start_message_move_task(SourceArn=dlq_arn)
        wait_for_status(sqs, dlq_arn, "COMPLETED")
    assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]) == 1
    both = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert len(both) == 2
    assert both[0]["StartedTimestamp"] >= both[1]["StartedTimestamp"]


def test_move_task_needs_a_dead_letter_queue(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("plain"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, url))
    err = error_of(e)
    assert (err["Code"], err["Message"]) == ("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")


def test_move_task_on_a_missing_queue_is_resource_not_found(sqs, unique_name):
    arn = f"arn:aws:sqs:us-east-1:000000000000:{unique_name('missing')}"
    for call in (
        lambda: sqs.start_message_move_task(SourceArn=arn),
        lambda: sqs.list_message_move_tasks(SourceArn=arn),
    ):
        with pytest.raises(ClientError) as e:
            call()
        err = error_of(e)
        assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
        assert err["Message"] == "The resource that you specified for the SourceArn parameter doesn't exist."


def test_move_task_with_a_missing_destination_is_resource_not_found(sqs, pair, unique_name):
    _, dlq = pair
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(
            SourceArn=arn_of(sqs, dlq), DestinationArn=f"arn:aws:sqs:us-east-1:000000000000:{unique_name('none')}"
        )
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_cli_move_task(aws_cli, sqs, pair):
    source, dlq = pair
    sqs.send_message(QueueUrl=source, MessageBody="x")
    exhaust(sqs, source)
    sqs.receive_message(QueueUrl=source)
    dlq_arn = arn_of(sqs, dlq)
    assert aws_cli("sqs", "list-dead-letter-source-queues", "--queue-url", dlq)["queueUrls"] == [source]
    handle = aws_cli("sqs", "start-message-move-task", "--source-arn", dlq_arn)["TaskHandle"]
    assert handle
    task = wait_for_status(sqs, dlq_arn, "COMPLETED")
    listed = aws_cli("sqs", "list-message-move-tasks", "--source-arn", dlq_arn)["Results"]
    assert listed[0]["Status"] == task["Status"] == "COMPLETED"
