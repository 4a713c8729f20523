"""Amazon SNS as boto3 and the AWS CLI see it: topics (CreateTopic idempotency and name
rules, attributes with AWS's defaults, policies, tags, data protection), subscriptions
(confirmation, attributes, unsubscribe), Publish and PublishBatch with their limits,
delivery to SQS (JSON envelope or raw), filter policies on attributes and on the body,
FIFO topics, pagination, and (account, region) isolation."""

from __future__ import annotations

import base64
import json
import re

import pytest
from botocore.exceptions import ClientError

from sns_helpers import bodies, error_of, make_queue, new_account, receive, receive_all, subscribe_queue

DEFAULT_ACCOUNT = "000000000000"


@pytest.fixture
def sns(aws_client):
    return aws_client("sns")


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


# ----------------------------------------------------------------------------- topics


def test_create_topic_is_idempotent_and_names_the_topic_in_its_arn(sns, unique_name):
    name = unique_name("t")
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name=name, Attributes={"DisplayName": "other"})
    assert error_of(e) == (
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        400,
    )


def test_create_topic_refuses_bad_names(sns, unique_name):
    for bad in ["has space", "a" * 257, "", "dot.fifo"]:
        with pytest.raises(ClientError) as e:
            sns.create_topic(Name=bad)
        assert error_of(e)[:2] == ("InvalidParameter", "Invalid parameter: Topic Name"), bad
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name=unique_name("nofifo"), Attributes={"FifoTopic": "true"})
    code, message, _ = error_of(e)
    assert code == "InvalidParameter" and "Fifo Topic names must end with .fifo" in message


def test_topic_attributes_have_aws_defaults(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == DEFAULT_ACCOUNT
    assert attrs["DisplayName"] == ""
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(attrs["Policy"])
    statement = policy["Statement"][0]
    assert statement["Resource"] == arn
    assert "SNS:Publish" in statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceOwner": DEFAULT_ACCOUNT}}
    delivery = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert delivery["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in attrs


def test_set_topic_attributes_changes_what_get_returns(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="My Topic")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "My Topic"
    assert attrs["SignatureVersion"] == "2"
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Nope", AttributeValue="x")
    assert error_of(e) == ("InvalidParameter", "Invalid parameter: AttributeName", 400)
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert error_of(e)[0] == "InvalidParameter"
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue="{not json")
    assert error_of(e)[0] == "InvalidParameter"


def test_missing_topics_are_not_found(sns):
    missing = f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT}:does-not-exist"
    for call in (
        lambda: sns.get_topic_attributes(TopicArn=missing),
        lambda: sns.publish(TopicArn=missing, Message="m"),
        lambda: sns.subscribe(TopicArn=missing, Protocol="email", Endpoint="a@example.com"),
        lambda: sns.list_subscriptions_by_topic(TopicArn=missing),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(ClientError) as e:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert error_of(e)[:2] == ("InvalidParameter", "Invalid parameter: TopicArn")


def test_delete_topic_removes_it_and_its_subscriptions(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    _, sub = subscribe_queue(sns, sqs, arn, unique_name("q"))
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting again succeeds
    with pytest.raises(ClientError) as e:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(e)[0] == "NotFound"
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(ClientError) as e:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert error_of(e) == ("NotFound", "Subscription does not exist", 404)


def test_list_topics_pages_by_100(aws_client):
    sns = aws_client("sns", account=new_account())
    arns = {sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5 and "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == arns
    paginated = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert sorted(paginated) == sorted(arns)


def test_topics_are_isolated_by_account_and_region(aws_client, unique_name):
    account_a, account_b = new_account(), new_account()
    sns_a = aws_client("sns", account=account_a)
    sns_b = aws_client("sns", account=account_b)
    sns_a_west = aws_client("sns", account=account_a, region="us-west-2")
    name = unique_name("iso")
    arn = sns_a.create_topic(Name=name)["TopicArn"]
    assert sns_b.list_topics()["Topics"] == []
    assert sns_a_west.list_topics()["Topics"] == []
    west_arn = sns_a_west.create_topic(Name=name)["TopicArn"]
    assert west_arn == f"arn:aws:sns:us-west-2:{account_a}:{name}"
    assert [t["TopicArn"] for t in sns_a.list_topics()["Topics"]] == [arn]
    # Another account reaches the topic only as its policy allows.
    with pytest.raises(ClientError) as e:
        sns_b.publish(TopicArn=arn, Message="hi")
    assert error_of(e)[0] == "AuthorizationError"
    sns_a.add_permission(TopicArn=arn, Label="b-publishes", AWSAccountId=[account_b], ActionName=["Publish"])
    assert sns_b.publish(TopicArn=arn, Message="hi")["MessageId"]
    with pytest.raises(ClientError) as e:
        sns_b.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="x")
    assert error_of(e)[0] == "AuthorizationError"


def test_add_and_remove_permission_edit_the_policy(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="l1", AWSAccountId=["111122223333"], ActionName=["Publish", "Subscribe"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    added = next(s for s in statements if s["Sid"] == "l1")
    assert added["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert added["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    assert added["Resource"] == arn
    with pytest.raises(ClientError) as e:
        sns.add_permission(TopicArn=arn, Label="l1", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert error_of(e)[:2] == ("InvalidParameter", "Invalid parameter: Statement already exists")
    sns.remove_permission(TopicArn=arn, Label="l1")
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID"]


def test_tags_are_added_listed_removed_and_limited_to_50(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"), Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(e)[0] == "TagLimitExceeded"
    with pytest.raises(ClientError) as e:
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")
    assert error_of(e) == ("ResourceNotFound", "Resource does not exist", 404)
    # Same name, other tags: not the same topic request.
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name=arn.split(":")[-1], Tags=[{"Key": "env", "Value": "prod"}])
    assert error_of(e)[1] == "Invalid parameter: Tags Reason: Topic already exists with different tags"


def test_data_protection_policy_is_stored(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == ""
    policy = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=policy)
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == policy


def test_sms_and_platform_operations_answer_not_implemented(sns):
    with pytest.raises(ClientError) as e:
        sns.list_platform_applications()
    assert error_of(e)[0] == "NotImplemented"
    with pytest.raises(ClientError) as e:
        sns.publish(PhoneNumber="+15555550100", Message="hi")
    assert error_of(e)[0] == "NotImplemented"
    # A number that is not E.164 is refused before anything is sent, as AWS refuses it.
    for number in ("555-0100", "+0123456", "+1234567890123456", ""):
        with pytest.raises(ClientError) as e:
            sns.publish(PhoneNumber=number, Message="hi")
        assert error_of(e) == (
            "InvalidParameter", f"Invalid parameter: PhoneNumber Reason: {number} is not valid to publish to", 400)


def test_aws_cli_creates_lists_and_publishes(aws_cli, unique_name):
    name = unique_name("cli")
    arn = aws_cli("sns", "create-topic", "--name", name)["TopicArn"]
    assert arn in [t["TopicArn"] for t in aws_cli("sns", "list-topics")["Topics"]]
    out = aws_cli("sns", "publish", "--topic-arn", arn, "--message", "from the cli")
    assert re.fullmatch(r"[0-9a-f-]{36}", out["MessageId"])
    code, stderr = aws_cli("sns", "get-topic-attributes", "--topic-arn", arn + "x", expect_error=True)
    assert code != 0 and "NotFound" in stderr


# ----------------------------------------------------------------------------- subscriptions


def test_sqs_subscriptions_are_confirmed_at_once(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    _, queue_arn = make_queue(sqs, unique_name("q"))
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["RawMessageDelivery"] == "false"
    assert (attrs["Owner"], attrs["Protocol"], attrs["Endpoint"], attrs["TopicArn"]) == (DEFAULT_ACCOUNT, "sqs", queue_arn, arn)
    # Subscribe is idempotent for the same endpoint...
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"] == sub
    # ...unless the attributes differ.
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    assert error_of(e)[1] == "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert listed == [{"SubscriptionArn": sub, "Owner": DEFAULT_ACCOUNT, "Protocol": "sqs", "Endpoint": queue_arn, "TopicArn": arn}]
    assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"


def test_email_subscriptions_wait_for_confirmation_with_a_token(sns, http, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"] == "pending confirmation"
    sub = sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="b@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    listed = {s["Endpoint"]: s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]}
    assert listed == {"a@example.com": "PendingConfirmation", "b@example.com": "PendingConfirmation"}
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("2", "0")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"

    pending = http.get("/_kagami/sns/subscription-tokens", params={"TopicArn": arn}).json()["subscriptions"]
    token = next(p["Token"] for p in pending if p["SubscriptionArn"] == sub)
    with pytest.raises(ClientError) as e:
        sns.confirm_subscription(TopicArn=arn, Token="0" * 64)
    assert error_of(e) == ("InvalidParameter", "Invalid parameter: Token", 400)
    assert sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"] == sub
    assert sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"] == sub
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("1", "1")


def test_subscribe_checks_protocol_and_endpoint(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    cases = [
        ("carrier-pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
        ("sqs", "not-an-arn", "Invalid parameter: SQS endpoint ARN"),
        ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
        ("lambda", "arn:aws:sqs:us-east-1:000000000000:q", "Invalid parameter: Lambda endpoint ARN"),
    ]
    for protocol, endpoint, message in cases:
        with pytest.raises(ClientError) as e:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        assert error_of(e) == ("InvalidParameter", message, 400), protocol
    _, fifo_queue = make_queue(sqs, unique_name("q") + ".fifo", FifoQueue="true")
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=fifo_queue)
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in error_of(e)[1]
    _, queue = make_queue(sqs, unique_name("q"))
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"FilterPolicy": "{"})
    assert error_of(e)[:2] == ("InvalidParameter", "Invalid parameter: FilterPolicy: failed to parse JSON.")


def test_subscription_attributes_are_set_and_checked(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    _, sub = subscribe_queue(sns, sqs, arn, unique_name("q"))
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a":["b"]}')
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["RawMessageDelivery"] == "true"
    assert json.loads(attrs["FilterPolicy"]) == {"a": ["b"]}
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="Everything")
    assert error_of(e)[1] == "Invalid parameter: FilterPolicyScope: Invalid value [Everything]. Please use either MessageBody or MessageAttributes"
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="Color", AttributeValue="red")
    assert error_of(e) == ("InvalidParameter", "Invalid parameter: AttributeName", 400)
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue='{"deadLetterTargetArn":"x"}')
    assert error_of(e)[1] == "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a":[{"nope":1}]}')
    assert error_of(e)[1] == "Invalid parameter: FilterPolicy: Unrecognized match type nope"


def test_unsubscribe_removes_the_subscription_and_counts_it(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url, sub = subscribe_queue(sns, sqs, arn, unique_name("q"))
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # a second time succeeds
    with pytest.raises(ClientError) as e:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert error_of(e) == ("NotFound", "Subscription does not exist", 404)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"
    sns.publish(TopicArn=arn, Message="nobody listens")
    assert receive(sqs, url) == []


def test_list_subscriptions_pages_by_100(aws_client):
    sns = aws_client("sns", account=new_account())
    arn = sns.create_topic(Name="many")["TopicArn"]
    for i in range(101):
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=f"u{i}@example.com")
    for call in (sns.list_subscriptions, lambda **kw: sns.list_subscriptions_by_topic(TopicArn=arn, **kw)):
        first = call()
        assert len(first["Subscriptions"]) == 100 and first["NextToken"]
        second = call(NextToken=first["NextToken"])
        assert len(second["Subscriptions"]) == 1 and "NextToken" not in second
        endpoints = {s["Endpoint"] for s in first["Subscriptions"] + second["Subscriptions"]}
        assert len(endpoints) == 101


# ----------------------------------------------------------------------------- publish to SQS


def test_sqs_subscribers_get_the_json_envelope(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url, sub = subscribe_queue(sns, sqs, arn, unique_name("q"))
    out = sns.publish(
        TopicArn=arn,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "n": {"DataType": "Number", "StringValue": "42"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    [message] = receive_all(sqs, url, 1)
    body = json.loads(message["Body"])
    assert body["Type"] == "Notification"
    assert body["MessageId"] == out["MessageId"]
    assert body["TopicArn"] == arn
    assert body["Subject"] == "greeting"
    assert body["Message"] == "hello"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["Timestamp"])
    assert body["SignatureVersion"] == "1"
    assert base64.b64decode(body["Signature"])
    assert body["SigningCertURL"].endswith(".pem")
    assert "Action=Unsubscribe" in body["UnsubscribeURL"] and sub in body["UnsubscribeURL"]
    assert body["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "red"},
        "n": {"Type": "Number", "Value": "42"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }
    # The envelope carries the attributes; the SQS message has none of its own.
    assert "MessageAttributes" not in message
    # Without a subject or attributes, the envelope has neither.
    sns.publish(TopicArn=arn, Message="plain")
    [plain] = bodies(receive_all(sqs, url, 1))
    assert "Subject" not in plain and "MessageAttributes" not in plain


def test_raw_delivery_sends_the_message_and_its_attributes_as_sqs_attributes(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q"), RawMessageDelivery="true")
    sns.publish(
        TopicArn=arn,
        Message='{"raw": true}',
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "n": {"DataType": "Number", "StringValue": "7"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x02"},
            "list": {"DataType": "String.Array", "StringValue": '["a", 1]'},
        },
    )
    [message] = receive_all(sqs, url, 1)
    assert message["Body"] == '{"raw": true}'
    assert message["MessageAttributes"] == {
        "color": {"DataType": "String", "StringValue": "red"},
        "n": {"DataType": "Number", "StringValue": "7"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x02"},
        "list": {"DataType": "String.Array", "StringValue": '["a", 1]'},
    }


def test_message_structure_json_sends_each_protocol_its_message(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q"))
    sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs", "email": "e"}))
    sns.publish(TargetArn=arn, MessageStructure="json", Message=json.dumps({"default": "only default"}))
    assert [b["Message"] for b in bodies(receive_all(sqs, url, 2))] == ["for sqs", "only default"]
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    assert error_of(e)[1] == "Invalid parameter: Message Structure - No default entry in JSON message body"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, MessageStructure="json", Message="not json")
    assert error_of(e)[1] == "Invalid parameter: Message Structure - JSON message body failed to parse"


def test_publish_checks_message_subject_and_attributes(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    cases = [
        (dict(Message=""), ("InvalidParameter", "Invalid parameter: Empty message")),
        (dict(Message="x" * (256 * 1024 + 1)), ("InvalidParameter", "Invalid parameter: Message too long")),
        (dict(Message="m", Subject="line\nbreak"), ("InvalidParameter", "Invalid parameter: Subject")),
        (dict(Message="m", Subject="s" * 100), ("InvalidParameter", "Invalid parameter: Subject")),
        (
            dict(Message="m", MessageAttributes={"a": {"DataType": "Blob", "StringValue": "x"}}),
            (
                "ParameterValueInvalid",
                "The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
            ),
        ),
        (
            dict(Message="m", MessageAttributes={"a": {"DataType": "Number", "StringValue": "ten"}}),
            ("ParameterValueInvalid", "Could not cast message attribute 'a' value to number."),
        ),
        (
            dict(Message="m", MessageAttributes={"a": {"DataType": "String", "BinaryValue": b"x"}}),
            ("ParameterValueInvalid", "The message attribute 'a' with type 'String' must use field 'String'."),
        ),
        (
            dict(Message="m", MessageDeduplicationId="d"),
            (
                "InvalidParameter",
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ),
        ),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ClientError) as e:
            sns.publish(TopicArn=arn, **kwargs)
        assert error_of(e)[:2] == expected, kwargs
    # Exactly 256 KiB is allowed.
    assert sns.publish(TopicArn=arn, Message="x" * (256 * 1024))["MessageId"]


# ----------------------------------------------------------------------------- filter policies


def test_attribute_filter_policies_choose_the_subscribers(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    policies = {
        "exact": {"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}]},
        "numeric": {"price": [{"numeric": [">", 0, "<=", 100]}]},
        "prefix": {"customer": [{"prefix": "vip-"}], "promo": [{"exists": False}]},
        "array": {"tags": ["blue"]},
    }
    urls = {k: subscribe_queue(sns, sqs, arn, unique_name(k), FilterPolicy=json.dumps(p))[0] for k, p in policies.items()}

    def attrs(**kv):
        out = {}
        for k, v in kv.items():
            if isinstance(v, (int, float)):
                out[k] = {"DataType": "Number", "StringValue": str(v)}
            elif isinstance(v, list):
                out[k] = {"DataType": "String.Array", "StringValue": json.dumps(v)}
            else:
                out[k] = {"DataType": "String", "StringValue": v}
        return out

    sns.publish(TopicArn=arn, Message="m1", MessageAttributes=attrs(store="example_corp", event="order_placed", price=50))
    sns.publish(TopicArn=arn, Message="m2", MessageAttributes=attrs(store="example_corp", event="order_cancelled", price=150))
    sns.publish(TopicArn=arn, Message="m3", MessageAttributes=attrs(customer="vip-1", tags=["red", "blue"]))
    sns.publish(TopicArn=arn, Message="m4", MessageAttributes=attrs(customer="vip-2", promo="yes"))
    sns.publish(TopicArn=arn, Message="m5")

    got = {k: sorted(b["Message"] for b in bodies(receive_all(sqs, u, 3))) for k, u in urls.items()}
    assert got == {"exact": ["m1"], "numeric": ["m1"], "prefix": ["m3"], "array": ["m3"]}


def test_body_filter_policies_match_the_json_message(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    policy = {"order": {"status": ["paid"], "total": [{"numeric": [">=", 10]}]}, "$or": [{"region": [{"prefix": "eu-"}]}, {"priority": [{"exists": True}]}]}
    url, sub = subscribe_queue(sns, sqs, arn, unique_name("q"), FilterPolicyScope="MessageBody", FilterPolicy=json.dumps(policy))
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicyScope"] == "MessageBody"
    messages = [
        {"order": {"status": "paid", "total": 12}, "region": "eu-west-1"},  # matches
        {"order": {"status": "paid", "total": 12}, "region": "us-east-1"},  # $or fails
        {"order": {"status": "open", "total": 50}, "priority": 1},  # status fails
        {"order": {"status": "paid", "total": 10}, "priority": "high"},  # matches
    ]
    for m in messages:
        sns.publish(TopicArn=arn, Message=json.dumps(m))
    sns.publish(TopicArn=arn, Message="not json at all")
    got = [json.loads(b["Message"]) for b in bodies(receive_all(sqs, url, 3))]
    assert sorted(got, key=json.dumps) == sorted([messages[0], messages[3]], key=json.dumps)
    # A nested policy needs the body scope.
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes")
    assert error_of(e)[0] == "InvalidParameter"


# ----------------------------------------------------------------------------- FIFO


def test_fifo_topics_deliver_in_order_with_group_and_deduplication(sns, sqs, unique_name):
    name = unique_name("t") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"]) == ("true", "false")
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q") + ".fifo")

    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="m", MessageDeduplicationId="d")
    assert error_of(e)[1] == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="m", MessageGroupId="g")
    assert error_of(e)[1] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    )
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com")
    assert error_of(e)[0] == "InvalidParameter"

    first = sns.publish(TopicArn=arn, Message="one", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sns.publish(TopicArn=arn, Message="one again", MessageGroupId="g", MessageDeduplicationId="d1")
    second = sns.publish(TopicArn=arn, Message="two", MessageGroupId="g", MessageDeduplicationId="d2")
    assert again["MessageId"] == first["MessageId"] and again["SequenceNumber"] == first["SequenceNumber"]
    assert len(first["SequenceNumber"]) == 20 and int(second["SequenceNumber"]) > int(first["SequenceNumber"])

    messages = receive_all(sqs, url, 2)
    envelopes = bodies(messages)
    assert [b["Message"] for b in envelopes] == ["one", "two"]
    assert envelopes[0]["SequenceNumber"] == first["SequenceNumber"]
    assert messages[0]["Attributes"]["MessageGroupId"] == "g"
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == "d1"
    assert receive(sqs, url) == []


def test_fifo_content_based_deduplication(sns, sqs, unique_name):
    arn = sns.create_topic(
        Name=unique_name("t") + ".fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q") + ".fifo")
    a = sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")
    b = sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    assert len(receive_all(sqs, url, 2)) == 1


# ----------------------------------------------------------------------------- PublishBatch


def test_publish_batch_delivers_every_entry(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q"), RawMessageDelivery="true")
    entries = [{"Id": f"e{i}", "Message": f"m{i}"} for i in range(10)]
    entries[3]["MessageAttributes"] = {"k": {"DataType": "String", "StringValue": "v"}}
    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
    assert [s["Id"] for s in out["Successful"]] == [e["Id"] for e in entries]
    assert len({s["MessageId"] for s in out["Successful"]}) == 10
    assert out["Failed"] == []
    messages = receive_all(sqs, url, 10)
    assert sorted(m["Body"] for m in messages) == sorted(e["Message"] for e in entries)
    assert next(m for m in messages if m["Body"] == "m3")["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}


def test_publish_batch_limits_and_entry_failures(sns, unique_name):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    cases = [
        ([{"Id": f"e{i}", "Message": "m"} for i in range(11)], ("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")),
        ([], ("EmptyBatchRequest", "The batch request doesn't contain any entries.")),
        ([{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}], ("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")),
        ([{"Id": "bad id!", "Message": "m"}], ("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification.")),
        ([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 100_000}], ("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")),
    ]
    for entries, expected in cases:
        with pytest.raises(ClientError) as e:
            sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
        assert error_of(e)[:2] == expected
    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "ok", "Message": "m"}, {"Id": "empty", "Message": ""}])
    assert [s["Id"] for s in out["Successful"]] == ["ok"]
    assert out["Failed"] == [{"Id": "empty", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True}]
    with pytest.raises(ClientError) as e:
        sns.publish_batch(TopicArn=arn + "-missing", PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])
    assert error_of(e)[0] == "NotFound"


def test_publish_batch_to_fifo_topics_needs_group_ids(sns, sqs, unique_name):
    arn = sns.create_topic(Name=unique_name("t") + ".fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, _ = subscribe_queue(sns, sqs, arn, unique_name("q") + ".fifo")
    with pytest.raises(ClientError) as e:
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])
    assert error_of(e)[:2] == ("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    out = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[{"Id": f"e{i}", "Message": f"m{i}", "MessageGroupId": "g"} for i in range(3)],
    )
    seqs = [int(s["SequenceNumber"]) for s in out["Successful"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [b["Message"] for b in bodies(receive_all(sqs, url, 3))] == ["m0", "m1", "m2"]


def test_topics_deliver_to_queues_of_other_accounts_and_regions(aws_client, unique_name):
    owner, other = new_account(), new_account()
    sns = aws_client("sns", account=owner, region="eu-central-1")
    theirs = aws_client("sqs", account=other, region="eu-central-1")
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    assert arn.startswith(f"arn:aws:sns:eu-central-1:{owner}:")
    url, queue_arn = make_queue(theirs, unique_name("q"))
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=arn, Message="across accounts")
    [body] = bodies(receive_all(theirs, url, 1))
    assert (body["Message"], body["TopicArn"]) == ("across accounts", arn)
    # The subscription belongs to the topic's account and region only.
    assert aws_client("sns", account=owner, region="us-east-1").list_subscriptions()["Subscriptions"] == []
    assert aws_client("sns", account=other, region="eu-central-1").list_subscriptions()["Subscriptions"] == []
