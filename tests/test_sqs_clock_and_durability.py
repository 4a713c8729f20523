"""SQS on the emulated clock (POST /_kagami/clock moves delays, visibility timeouts,
retention, the deduplication interval and the PurgeQueue limit) and in durable mode (what
SendMessage acknowledged survives kill -9, deleted messages stay deleted, in-flight
messages keep their receive count). Each test runs its own server."""

from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import counts

pytestmark = pytest.mark.slow


def advance(server, seconds: float) -> None:
    response = server.advance_clock(seconds)
    assert response.status_code == 200, response.text


def source_and_dead_letter_queue(sqs) -> tuple[str, str, str]:
    """Queue `src` whose messages move to queue `dlq` after one receive: (src, dlq, dlq ARN)."""
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create_queue(
        QueueName="src", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})}
    )["QueueUrl"]
    return src, dlq, dlq_arn


def dead_letter(sqs, src, dlq, n: int) -> None:
    """Sends `n` (at most 10) messages to `src` and receives them twice, so all move to `dlq`."""
    sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(n)])
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    assert counts(sqs, dlq)[0] == n


@pytest.fixture
def server(kagami_process):
    return kagami_process()


# ------------------------------------------------------------------ emulated clock


def test_advancing_the_clock_ends_the_visibility_timeout(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="vt", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url)
    advance(server, 299)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    advance(server, 2)
    m = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert m["Attributes"]["ApproximateReceiveCount"] == "2"


def test_advancing_the_clock_delivers_delayed_messages(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="delay")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=900)
    assert counts(sqs, url) == (0, 0, 1)
    advance(server, 900)
    assert counts(sqs, url) == (1, 0, 0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"


def test_messages_older_than_the_retention_period_disappear(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)
    advance(server, 30)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    advance(server, 31)
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["young"]


def test_advancing_the_clock_wakes_a_long_poll(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=600)
    result = {}

    def poll():
        started = time.monotonic()
        result["response"] = server.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    advance(server, 600)
    thread.join(timeout=25)
    assert result["response"]["Messages"][0]["Body"] == "x"
    assert result["elapsed"] < 5


def test_purge_is_allowed_again_after_60_seconds(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="purge")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    advance(server, 59)
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    advance(server, 2)
    sqs.purge_queue(QueueUrl=url)


def test_deduplication_interval_is_five_minutes(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(
        QueueName="dedup.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"]
    advance(server, 299)
    assert sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"] == first
    advance(server, 2)
    assert sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"] != first
    assert counts(sqs, url)[0] == 2


def test_rate_limited_move_task_follows_the_clock(server):
    sqs = server.client("sqs")
    src, dlq, dlq_arn = source_and_dead_letter_queue(sqs)
    dead_letter(sqs, src, dlq, 5)
    sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)
    time.sleep(0.3)
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "RUNNING"
    for _ in range(6):
        advance(server, 1)
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert counts(sqs, src)[0] == 5


def test_reset_forgets_every_queue(server):
    sqs = server.client("sqs")
    sqs.create_queue(QueueName="a")
    assert server.reset("sqs").status_code == 200
    assert "QueueUrls" not in sqs.list_queues()


# ------------------------------------------------------------------ durability


def test_acknowledged_messages_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sqs = server.client("sqs")
    url = sqs.create_queue(
        QueueName="durable", Attributes={"VisibilityTimeout": "600", "DelaySeconds": "0"}, tags={"keep": "me"}
    )["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName="durable.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    gone = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sent = [
        sqs.send_message(
            QueueUrl=url, MessageBody=f"m{i}", MessageAttributes={"i": {"DataType": "Number", "StringValue": str(i)}}
        )
        for i in range(5)
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "b", "MessageBody": "batched"}])
    before = [sqs.send_message(QueueUrl=fifo, MessageBody=f"f{i}", MessageGroupId="g")["SequenceNumber"] for i in range(2)]
    # One deleted, one in flight (received twice), the rest visible.
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]
    deleted_body = None
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]:
        if m["MessageId"] != handle["MessageId"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            deleted_body = m["Body"]
            break
    assert first["Body"] == handle["Body"] == "m0"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "7200"})
    sqs.delete_queue(QueueUrl=gone)

    server.kill9()
    server.restart()
    sqs = server.client("sqs")

    assert sorted(u.rsplit("/", 1)[1] for u in sqs.list_queues()["QueueUrls"]) == ["durable", "durable.fifo"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["VisibilityTimeout"], attrs["MessageRetentionPeriod"]) == ("600", "7200")
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"keep": "me"}
    assert counts(sqs, url) == (4, 1, 0)

    remaining = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    bodies = sorted(m["Body"] for m in remaining)
    assert deleted_body not in bodies
    assert "m0" not in bodies  # still in flight
    assert len(bodies) == 4
    by_id = {s["MessageId"]: s for s in sent}
    for m in remaining:
        if m["MessageId"] in by_id:
            assert m["MD5OfMessageAttributes"] == by_id[m["MessageId"]]["MD5OfMessageAttributes"]

    # The in-flight message kept its receive count and its visibility timeout.
    advance(server, 601)
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    m0 = [m for m in again if m["Body"] == "m0"]
    assert m0 and m0[0]["Attributes"]["ApproximateReceiveCount"] == "4"

    # FIFO sequence numbers keep increasing after the restart.
    after = sqs.send_message(QueueUrl=fifo, MessageBody="f-after", MessageGroupId="g")["SequenceNumber"]
    assert int(after) > max(int(n) for n in before)
    got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["f0", "f1", "f-after"]


def test_purged_and_moved_messages_stay_that_way_after_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sqs = server.client("sqs")
    src, dlq, dlq_arn = source_and_dead_letter_queue(sqs)
    purged = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message(QueueUrl=purged, MessageBody="x")
    sqs.purge_queue(QueueUrl=purged)
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)

    server.kill9()
    server.restart()
    sqs = server.client("sqs")
    assert counts(sqs, purged) == (0, 0, 0)
    assert counts(sqs, src) == (0, 0, 0)
    m = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert m["Body"] == "poison"
    assert m["Attributes"]["DeadLetterQueueSourceArn"].endswith(":src")
    assert json.loads(
        sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    ) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


def test_reset_clears_the_durable_store(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert server.reset("sqs").status_code == 200
    sqs.create_queue(QueueName="after-reset")
    server.kill9()
    server.restart()
    sqs = server.client("sqs")
    assert [u.rsplit("/", 1)[1] for u in sqs.list_queues()["QueueUrls"]] == ["after-reset"]


# ------------------------------------------------------------------ queue URLs


@pytest.mark.parametrize(
    "extra_args, env, host",
    [
        (("--external-host", "queues.example:9999"), None, "queues.example:9999"),
        ((), {"LOCALSTACK_HOST": "localstack-host:4566"}, "localstack-host:4566"),
    ],
    ids=["--external-host", "LOCALSTACK_HOST"],
)
def test_queue_urls_use_the_configured_external_host(kagami_process, extra_args, env, host):
    server = kagami_process(extra_args=extra_args, env=env)
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert url == f"http://{host}/000000000000/q"
    assert sqs.list_queues()["QueueUrls"] == [url]
    # The URL names the queue even though kagami is reached through another address.
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert counts(sqs, url) == (1, 0, 0)


# ------------------------------------------------------------------ expiry and retroactive settings


def test_a_deleted_queue_name_is_free_again_after_60_seconds(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="reborn")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    advance(server, 59)
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="reborn")
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    advance(server, 1)
    # A new queue of the same name starts empty.
    assert sqs.create_queue(QueueName="reborn")["QueueUrl"] == url
    assert counts(sqs, url) == (0, 0, 0)


def test_shorter_retention_applies_to_messages_already_in_the_queue(server):
    # "Changes made to the MessageRetentionPeriod attribute ... will impact existing
    # messages in the queue" (SetQueueAttributes).
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="shorter")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=3600)
    advance(server, 120)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["young"]


def test_queue_delay_change_does_not_affect_messages_already_in_a_standard_queue(server):
    # "For standard queues, the per-queue delay setting is not retroactive."
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="delay-change", Attributes={"DelaySeconds": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="delayed")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert counts(sqs, url) == (1, 0, 1)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "900"})
    assert counts(sqs, url) == (1, 0, 1)
    advance(server, 600)
    assert counts(sqs, url) == (2, 0, 0)


def test_receive_request_attempt_id_is_forgotten_after_five_minutes(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(
        QueueName="attempt.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "600"},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a")["Messages"][0]
    advance(server, 299)
    retry = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a")["Messages"][0]
    assert retry["ReceiptHandle"] == first["ReceiptHandle"]
    advance(server, 2)
    # Past the 5 minutes the id starts a new receive: the message is still in flight.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a")


# ------------------------------------------------------------------ durability of FIFO and move-task state


def test_deduplication_survives_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="dedup.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once/1")
    content = sqs.create_queue(
        QueueName="content.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    by_content = sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")
    gone = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=gone)

    server.kill9()
    server.restart()
    sqs = server.client("sqs")

    again = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once/1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    assert sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")["MessageId"] == by_content["MessageId"]
    assert counts(sqs, url) == (1, 0, 0)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["MessageId"] for m in got] == [first["MessageId"]]
    # The 60 seconds after DeleteQueue survive the restart too.
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="gone")
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"

    # Once the interval is over the id is new again (and deduplicates from then on).
    advance(server, 301)
    later = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once/1")
    assert later["MessageId"] != first["MessageId"]
    repeat = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once/1")
    assert repeat["MessageId"] == later["MessageId"]
    assert counts(sqs, url) == (2, 0, 0)


def test_message_move_tasks_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sqs = server.client("sqs")
    src, dlq, dlq_arn = source_and_dead_letter_queue(sqs)
    dead_letter(sqs, src, dlq, 6)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    deadline = time.monotonic() + 5
    while sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["ApproximateNumberOfMessagesMoved"] < 2:
        assert time.monotonic() < deadline
        advance(server, 1)
        time.sleep(0.05)
    before = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]

    server.kill9()
    server.restart()
    sqs = server.client("sqs")

    after = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert after["TaskHandle"] == handle
    assert after["Status"] == "RUNNING"
    assert after["ApproximateNumberOfMessagesToMove"] == 6
    assert after["ApproximateNumberOfMessagesMoved"] >= before["ApproximateNumberOfMessagesMoved"]
    assert after["StartedTimestamp"] == before["StartedTimestamp"]
    # Every message is in exactly one of the queues. (The restart set the emulated clock
    # back, so messages moved before it count as delayed until it catches up.)
    assert sum(counts(sqs, dlq)) + sum(counts(sqs, src)) == 6
    deadline = time.monotonic() + 10
    while sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] != "COMPLETED":
        assert time.monotonic() < deadline
        advance(server, 1)
        time.sleep(0.05)
    advance(server, 60)
    assert counts(sqs, src) == (6, 0, 0)
    assert counts(sqs, dlq) == (0, 0, 0)

    # A finished task is still listed after another restart, with its final count.
    server.kill9()
    server.restart()
    sqs = server.client("sqs")
    done = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert (done["Status"], done["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 6)
    assert "TaskHandle" not in done
