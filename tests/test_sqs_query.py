"""SQS through the query protocol that older SDKs speak: form-encoded `Action=...` posts
(signed and unsigned) and GETs, answered in XML with AWS's element names and legacy
error codes."""

from __future__ import annotations

import hashlib
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}
VERSION = "2012-11-05"


def form(**params) -> str:
    return urllib.parse.urlencode({**params, "Version": VERSION})


class Query:
    """Form posts to the shared server, signed by botocore unless `signed=False`."""

    def __init__(self, http):
        self.http = http

    def __call__(self, params: dict, signed: bool = True, path: str = "/"):
        body = urllib.parse.urlencode({**params, "Version": VERSION})
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if signed:
            response = self.http.signed("POST", path, "sqs", body=body, headers=headers)
        else:
            response = self.http.post(path, data=body, headers=headers)
        return response, ET.fromstring(response.content)


@pytest.fixture
def query(http):
    return Query(http)


def text(root, path: str) -> str | None:
    node = root.find(path, NS)
    return None if node is None else node.text


def attributes(node, element="sqs:Attribute") -> dict[str, str]:
    return {text(a, "sqs:Name"): text(a, "sqs:Value") for a in node.findall(element, NS)}


def test_create_queue_and_get_attributes_in_xml(query, kagami, unique_name):
    name = unique_name("query")
    response, root = query({
        "Action": "CreateQueue",
        "QueueName": name,
        "Attribute.1.Name": "VisibilityTimeout",
        "Attribute.1.Value": "40",
        "Tag.1.Key": "team",
        "Tag.1.Value": "blue",
    })
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert root.tag == "{%s}CreateQueueResponse" % NS["sqs"]
    url = text(root, "sqs:CreateQueueResult/sqs:QueueUrl")
    assert url == f"{kagami.endpoint}/000000000000/{name}"
    assert text(root, "sqs:ResponseMetadata/sqs:RequestId")

    _, root = query({"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "All"})
    attrs = attributes(root.find("sqs:GetQueueAttributesResult", NS))
    assert attrs["VisibilityTimeout"] == "40"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"

    _, root = query({"Action": "ListQueueTags", "QueueUrl": url})
    tags = {text(t, "sqs:Key"): text(t, "sqs:Value") for t in root.findall("sqs:ListQueueTagsResult/sqs:Tag", NS)}
    assert tags == {"team": "blue"}


def test_send_and_receive_with_attributes_in_xml(query, unique_name):
    _, root = query({"Action": "CreateQueue", "QueueName": unique_name("query")})
    url = text(root, "sqs:CreateQueueResult/sqs:QueueUrl")
    _, root = query({
        "Action": "SendMessage",
        "QueueUrl": url,
        "MessageBody": "hello & <xml>",
        "MessageAttribute.1.Name": "color",
        "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "blue",
    })
    result = root.find("sqs:SendMessageResult", NS)
    assert text(result, "sqs:MD5OfMessageBody") == hashlib.md5(b"hello & <xml>").hexdigest()
    message_id = text(result, "sqs:MessageId")
    md5_attrs = text(result, "sqs:MD5OfMessageAttributes")
    assert md5_attrs

    _, root = query({
        "Action": "ReceiveMessage",
        "QueueUrl": url,
        "AttributeName.1": "All",
        "MessageAttributeName.1": "All",
        "MaxNumberOfMessages": "10",
    })
    messages = root.findall("sqs:ReceiveMessageResult/sqs:Message", NS)
    assert len(messages) == 1
    m = messages[0]
    assert text(m, "sqs:MessageId") == message_id
    assert text(m, "sqs:Body") == "hello & <xml>"
    assert text(m, "sqs:MD5OfMessageAttributes") == md5_attrs
    system = attributes(m)
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SenderId"] == "000000000000"
    attr = m.find("sqs:MessageAttribute", NS)
    assert text(attr, "sqs:Name") == "color"
    assert text(attr, "sqs:Value/sqs:DataType") == "String"
    assert text(attr, "sqs:Value/sqs:StringValue") == "blue"

    handle = text(m, "sqs:ReceiptHandle")
    response, root = query({"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle})
    assert response.status_code == 200
    assert root.tag == "{%s}DeleteMessageResponse" % NS["sqs"]
    _, root = query({"Action": "ReceiveMessage", "QueueUrl": url})
    assert root.findall("sqs:ReceiveMessageResult/sqs:Message", NS) == []


def test_unsigned_requests_act_as_the_default_account(query, kagami, unique_name):
    name = unique_name("unsigned")
    response, root = query({"Action": "CreateQueue", "QueueName": name}, signed=False)
    assert response.status_code == 200
    assert text(root, "sqs:CreateQueueResult/sqs:QueueUrl") == f"{kagami.endpoint}/000000000000/{name}"


def test_get_with_query_string(http, unique_name):
    prefix = unique_name("get")
    http.post("/", data=form(Action="CreateQueue", QueueName=prefix + "-a"),
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = http.get("/?" + form(Action="ListQueues", QueueNamePrefix=prefix))
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    urls = [u.text for u in root.findall("sqs:ListQueuesResult/sqs:QueueUrl", NS)]
    assert len(urls) == 1 and urls[0].endswith(prefix + "-a")


def test_errors_are_xml_with_legacy_codes(query, unique_name):
    response, root = query({"Action": "GetQueueUrl", "QueueName": unique_name("missing")})
    assert response.status_code == 400
    assert root.tag == "{%s}ErrorResponse" % NS["sqs"]
    assert text(root, "sqs:Error/sqs:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert text(root, "sqs:Error/sqs:Type") == "Sender"
    # The query protocol keeps the wording of the SOAP era; JSON says "does not exist."
    assert text(root, "sqs:Error/sqs:Message") == "The specified queue does not exist for this wsdl version."
    assert text(root, "sqs:RequestId")

    _, root = query({"Action": "CreateQueue", "QueueName": unique_name("q")})
    url = text(root, "sqs:CreateQueueResult/sqs:QueueUrl")
    response, root = query({
        "Action": "SendMessageBatch",
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "a",
        "SendMessageBatchRequestEntry.1.MessageBody": "x",
        "SendMessageBatchRequestEntry.2.Id": "a",
        "SendMessageBatchRequestEntry.2.MessageBody": "y",
    })
    assert response.status_code == 400
    assert text(root, "sqs:Error/sqs:Code") == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"

    response, root = query({"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "11"})
    assert response.status_code == 400
    assert text(root, "sqs:Error/sqs:Code") == "InvalidParameterValue"

    response, root = query({"Action": "SendMessage", "QueueUrl": url})
    assert response.status_code == 400
    assert text(root, "sqs:Error/sqs:Code") == "MissingParameter"


def test_batch_results_in_xml(query, unique_name):
    _, root = query({"Action": "CreateQueue", "QueueName": unique_name("q")})
    url = text(root, "sqs:CreateQueueResult/sqs:QueueUrl")
    _, root = query({
        "Action": "SendMessageBatch",
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "ok",
        "SendMessageBatchRequestEntry.1.MessageBody": "x",
        "SendMessageBatchRequestEntry.2.Id": "late",
        "SendMessageBatchRequestEntry.2.MessageBody": "y",
        "SendMessageBatchRequestEntry.2.DelaySeconds": "5000",
    })
    result = root.find("sqs:SendMessageBatchResult", NS)
    assert [text(e, "sqs:Id") for e in result.findall("sqs:SendMessageBatchResultEntry", NS)] == ["ok"]
    failed = result.findall("sqs:BatchResultErrorEntry", NS)
    assert [(text(f, "sqs:Id"), text(f, "sqs:Code"), text(f, "sqs:SenderFault")) for f in failed] == [
        ("late", "InvalidParameterValue", "true")
    ]


def test_actions_posted_to_the_queue_url_act_on_that_queue(query, unique_name):
    name = unique_name("path")
    _, root = query({"Action": "CreateQueue", "QueueName": name})
    path = f"/000000000000/{name}"
    response, root = query({"Action": "SendMessage", "MessageBody": "via path"}, path=path)
    assert response.status_code == 200, response.text
    _, root = query({"Action": "ReceiveMessage"}, path=path)
    assert text(root, "sqs:ReceiveMessageResult/sqs:Message/sqs:Body") == "via path"


def test_the_queue_url_path_names_the_queue_of_unsigned_gets_too(http, query, unique_name):
    name = unique_name("path")
    query({"Action": "CreateQueue", "QueueName": name})
    response = http.get(f"/000000000000/{name}?Action=GetQueueAttributes&AttributeName.1=QueueArn")
    assert response.status_code == 200, response.text
    attrs = attributes(ET.fromstring(response.content).find("sqs:GetQueueAttributesResult", NS))
    assert attrs == {"QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{name}"}


def test_a_queue_url_path_of_a_missing_queue_is_non_existent_queue(query, unique_name):
    path = f"/000000000000/{unique_name('missing')}"
    response, root = query({"Action": "SendMessage", "MessageBody": "x"}, path=path)
    assert response.status_code == 400
    assert text(root, "sqs:Error/sqs:Code") == "AWS.SimpleQueueService.NonExistentQueue"
