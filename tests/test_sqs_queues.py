"""SQS queues as boto3 and the AWS CLI see them: CreateQueue idempotency and name rules,
queue attributes with AWS's defaults and ranges, GetQueueUrl, ListQueues pagination,
DeleteQueue, PurgeQueue, tags, permissions, and (account, region) isolation."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import error_of

DEFAULT_ACCOUNT = "000000000000"


@pytest.fixture
def sqs(aws_client):
    return aws_client("sqs")


# ------------------------------------------------------------------ CreateQueue


def test_create_queue_returns_url_with_the_host_called_and_the_account(sqs, kagami, unique_name):
    name = unique_name("q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{kagami.endpoint}/{DEFAULT_ACCOUNT}/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_queue_with_same_name_and_attributes_returns_existing_url(sqs, unique_name):
    name = unique_name("q")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    # Attributes not given are not compared.
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url


def test_create_queue_with_same_name_and_different_attributes_fails(sqs, unique_name):
    name = unique_name("q")
    sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "61"})
    err = error_of(e)
    assert err["Code"] == "QueueAlreadyExists"
    assert err["QueryErrorCode"] == "QueueNameExists"
    assert err["Status"] == 400
    assert err["Message"] == (
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout"
    )


def test_create_queue_sets_tags(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"), tags={"team": "blue", "env": "dev"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "blue", "env": "dev"}


@pytest.mark.parametrize(
    "name, attributes",
    [
        pytest.param("has space", {}, id="space"),
        pytest.param("has.dot", {}, id="dot"),
        pytest.param("x" * 81, {}, id="81-characters"),
        pytest.param("standard.fifo", {}, id="fifo-suffix-on-standard"),
        pytest.param("fifo-without-suffix", {"FifoQueue": "true"}, id="fifo-without-suffix"),
        pytest.param("x" * 76 + ".fifo", {"FifoQueue": "true"}, id="fifo-81-characters"),
    ],
)
def test_queue_names_outside_aws_rules_are_invalid_parameter_values(sqs, name, attributes):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Status"] == 400
    assert "alphanumeric characters, hyphens, or underscores" in err["Message"]


def test_queue_names_of_80_characters_are_valid(sqs, unique_name):
    name = unique_name("q")
    name = name + "x" * (80 - len(name))
    assert sqs.create_queue(QueueName=name)["QueueUrl"].endswith("/" + name)
    fifo = name[: 80 - 5] + ".fifo"
    assert sqs.create_queue(QueueName=fifo, Attributes={"FifoQueue": "true"})["QueueUrl"].endswith("/" + fifo)


# ------------------------------------------------------------------ attributes


def test_standard_queue_has_aws_default_attributes(sqs, unique_name):
    name = unique_name("q")
    before = int(time.time()) - 2
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    created = int(attrs.pop("CreatedTimestamp"))
    modified = int(attrs.pop("LastModifiedTimestamp"))
    assert before <= created <= int(time.time()) + 2
    assert modified == created
    assert attrs == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "DelaySeconds": "0",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "QueueArn": f"arn:aws:sqs:us-east-1:{DEFAULT_ACCOUNT}:{name}",
        "ReceiveMessageWaitTimeSeconds": "0",
        "VisibilityTimeout": "30",
        "SqsManagedSseEnabled": "true",
    }


def test_fifo_queue_has_fifo_attributes(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"


def test_get_queue_attributes_returns_only_the_names_asked_for(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "QueueArn"])["Attributes"]
    assert set(attrs) == {"VisibilityTimeout", "QueueArn"}
    # Without AttributeNames, no attributes at all.
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)


def test_get_queue_attributes_with_unknown_name_is_invalid_attribute_name(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("InvalidAttributeName", 400)
    assert err["Message"] == "Unknown Attribute Bogus."


@pytest.mark.parametrize(
    "name, value",
    [
        ("DelaySeconds", "901"),
        ("DelaySeconds", "-1"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "43201"),
        ("KmsDataKeyReusePeriodSeconds", "59"),
        ("KmsDataKeyReusePeriodSeconds", "86401"),
        ("VisibilityTimeout", "thirty"),
        ("SqsManagedSseEnabled", "maybe"),
    ],
)
def test_attribute_values_outside_documented_ranges_are_invalid(sqs, unique_name, name, value):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=unique_name("q"), Attributes={name: value})
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("InvalidAttributeValue", 400)
    assert err["Message"] == f"Invalid value for the parameter {name}."


@pytest.mark.parametrize(
    "name, value",
    [
        ("DelaySeconds", "900"),
        ("MaximumMessageSize", "1024"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "60"),
        ("MessageRetentionPeriod", "1209600"),
        ("ReceiveMessageWaitTimeSeconds", "20"),
        ("VisibilityTimeout", "0"),
        ("VisibilityTimeout", "43200"),
    ],
)
def test_attribute_values_at_documented_bounds_are_accepted(sqs, unique_name, name, value):
    url = sqs.create_queue(QueueName=unique_name("q"), Attributes={name: value})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"] == {name: value}


def test_set_queue_attributes_changes_values_and_last_modified(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"VisibilityTimeout": "120", "DelaySeconds": "5", "MessageRetentionPeriod": "3600"},
    )
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["VisibilityTimeout"], attrs["DelaySeconds"], attrs["MessageRetentionPeriod"]) == ("120", "5", "3600")
    assert int(attrs["LastModifiedTimestamp"]) >= int(attrs["CreatedTimestamp"])


@pytest.mark.parametrize("name", ["QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp", "Bogus"])
def test_set_queue_attributes_refuses_read_only_and_unknown_names(sqs, unique_name, name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: "1"})
    err = error_of(e)
    assert (err["Code"], err["Message"]) == ("InvalidAttributeName", f"Unknown Attribute {name}.")


def test_fifo_only_attributes_are_refused_on_standard_queues(sqs, unique_name):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=unique_name("q"), Attributes={"ContentBasedDeduplication": "true"})
    assert error_of(e)["Code"] == "InvalidAttributeName"
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=unique_name("q"), Attributes={"FifoThroughputLimit": "perQueue"})
    err = error_of(e)
    assert err["Code"] == "InvalidAttributeName"
    assert err["Message"] == "You can specify the FifoThroughputLimit only when FifoQueue is set to true."


def test_queue_type_cannot_be_changed(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    err = error_of(e)
    assert err["Code"] == "InvalidAttributeValue"
    assert "Modifying queue type is not supported" in err["Message"]


def test_sse_attributes_are_stored_and_returned(sqs, unique_name):
    url = sqs.create_queue(
        QueueName=unique_name("q"),
        Attributes={"KmsMasterKeyId": "alias/aws/sqs", "KmsDataKeyReusePeriodSeconds": "600"},
    )["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "600"
    # SSE-KMS and SSE-SQS are exclusive.
    assert attrs["SqsManagedSseEnabled"] == "false"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert "KmsMasterKeyId" not in attrs


def test_policy_attribute_is_stored_and_cleared(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(got) == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])


def test_malformed_policy_is_an_invalid_attribute_value(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"})
    assert error_of(e)["Code"] == "InvalidAttributeValue"


# ------------------------------------------------------------------ GetQueueUrl / errors


def test_get_queue_url_of_missing_queue_is_non_existent_queue(sqs, unique_name):
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName=unique_name("missing"))
    err = error_of(e)
    assert err["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert err["QueryErrorCode"] == "QueueDoesNotExist"
    assert err["Status"] == 400
    assert err["Message"] == "The specified queue does not exist."
    assert err["Headers"]["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


def test_operations_on_a_missing_queue_url_are_non_existent_queue(sqs, kagami, unique_name):
    url = f"{kagami.endpoint}/{DEFAULT_ACCOUNT}/{unique_name('missing')}"
    for call in (
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.list_queue_tags(QueueUrl=url),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_queue_urls_of_other_host_styles_reach_the_queue(sqs, unique_name):
    name = unique_name("q")
    sqs.create_queue(QueueName=name)
    for url in (
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{DEFAULT_ACCOUNT}/{name}",
        f"https://sqs.us-east-1.amazonaws.com/{DEFAULT_ACCOUNT}/{name}",
        f"http://localhost:4566/queue/us-east-1/{DEFAULT_ACCOUNT}/{name}",
    ):
        sqs.send_message(QueueUrl=url, MessageBody=url)
    attrs = sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "3"


def test_missing_required_parameter_is_missing_parameter(kagami, http):
    # boto3 validates parameters itself, so send the JSON request by hand.
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl"}
    response = http.signed("POST", "/", "sqs", body="{}", headers=headers)
    assert response.status_code == 400
    assert response.headers["x-amzn-query-error"] == "MissingParameter;Sender"
    assert "QueueName" in response.json()["message"]


# ------------------------------------------------------------------ ListQueues


def test_list_queues_filters_by_prefix_and_paginates(sqs, unique_name):
    prefix = unique_name("list")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        sqs.create_queue(QueueName=n)
    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert [u.rsplit("/", 1)[1] for u in listed["QueueUrls"]] == names
    # Without MaxResults there is never a NextToken.
    assert "NextToken" not in listed

    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(page["QueueUrls"]) == 2
    seen = list(page["QueueUrls"])
    while "NextToken" in page:
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=page["NextToken"])
        seen += page["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in seen] == names

    paginated = [
        url
        for p in sqs.get_paginator("list_queues").paginate(
            QueueNamePrefix=prefix, PaginationConfig={"PageSize": 3}
        )
        for url in p["QueueUrls"]
    ]
    assert paginated == listed["QueueUrls"]


def test_list_queues_without_matches_has_no_queue_urls(sqs, unique_name):
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique_name("nothing"))


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_queues_max_results_must_be_1_to_1000(sqs, max_results):
    with pytest.raises(ClientError) as e:
        sqs.list_queues(MaxResults=max_results)
    assert error_of(e)["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------ DeleteQueue / PurgeQueue


def test_deleted_queue_is_gone(sqs, unique_name):
    name = unique_name("q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName=name)
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as e:
        sqs.delete_queue(QueueUrl=url)
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_a_deleted_queue_name_cannot_be_reused_for_60_seconds(sqs, aws_client, unique_name):
    # "You must wait 60 seconds after deleting a queue before you can create another queue
    # with the same name." (test_sqs_clock_and_durability covers the end of the 60 s.)
    name = unique_name("q")
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=name)["QueueUrl"])
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name)
    err = error_of(e)
    assert err["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert err["QueryErrorCode"] == "QueueDeletedRecently"
    assert err["Status"] == 400
    assert err["Message"] == (
        "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    )
    # The name is still free in another region and another account.
    assert sqs.list_queues(QueueNamePrefix=name).get("QueueUrls") is None
    aws_client("sqs", region="eu-west-1").create_queue(QueueName=name)
    aws_client("sqs", account="111111111111").create_queue(QueueName=name)


def test_purge_queue_deletes_messages_once_per_60_seconds(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    err = error_of(e)
    assert err["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert err["QueryErrorCode"] == "PurgeQueueInProgress"
    assert err["Status"] == 403
    assert err["Message"] == f"Only one PurgeQueue operation on {url.rsplit('/', 1)[1]} is allowed every 60 seconds."


# ------------------------------------------------------------------ tags


def test_tag_untag_and_list_queue_tags(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    sqs.tag_queue(QueueUrl=url, Tags={"b": "3", "c": "4"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1", "b": "3", "c": "4"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "missing"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "3", "c": "4"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["b", "c"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_more_than_50_tags_is_invalid(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)})
    assert error_of(e)["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------ permissions


def test_add_and_remove_permission_maintain_the_policy(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.add_permission(
        QueueUrl=url, Label="consume", AWSAccountIds=["111111111111", "222222222222"],
        Actions=["ReceiveMessage", "DeleteMessage"],
    )
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Id"] == f"{arn}/SQSDefaultPolicy"
    assert policy["Statement"] == [
        {
            "Sid": "send",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "SQS:SendMessage",
            "Resource": arn,
        },
        {
            "Sid": "consume",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
            "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
            "Resource": arn,
        },
    ]
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    err = error_of(e)
    assert err["Code"] == "InvalidParameterValue"
    assert err["Message"] == "Value send for parameter Label is invalid. Reason: Already exists."

    sqs.remove_permission(QueueUrl=url, Label="send")
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["consume"]
    sqs.remove_permission(QueueUrl=url, Label="consume")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    with pytest.raises(ClientError) as e:
        sqs.remove_permission(QueueUrl=url, Label="consume")
    assert error_of(e)["Code"] == "InvalidParameterValue"


def test_add_permission_with_more_than_7_actions_is_over_limit(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["111111111111"], Actions=["SendMessage"] * 8)
    err = error_of(e)
    assert (err["Code"], err["Status"]) == ("OverLimit", 403)
    assert err["Message"] == "8 Actions were found, maximum allowed is 7."


def test_add_permission_refuses_owner_only_actions(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["111111111111"], Actions=["CreateQueue"])
    assert error_of(e)["Message"].startswith("Value SQS:CreateQueue for parameter ActionName is invalid.")


# ------------------------------------------------------------------ isolation


def test_accounts_are_isolated_but_reach_each_other_by_queue_url(aws_client, kagami, unique_name):
    a = aws_client("sqs", account="111111111111")
    b = aws_client("sqs", account="222222222222")
    name = unique_name("shared")
    url_a = a.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
    url_b = b.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "20"})["QueueUrl"]
    assert url_a == f"{kagami.endpoint}/111111111111/{name}"
    assert url_b == f"{kagami.endpoint}/222222222222/{name}"
    assert a.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_a]
    assert b.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_b]
    arn = b.get_queue_attributes(QueueUrl=url_b, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:us-east-1:222222222222:{name}"

    # Account b sends to account a's queue by its URL; the queue owner is a.
    b.send_message(QueueUrl=url_a, MessageBody="from b")
    got = a.receive_message(QueueUrl=url_a, MessageSystemAttributeNames=["SenderId"])["Messages"]
    assert [m["Body"] for m in got] == ["from b"]
    assert got[0]["Attributes"]["SenderId"] == "222222222222"
    assert "Messages" not in b.receive_message(QueueUrl=url_b)
    # GetQueueUrl with QueueOwnerAWSAccountId finds the other account's queue.
    assert b.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="111111111111")["QueueUrl"] == url_a


def test_regions_are_isolated(aws_client, unique_name):
    east = aws_client("sqs", region="us-east-1")
    west = aws_client("sqs", region="eu-west-1")
    name = unique_name("regional")
    east.create_queue(QueueName=name)
    with pytest.raises(ClientError) as e:
        west.get_queue_url(QueueName=name)
    assert error_of(e)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    url = west.create_queue(QueueName=name, Attributes={"DelaySeconds": "7"})["QueueUrl"]
    attrs = west.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "DelaySeconds"])["Attributes"]
    assert attrs == {"QueueArn": f"arn:aws:sqs:eu-west-1:{DEFAULT_ACCOUNT}:{name}", "DelaySeconds": "7"}
    east_url = east.get_queue_url(QueueName=name)["QueueUrl"]
    assert east.get_queue_attributes(QueueUrl=east_url, AttributeNames=["DelaySeconds"])["Attributes"] == {
        "DelaySeconds": "0"
    }


# ------------------------------------------------------------------ AWS CLI


def test_cli_manages_queues(aws_cli, kagami, unique_name):
    name = unique_name("cli")
    url = aws_cli("sqs", "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=45",
                  "--tags", "team=red")["QueueUrl"]
    assert url == f"{kagami.endpoint}/{DEFAULT_ACCOUNT}/{name}"
    assert aws_cli("sqs", "get-queue-url", "--queue-name", name)["QueueUrl"] == url
    assert aws_cli("sqs", "list-queues", "--queue-name-prefix", name)["QueueUrls"] == [url]
    attrs = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    aws_cli("sqs", "set-queue-attributes", "--queue-url", url, "--attributes", "DelaySeconds=3")
    attrs = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "DelaySeconds")
    assert attrs["Attributes"] == {"DelaySeconds": "3"}
    aws_cli("sqs", "tag-queue", "--queue-url", url, "--tags", "env=prod")
    assert aws_cli("sqs", "list-queue-tags", "--queue-url", url)["Tags"] == {"team": "red", "env": "prod"}
    aws_cli("sqs", "untag-queue", "--queue-url", url, "--tag-keys", "team")
    assert aws_cli("sqs", "list-queue-tags", "--queue-url", url)["Tags"] == {"env": "prod"}
    aws_cli("sqs", "add-permission", "--queue-url", url, "--label", "l", "--aws-account-ids", "111111111111",
            "--actions", "SendMessage")
    policy = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "Policy")
    assert json.loads(policy["Attributes"]["Policy"])["Statement"][0]["Sid"] == "l"
    aws_cli("sqs", "remove-permission", "--queue-url", url, "--label", "l")
    aws_cli("sqs", "purge-queue", "--queue-url", url)
    aws_cli("sqs", "delete-queue", "--queue-url", url)
    code, stderr = aws_cli("sqs", "get-queue-url", "--queue-name", name, expect_error=True)
    assert code != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in stderr


def test_tag_limits_count_unicode_characters(sqs, unique_name):
    # "Tagging supports Unicode characters in UTF-8": 128-character keys and 256-character
    # values are accepted however many bytes they take.
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    tags = {"鍵" * 128: "値" * 256}
    sqs.tag_queue(QueueUrl=url, Tags=tags)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags
    with pytest.raises(ClientError) as e:
        sqs.tag_queue(QueueUrl=url, Tags={"k": "値" * 257})
    assert error_of(e)["Code"] == "InvalidParameterValue"
