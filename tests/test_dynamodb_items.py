"""DynamoDB items: every attribute type round-trips (client and resource API), conditional
writes with ConditionalCheckFailedException and ReturnValuesOnConditionCheckFailure,
update expressions end to end with every ReturnValues, the legacy parameters, key and
index-key validation, the 400 KB item size, consumed capacity, and batch operations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index, resource

INVALID = "One or more parameter values were invalid: "


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def table(ddb, unique_name):
    name = unique_name("items")
    create_table(ddb, name, gsis=[index("by-g", "g")], extra_definitions=[("g", "S")])
    return name


def key(pk="a", sk="1"):
    return {"pk": {"S": pk}, "sk": {"N": sk}}


def test_every_attribute_type_round_trips_through_the_client(ddb, table):
    item = {
        **key(),
        "s": {"S": "héllo"},
        "empty": {"S": ""},
        "n": {"N": "-12.50"},
        "big": {"N": "12345678901234567890123456789012345678"},
        "b": {"B": b"\x00\xff"},
        "t": {"BOOL": True},
        "nul": {"NULL": True},
        "m": {"M": {"inner": {"L": [{"N": "1"}, {"S": "x"}]}}},
        "l": {"L": []},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"x", b"y"]},
    }
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key=key(), ConsistentRead=True)["Item"]
    expected = dict(item)
    expected["n"] = {"N": "-12.5"}  # numbers come back normalised
    assert {k: v for k, v in got.items() if k not in ("ss", "ns", "bs")} == {k: v for k, v in expected.items() if k not in ("ss", "ns", "bs")}
    assert sorted(got["ss"]["SS"]) == ["a", "b"]
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert sorted(got["bs"]["BS"]) == [b"x", b"y"]


def test_the_resource_api_round_trips_decimals_sets_and_binaries(kagami, table):
    t = resource(kagami.endpoint).Table(table)
    item = {
        "pk": "a",
        "sk": Decimal(2),
        "price": Decimal("19.99"),
        "tags": {"x", "y"},
        "scores": {Decimal(1), Decimal(3)},
        "blob": Binary(b"\x01\x02"),
        "doc": {"list": [Decimal(1), "two", None, False], "nested": {"deep": True}},
    }
    t.put_item(Item=item)
    got = t.get_item(Key={"pk": "a", "sk": 2})["Item"]
    assert got == item
    assert t.item_count == 1


def test_a_missing_item_returns_no_item(ddb, table):
    assert "Item" not in ddb.get_item(TableName=table, Key=key("nobody"))


def test_keys_must_match_the_schema(ddb, table):
    for bad in ({"pk": {"S": "a"}}, {**key(), "x": {"S": "1"}}, {"pk": {"N": "1"}, "sk": {"N": "1"}}):
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=table, Key=bad)
        assert error_of(e)["Code"] == "ValidationException"
        assert error_of(e)["Message"] == "The provided key element does not match the schema"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert error_of(e)["Message"] == INVALID + "Missing the key sk in the item"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert error_of(e)["Message"] == INVALID + "Type mismatch for key sk expected: N actual: S"


def test_index_key_attributes_are_type_checked(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={**key(), "g": {"N": "1"}})
    assert error_of(e)["Message"] == INVALID + "Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g"
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET g = :v", ExpressionAttributeValues={":v": {"BOOL": True}})
    assert error_of(e)["Message"] == INVALID + "Type mismatch for Index Key g Expected: S Actual: BOOL IndexName: by-g"


def test_items_over_400_kb_are_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={**key(), "big": {"S": "x" * (400 * 1024)}})
    assert error_of(e)["Message"] == "Item size has exceeded the maximum allowed size"
    ddb.put_item(TableName=table, Item={**key(), "big": {"S": "x" * (399 * 1024)}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET more = :v", ExpressionAttributeValues={":v": {"S": "y" * 2048}})
    assert error_of(e)["Message"] == "Item size to update has exceeded the maximum allowed size"


def test_a_failed_condition_leaves_the_item_and_can_return_it(ddb, table):
    ddb.put_item(TableName=table, Item={**key(), "v": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={**key(), "v": {"N": "2"}}, ConditionExpression="attribute_not_exists(pk)")
    assert error_of(e)["Code"] == "ConditionalCheckFailedException"
    assert error_of(e)["Message"] == "The conditional request failed"
    assert "Item" not in error_of(e)["Response"]
    with pytest.raises(ClientError) as e:
        ddb.delete_item(
            TableName=table, Key=key(), ConditionExpression="v = :two",
            ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_of(e)["Response"]["Item"] == {**key(), "v": {"N": "1"}}
    assert ddb.get_item(TableName=table, Key=key())["Item"]["v"] == {"N": "1"}


def test_conditions_guard_writes_as_documented(ddb, table):
    ddb.put_item(TableName=table, Item={**key(), "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)")
    ddb.update_item(
        TableName=table, Key=key(), UpdateExpression="SET v = v + :one", ConditionExpression="v = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    # Legacy Expected.
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=key(), Expected={"v": {"Value": {"N": "1"}}})
    assert error_of(e)["Code"] == "ConditionalCheckFailedException"
    ddb.put_item(TableName=table, Item=key(), Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "2"}]}})
    assert "v" not in ddb.get_item(TableName=table, Key=key())["Item"]
    deleted = ddb.delete_item(TableName=table, Key=key(), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == key()
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=key(), ConditionExpression="attribute_exists(pk)")
    assert error_of(e)["Code"] == "ConditionalCheckFailedException"


def test_put_returns_the_old_item_and_refuses_other_return_values(ddb, table):
    assert "Attributes" not in ddb.put_item(TableName=table, Item={**key(), "v": {"S": "1"}}, ReturnValues="ALL_OLD")
    old = ddb.put_item(TableName=table, Item={**key(), "v": {"S": "2"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"] == {**key(), "v": {"S": "1"}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=key(), ReturnValues="ALL_NEW")
    assert error_of(e)["Message"] == "Return values set to invalid value"


def test_update_expressions_apply_end_to_end_with_every_return_value(ddb, table):
    out = ddb.update_item(
        TableName=table, Key=key(),
        UpdateExpression="SET #c = :zero, tags = :tags, doc = :doc, things = :list",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={
            ":zero": {"N": "0"}, ":tags": {"SS": ["a"]}, ":doc": {"M": {"x": {"N": "1"}}}, ":list": {"L": [{"S": "first"}]},
        },
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"]["count"] == {"N": "0"}
    assert out["Attributes"]["pk"] == {"S": "a"}  # an update creates the item with its key
    out = ddb.update_item(
        TableName=table, Key=key(),
        UpdateExpression="SET #c = #c + :five, doc.y = :s, things = list_append(things, :more) ADD tags :b REMOVE doc.x",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":five": {"N": "5"}, ":s": {"S": "new"}, ":more": {"L": [{"S": "second"}]}, ":b": {"SS": ["b"]}},
        ReturnValues="UPDATED_NEW",
    )
    attrs = out["Attributes"]
    assert attrs["count"] == {"N": "5"}
    assert attrs["doc"] == {"M": {"y": {"S": "new"}}}
    assert attrs["things"] == {"L": [{"S": "first"}, {"S": "second"}]}
    assert sorted(attrs["tags"]["SS"]) == ["a", "b"]
    old = ddb.update_item(
        TableName=table, Key=key(), UpdateExpression="SET #c = :v", ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":v": {"N": "9"}}, ReturnValues="UPDATED_OLD",
    )
    assert old["Attributes"] == {"count": {"N": "5"}}
    all_old = ddb.update_item(TableName=table, Key=key(), UpdateExpression="DELETE tags :a REMOVE things",
                              ExpressionAttributeValues={":a": {"SS": ["a"]}}, ReturnValues="ALL_OLD")
    assert all_old["Attributes"]["things"]["L"][1] == {"S": "second"}
    none = ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET z = :v", ExpressionAttributeValues={":v": {"N": "1"}})
    assert "Attributes" not in none
    final = ddb.get_item(TableName=table, Key=key())["Item"]
    assert final["tags"] == {"SS": ["b"]} and "things" not in final and final["count"] == {"N": "9"}


def test_update_expression_errors_are_aws_messages(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": {"S": "b"}})
    assert error_of(e)["Message"] == INVALID + "Cannot update attribute pk. This attribute is part of the key"
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"S": "b"}, ":unused": {"S": "c"}})
    assert error_of(e)["Message"] == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET a = :missing")
    assert error_of(e)["Code"] == "ValidationException"
    assert "ExpressionAttributeValues" in error_of(e)["Message"] or ":missing" in error_of(e)["Message"]


def test_legacy_attribute_updates_put_add_and_delete(ddb, table):
    ddb.update_item(
        TableName=table, Key=key(),
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "3"}}, "s": {"Action": "PUT", "Value": {"S": "x"}}},
    )
    ddb.update_item(TableName=table, Key=key(), AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "4"}}, "s": {"Action": "DELETE"}})
    assert ddb.get_item(TableName=table, Key=key())["Item"] == {**key(), "n": {"N": "7"}}


def test_the_resource_api_updates_with_conditions(kagami, table):
    t = resource(kagami.endpoint).Table(table)
    t.put_item(Item={"pk": "r", "sk": 1, "stock": 5})
    out = t.update_item(
        Key={"pk": "r", "sk": 1}, UpdateExpression="SET stock = stock - :n", ConditionExpression=Attr("stock").gte(2),
        ExpressionAttributeValues={":n": 2}, ReturnValues="ALL_NEW",
    )
    assert out["Attributes"]["stock"] == Decimal(3)
    with pytest.raises(ClientError) as e:
        t.update_item(Key={"pk": "r", "sk": 1}, UpdateExpression="SET stock = stock - :n",
                      ConditionExpression=Attr("stock").gte(10), ExpressionAttributeValues={":n": 10})
    assert error_of(e)["Code"] == "ConditionalCheckFailedException"


def test_projection_expression_and_attributes_to_get_select_attributes(ddb, table):
    ddb.put_item(TableName=table, Item={**key(), "a": {"S": "1"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}, "l": {"L": [{"S": "p"}, {"S": "q"}]}})
    got = ddb.get_item(TableName=table, Key=key(), ProjectionExpression="a, m.y, l[1]")["Item"]
    assert got == {"a": {"S": "1"}, "m": {"M": {"y": {"N": "2"}}}, "l": {"L": [{"S": "q"}]}}
    got = ddb.get_item(TableName=table, Key=key(), AttributesToGet=["pk", "a"])["Item"]
    assert got == {"pk": {"S": "a"}, "a": {"S": "1"}}


def test_consumed_capacity_follows_the_unit_rules(ddb, table):
    put = ddb.put_item(TableName=table, Item={**key(), "g": {"S": "x"}, "big": {"S": "x" * 1500}}, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 4.0}  # 2 units on the table, 2 on the GSI
    indexes = ddb.put_item(TableName=table, Item={**key("b"), "small": {"S": "x"}}, ReturnConsumedCapacity="INDEXES")
    assert indexes["ConsumedCapacity"]["Table"] == {"CapacityUnits": 1.0}
    eventual = ddb.get_item(TableName=table, Key=key(), ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 0.5
    strong = ddb.get_item(TableName=table, Key=key(), ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_batch_write_and_get_items(ddb, table, unique_name):
    other = unique_name("items2")
    create_table(ddb, other, range_key=None)
    ddb.put_item(TableName=table, Item={**key("gone"), "x": {"S": "1"}})
    out = ddb.batch_write_item(RequestItems={
        table: [{"PutRequest": {"Item": {**key(str(i)), "i": {"N": str(i)}}}} for i in range(10)]
        + [{"DeleteRequest": {"Key": key("gone")}}],
        other: [{"PutRequest": {"Item": {"pk": {"S": "solo"}}}}],
    })
    assert out["UnprocessedItems"] == {}
    assert ddb.scan(TableName=table)["Count"] == 10
    got = ddb.batch_get_item(RequestItems={
        table: {"Keys": [key("1"), key("2"), key("missing")], "ProjectionExpression": "i"},
        other: {"Keys": [{"pk": {"S": "solo"}}]},
    })
    assert sorted(i["i"]["N"] for i in got["Responses"][table]) == ["1", "2"]
    assert got["Responses"][other] == [{"pk": {"S": "solo"}}]
    assert got["UnprocessedKeys"] == {}


def test_batch_limits_and_duplicates_are_validation_errors(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table: {"Keys": [key("1"), key("1")]}})
    assert error_of(e)["Message"] == "Provided list of item keys contains duplicates"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": key("1")}}, {"DeleteRequest": {"Key": key("1")}}]})
    assert error_of(e)["Message"] == "Provided list of item keys contains duplicates"
    assert "Item" not in ddb.get_item(TableName=table, Key=key("1"))  # nothing of the refused batch was written
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table: {"Keys": [key(str(i)) for i in range(101)]}})
    assert error_of(e)["Message"] == "Too many items requested for the BatchGetItem call"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": key(str(i))}} for i in range(26)]})
    assert error_of(e)["Code"] == "ValidationException"


def test_the_resource_batch_writer_writes_every_item(kagami, table):
    t = resource(kagami.endpoint).Table(table)
    with t.batch_writer() as w:
        for i in range(60):
            w.put_item(Item={"pk": "bw", "sk": i, "v": f"value {i}"})
    assert t.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "bw"}, Select="COUNT")["Count"] == 60


def test_item_operations_on_a_missing_table_are_resource_not_found(ddb, unique_name):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=unique_name("none"), Item=key())
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    assert error_of(e)["Message"] == "Requested resource not found"
