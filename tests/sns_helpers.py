"""Helpers for the SNS tests: topics wired to SQS queues, receiving what SNS delivered,
and AWS errors as the tests compare them."""

from __future__ import annotations

import json
import random


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def new_account() -> str:
    """A random 12-digit account id (the access key id names the account)."""
    return str(random.randint(100000000000, 999999999999))


def make_queue(sqs, name: str, **attributes) -> tuple[str, str]:
    """A new SQS queue: (url, arn)."""
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url, wait=1, count=10) -> list[dict]:
    return sqs.receive_message(
        QueueUrl=url,
        WaitTimeSeconds=wait,
        MaxNumberOfMessages=count,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
    ).get("Messages", [])


def receive_all(sqs, url, expected: int, wait=2) -> list[dict]:
    """Receives until `expected` messages arrived (or a receive comes back empty)."""
    got: list[dict] = []
    while len(got) < expected:
        batch = receive(sqs, url, wait=wait)
        if not batch:
            break
        got.extend(batch)
    return got


def bodies(messages: list[dict]) -> list[dict]:
    return [json.loads(m["Body"]) for m in messages]


def subscribe_queue(sns, sqs, topic_arn: str, name: str, **attributes) -> tuple[str, str]:
    """A queue subscribed to the topic: (queue url, subscription arn)."""
    url, arn = make_queue(sqs, name, **({"FifoQueue": "true"} if name.endswith(".fifo") else {}))
    sub = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={k: v for k, v in attributes.items()},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return url, sub
