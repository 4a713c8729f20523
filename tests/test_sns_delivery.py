"""Amazon SNS beyond SQS: delivery to Lambda functions (AWS's SNS event, invoked
asynchronously), to HTTP endpoints (SubscriptionConfirmation then Notification), failed
deliveries redriven to the subscription's dead-letter queue, and topics, subscriptions,
attributes and tags that survive kill -9 and restart."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lambda_helpers import create_python
from sns_helpers import bodies, make_queue, receive, receive_all, subscribe_queue

DEFAULT_ACCOUNT = "000000000000"

ECHO = """
    def handler(event, context):
        return event
"""


@pytest.fixture
def sns(aws_client):
    return aws_client("sns")


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


def wait_for_message(sqs, url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = receive(sqs, url, wait=2)
        if messages:
            return messages[0]
    pytest.fail(f"no message reached {url} within {timeout} s")


def test_lambda_subscribers_are_invoked_with_the_sns_event(aws_client, sns, sqs, unique_name):
    lam = aws_client("lambda")
    name = unique_name("fn")
    function_arn = create_python(lam, name, ECHO)["FunctionArn"]
    # The function's answer (the event it got) goes on to a queue the test reads.
    url, queue_arn = make_queue(sqs, unique_name("out"))
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}})
    topic = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    out = sns.publish(
        TopicArn=topic, Message="to lambda", Subject="subj", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
    )

    record = json.loads(wait_for_message(sqs, url)["Body"])
    event = record["requestPayload"]
    assert record["responsePayload"] == event
    [r] = event["Records"]
    assert (r["EventSource"], r["EventVersion"], r["EventSubscriptionArn"]) == ("aws:sns", "1.0", sub)
    s = r["Sns"]
    assert (s["Type"], s["MessageId"], s["TopicArn"], s["Subject"], s["Message"]) == ("Notification", out["MessageId"], topic, "subj", "to lambda")
    assert s["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert s["SignatureVersion"] == "1" and s["Signature"] and s["SigningCertUrl"] and sub in s["UnsubscribeUrl"]
    assert s["Timestamp"].endswith("Z")


def test_failed_deliveries_go_to_the_redrive_dead_letter_queue(sns, sqs, unique_name):
    topic = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    dlq_url, dlq_arn = make_queue(sqs, unique_name("dlq"))
    # A queue that no longer exists cannot take the message.
    _, gone_arn = make_queue(sqs, unique_name("gone"))
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=gone_arn.rsplit(":", 1)[1])["QueueUrl"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=gone_arn,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )
    out = sns.publish(TopicArn=topic, Message="undeliverable")
    [message] = receive_all(sqs, dlq_url, 1)
    body = json.loads(message["Body"])
    assert (body["MessageId"], body["Message"]) == (out["MessageId"], "undeliverable")


class _Recorder(BaseHTTPRequestHandler):
    received: "queue.Queue[tuple[dict, dict]]"
    # Statuses to answer, in order; 200 once they are used up.
    statuses: list[int]

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(self.statuses.pop(0) if self.statuses else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_endpoint():
    received: queue.Queue = queue.Queue()
    statuses: list[int] = []
    handler = type("Recorder", (_Recorder,), {"received": received, "statuses": statuses})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, statuses
    server.shutdown()
    server.server_close()


def test_http_endpoints_confirm_with_the_token_then_get_notifications(sns, http_endpoint, unique_name):
    endpoint, received, _ = http_endpoint
    topic = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True)["SubscriptionArn"]
    headers, confirmation = received.get(timeout=10)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-topic-arn"] == topic
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    assert "Action=ConfirmSubscription" in confirmation["SubscribeURL"]
    # Nothing is delivered before the subscription is confirmed.
    sns.publish(TopicArn=topic, Message="too early")
    # Visiting the SubscribeURL (unsigned, as an endpoint would) confirms the subscription.
    confirmed = requests.get(confirmation["SubscribeURL"], timeout=10)
    assert confirmed.status_code == 200 and sub in confirmed.text
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == sub
    out = sns.publish(TopicArn=topic, Message="hello http", Subject="s")
    headers, notification = received.get(timeout=10)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["x-amz-sns-message-id"] == out["MessageId"]
    assert headers["content-type"].startswith("text/plain")
    assert (notification["Type"], notification["Message"], notification["Subject"]) == ("Notification", "hello http", "s")
    assert received.empty()
    # So does the UnsubscribeURL of every notification.
    assert requests.get(notification["UnsubscribeURL"], timeout=10).status_code == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def next_attempt_after_advancing(server, received, seconds):
    """The next POST, advancing the emulated clock until the retry is due."""
    for _ in range(20):
        server.advance_clock(seconds)
        try:
            return received.get(timeout=0.5)
        except queue.Empty:
            pass
    pytest.fail("the retry never came")


def test_http_deliveries_are_retried_on_the_clock_then_dead_lettered(kagami_process, http_endpoint):
    endpoint, received, statuses = http_endpoint
    server = kagami_process()
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="retried")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.confirm_subscription(TopicArn=topic, Token=received.get(timeout=10)[1]["Token"])

    # AWS's default policy: retried 20 seconds later.
    statuses.extend([500, 200])
    out = sns.publish(TopicArn=topic, Message="retry me")
    assert received.get(timeout=10)[1]["MessageId"] == out["MessageId"]
    with pytest.raises(queue.Empty):
        received.get(timeout=1)
    headers, retried = next_attempt_after_advancing(server, received, 21)
    assert (headers["x-amz-sns-message-id"], retried["Message"]) == (out["MessageId"], "retry me")

    # Once the subscription's retries are spent, the message goes to its dead-letter queue.
    dlq_url, dlq_arn = make_queue(sqs, "http-dlq")
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 5}}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn})
    )
    statuses.extend([500, 500])
    out = sns.publish(TopicArn=topic, Message="give up")
    received.get(timeout=10)
    next_attempt_after_advancing(server, received, 6)
    [dead] = bodies(receive_all(sqs, dlq_url, 1, wait=5))
    assert (dead["MessageId"], dead["Message"]) == (out["MessageId"], "give up")


def test_topics_and_subscriptions_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sns, sqs = server.client("sns"), server.client("sqs")
    arn = sns.create_topic(Name="durable", Attributes={"DisplayName": "Durable"}, Tags=[{"Key": "keep", "Value": "me"}])["TopicArn"]
    fifo = sns.create_topic(Name="durable.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    gone = sns.create_topic(Name="gone")["TopicArn"]
    url, sub = subscribe_queue(sns, sqs, arn, "matching", FilterPolicy=json.dumps({"kind": ["keep"]}), RawMessageDelivery="true")
    pending = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
    dropped = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="b@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=dropped)
    sns.add_permission(TopicArn=arn, Label="other", AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.delete_topic(TopicArn=gone)
    seq_before = sns.publish(TopicArn=fifo, Message="x", MessageGroupId="g")["SequenceNumber"]

    server.kill9()
    server.restart()
    sns, sqs = server.client("sns"), server.client("sqs")

    assert sorted(t["TopicArn"] for t in sns.list_topics()["Topics"]) == sorted([arn, fifo])
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Durable"
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"]) == ("1", "1", "1")
    assert "other" in [s["Sid"] for s in json.loads(attrs["Policy"])["Statement"]]
    assert sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["ContentBasedDeduplication"] == "true"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "keep", "Value": "me"}]
    sub_attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (sub_attrs["RawMessageDelivery"], json.loads(sub_attrs["FilterPolicy"])) == ("true", {"kind": ["keep"]})
    assert sns.get_subscription_attributes(SubscriptionArn=pending)["Attributes"]["PendingConfirmation"] == "true"
    assert {s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]} == {sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"], "a@example.com"}

    # The filter policy still applies to deliveries.
    sns.publish(TopicArn=arn, Message="kept", MessageAttributes={"kind": {"DataType": "String", "StringValue": "keep"}})
    sns.publish(TopicArn=arn, Message="dropped", MessageAttributes={"kind": {"DataType": "String", "StringValue": "other"}})
    assert [m["Body"] for m in receive_all(sqs, url, 2)] == ["kept"]
    # FIFO sequence numbers keep increasing across the restart.
    assert int(sns.publish(TopicArn=fifo, Message="y", MessageGroupId="g")["SequenceNumber"]) > int(seq_before)


def test_an_http_retry_still_waiting_survives_kill_9(kagami_process, tmp_path, http_endpoint):
    endpoint, received, statuses = http_endpoint
    server = kagami_process(data_dir=tmp_path / "data")
    sns = server.client("sns")
    topic = sns.create_topic(Name="retried-durably")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    sns.confirm_subscription(TopicArn=topic, Token=received.get(timeout=10)[1]["Token"])

    # The endpoint fails the first attempt; the retry (20 s later) is pending at the crash.
    statuses.append(500)
    out = sns.publish(TopicArn=topic, Message="after the crash")
    assert received.get(timeout=10)[1]["MessageId"] == out["MessageId"]
    server.kill9()
    server.restart()

    headers, retried = next_attempt_after_advancing(server, received, 21)
    assert (headers["x-amz-sns-message-id"], retried["Message"]) == (out["MessageId"], "after the crash")
    # Delivered means done: another restart does not send it again.
    time.sleep(0.5)
    server.kill9()
    server.restart()
    server.advance_clock(600)
    with pytest.raises(queue.Empty):
        received.get(timeout=2)


def test_the_fifo_deduplication_window_survives_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="dedup.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, topic, "dedup-out.fifo")
    first = sns.publish(TopicArn=topic, Message="one", MessageGroupId="g", MessageDeduplicationId="d1")

    server.kill9()
    server.restart()
    sns, sqs = server.client("sns"), server.client("sqs")

    # Within 5 minutes the same id is a duplicate: the same answer, nothing delivered.
    again = sns.publish(TopicArn=topic, Message="one again", MessageGroupId="g", MessageDeduplicationId="d1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    # After the interval the id is new again.
    server.advance_clock(301)
    later = sns.publish(TopicArn=topic, Message="later", MessageGroupId="g", MessageDeduplicationId="d1")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    got = [json.loads(m["Body"])["Message"] for m in receive_all(sqs, url, 3)]
    assert got == ["one", "later"]
