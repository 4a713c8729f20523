"""Malformed DynamoDB requests get AWS's ValidationException (or SerializationException)
and never take the server down: empty and doubly-typed attribute values, nesting beyond
32 levels, start keys of the wrong shape, limits and segments out of range, raw JSON of
the wrong types."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def table(ddb, unique_name):
    name = unique_name("hostile")
    create_table(ddb, name, gsis=[index("by-g", "g")], extra_definitions=[("g", "S")])
    return name


def nested(depth):
    value = {"S": "leaf"}
    for _ in range(depth):
        value = {"L": [value]}
    return value


@pytest.mark.parametrize(
    "item,message",
    [
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {}}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "a", "N": "1"}},
         "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": nested(40)}, "Nesting Levels have exceeded supported limits"),
        ({"pk": {"S": "a"}, "sk": {"N": "not a number"}}, "numeric value"),
        ({"pk": {"S": ""}, "sk": {"N": "1"}}, "cannot contain an empty string value"),
    ],
)
def test_invalid_items_are_validation_errors(ddb, table, item, message):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=item)
    assert error_of(e)["Code"] == "ValidationException"
    assert message in error_of(e)["Message"]


def test_start_keys_limits_and_segments_out_of_range(ddb, table):
    bad_keys = [{"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {"S": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "1"}, "zz": {"S": "x"}}]
    for key in bad_keys:
        with pytest.raises(ClientError) as e:
            ddb.scan(TableName=table, ExclusiveStartKey=key)
        assert error_of(e)["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table, IndexName="by-g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "x"}}, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert error_of(e)["Code"] == "ValidationException"
    out = ddb.scan(TableName=table, Segment=999_999, TotalSegments=1_000_000)
    assert out["Count"] == 0
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, Segment=0, TotalSegments=1_000_001)
    assert error_of(e)["Code"] == "ValidationException"


def test_raw_json_of_the_wrong_types_is_refused_without_harm(http, table, ddb):
    for body in (
        {"TableName": table, "Key": "not a map"},
        {"TableName": 12, "Key": {}},
        {"Key": {"pk": {"S": "a"}}},
    ):
        r = http.signed("POST", "/", "dynamodb", body=json.dumps(body),
                        headers={"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"})
        assert r.status_code == 400, r.text
        assert r.json()["__type"].split("#")[-1] in ("ValidationException", "SerializationException")
    # The server still answers.
    assert ddb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
