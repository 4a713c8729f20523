"""DynamoDB Query and Scan: key conditions on the sort key in DynamoDB's order, direction,
Limit and LastEvaluatedKey (boto3 paginator), the 1 MB page, filters after reading (Count
vs ScannedCount), Select, queries on GSIs (non-unique keys) and LSIs, parallel scan
segments covering every item exactly once, and the legacy KeyConditions/QueryFilter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index, resource


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def orders(ddb, unique_name):
    """Customers (pk) with orders numbered 1..20 (sk); status is a GSI key (non-unique),
    total an LSI sort key."""
    name = unique_name("orders")
    create_table(
        ddb, name,
        gsis=[index("by-status", "status", "sk"), index("keys-only", "status", projection="KEYS_ONLY")],
        lsis=[index("by-total", "pk", "total", projection="INCLUDE", non_key=["note"])],
        extra_definitions=[("status", "S"), ("total", "N")],
    )
    for customer in ("alice", "bob"):
        items = [
            {"PutRequest": {"Item": {
                "pk": {"S": customer}, "sk": {"N": str(i)},
                "status": {"S": "open" if i % 2 else "closed"},
                "total": {"N": str(100 - i)}, "note": {"S": f"n{i}"}, "secret": {"S": "s"},
            }}}
            for i in range(1, 21)
        ]
        for chunk in (items[:10], items[10:]):
            ddb.batch_write_item(RequestItems={name: chunk})
    return name


def sks(items):
    return [int(i["sk"]["N"]) for i in items]


def test_sort_key_conditions_read_ranges_in_numeric_order(ddb, orders):
    def q(expr, values, **kw):
        return sks(ddb.query(TableName=orders, KeyConditionExpression=expr, ExpressionAttributeValues=values, **kw)["Items"])

    alice = {":p": {"S": "alice"}}
    assert q("pk = :p", alice) == list(range(1, 21))
    assert q("pk = :p AND sk BETWEEN :a AND :b", {**alice, ":a": {"N": "9"}, ":b": {"N": "11"}}) == [9, 10, 11]
    assert q("pk = :p AND sk < :a", {**alice, ":a": {"N": "3"}}) == [1, 2]
    assert q("pk = :p AND sk >= :a", {**alice, ":a": {"N": "19"}}) == [19, 20]
    assert q("pk = :p", alice, ScanIndexForward=False)[:3] == [20, 19, 18]
    assert q("pk = :p AND sk > :a", {**alice, ":a": {"N": "17"}}, ScanIndexForward=False) == [20, 19, 18]


def test_begins_with_on_a_string_sort_key(ddb, unique_name):
    name = unique_name("dates")
    create_table(ddb, name, range_key=("sk", "S"))
    for sk in ("2023-12-31", "2024-01-01", "2024-02-01", "2025-01-01"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"S": sk}})
    got = ddb.query(
        TableName=name, KeyConditionExpression="pk = :p AND begins_with(sk, :y)",
        ExpressionAttributeValues={":p": {"S": "x"}, ":y": {"S": "2024-"}}, ScanIndexForward=False,
    )["Items"]
    assert [i["sk"]["S"] for i in got] == ["2024-02-01", "2024-01-01"]


def test_limit_pages_with_last_evaluated_key_and_the_paginator(ddb, orders):
    first = ddb.query(TableName=orders, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "bob"}}, Limit=7)
    assert sks(first["Items"]) == list(range(1, 8))
    assert first["LastEvaluatedKey"] == {"pk": {"S": "bob"}, "sk": {"N": "7"}}
    pages = list(ddb.get_paginator("query").paginate(
        TableName=orders, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "bob"}},
        PaginationConfig={"PageSize": 6},
    ))
    assert [sk for p in pages for sk in sks(p["Items"])] == list(range(1, 21))
    assert all(p["Count"] <= 6 for p in pages)


def test_filters_apply_after_reading_count_vs_scanned_count(ddb, orders):
    out = ddb.query(
        TableName=orders, KeyConditionExpression="pk = :p", FilterExpression="#s = :open",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "alice"}, ":open": {"S": "open"}}, Limit=10,
    )
    assert out["ScannedCount"] == 10
    assert out["Count"] == 5
    assert sks(out["Items"]) == [1, 3, 5, 7, 9]
    count = ddb.query(TableName=orders, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "alice"}}, Select="COUNT")
    assert count["Count"] == 20 and "Items" not in count
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, KeyConditionExpression="pk = :p", FilterExpression="sk > :n",
                  ExpressionAttributeValues={":p": {"S": "alice"}, ":n": {"N": "1"}})
    assert error_of(e)["Message"] == "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"


def test_a_gsi_query_finds_items_with_equal_index_keys_and_pages_with_index_keys(ddb, orders):
    pages = list(ddb.get_paginator("query").paginate(
        TableName=orders, IndexName="by-status", KeyConditionExpression="#s = :c",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": {"S": "closed"}},
        PaginationConfig={"PageSize": 3},
    ))
    items = [i for p in pages for i in p["Items"]]
    assert len(items) == 20  # 10 closed orders for each customer, sk repeats across customers
    assert {(i["pk"]["S"], i["sk"]["N"]) for i in items} == {(c, str(n)) for c in ("alice", "bob") for n in range(2, 21, 2)}
    assert sks(items) == sorted(sks(items))  # index sort key order
    lek = pages[0]["LastEvaluatedKey"]
    assert set(lek) == {"pk", "sk", "status"}
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, IndexName="by-status", KeyConditionExpression="#s = :c", ConsistentRead=True,
                  ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": {"S": "open"}})
    assert error_of(e)["Message"] == "Consistent reads are not supported on global secondary indexes"


def test_index_projections_decide_the_attributes_returned(ddb, orders):
    keys_only = ddb.query(TableName=orders, IndexName="keys-only", KeyConditionExpression="#s = :c", Limit=1,
                          ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": {"S": "open"}})["Items"][0]
    assert set(keys_only) == {"pk", "sk", "status"}
    included = ddb.query(TableName=orders, IndexName="by-total", KeyConditionExpression="pk = :p AND #t < :t",
                         ExpressionAttributeNames={"#t": "total"},
                         ExpressionAttributeValues={":p": {"S": "alice"}, ":t": {"N": "83"}})["Items"]
    assert [int(i["total"]["N"]) for i in included] == [80, 81, 82]  # LSI sort key order
    assert set(included[0]) == {"pk", "sk", "total", "note"}
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, IndexName="keys-only", Select="ALL_ATTRIBUTES", KeyConditionExpression="#s = :c",
                  ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": {"S": "open"}})
    assert "Select type ALL_ATTRIBUTES is not supported for global secondary index keys-only" in error_of(e)["Message"]


def test_an_item_without_the_index_key_is_not_in_the_index(ddb, orders):
    ddb.put_item(TableName=orders, Item={"pk": {"S": "carol"}, "sk": {"N": "1"}})
    d = ddb.describe_table(TableName=orders)["Table"]
    gsi = next(g for g in d["GlobalSecondaryIndexes"] if g["IndexName"] == "by-status")
    assert gsi["ItemCount"] == 40
    assert d["ItemCount"] == 41
    scanned = ddb.scan(TableName=orders, IndexName="by-status", Select="COUNT")
    assert scanned["Count"] == 40


def test_query_key_condition_errors(ddb, orders):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, KeyConditionExpression="sk = :n", ExpressionAttributeValues={":n": {"N": "1"}})
    assert error_of(e)["Message"] == "Query condition missed key schema element: pk"
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"N": "1"}})
    assert error_of(e)["Message"] == "One or more parameter values were invalid: Condition parameter type does not match schema type"
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=orders, IndexName="nope", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
    assert error_of(e)["Message"] == "The table does not have the specified index: nope"


def test_legacy_key_conditions_and_query_filter(ddb, orders):
    out = ddb.query(
        TableName=orders,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "alice"}]},
            "sk": {"ComparisonOperator": "LE", "AttributeValueList": [{"N": "4"}]},
        },
        QueryFilter={"status": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "closed"}]}},
    )
    assert sks(out["Items"]) == [2, 4]
    assert out["ScannedCount"] == 4


def test_the_resource_api_queries_with_key_and_attr_conditions(kagami, orders):
    t = resource(kagami.endpoint).Table(orders)
    out = t.query(KeyConditionExpression=Key("pk").eq("bob") & Key("sk").between(5, 8), FilterExpression=Attr("total").gt(93))
    assert [i["sk"] for i in out["Items"]] == [Decimal(5), Decimal(6)]


def test_parallel_scan_segments_cover_every_item_exactly_once(ddb, unique_name):
    name = unique_name("scan")
    create_table(ddb, name, range_key=None)
    for start in range(0, 100, 25):
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(start, start + 25)]})
    seen = []
    for segment in range(4):
        for page in ddb.get_paginator("scan").paginate(TableName=name, Segment=segment, TotalSegments=4, PaginationConfig={"PageSize": 7}):
            seen.extend(i["pk"]["S"] for i in page["Items"])
    assert sorted(seen) == sorted(f"k{i}" for i in range(100))
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=name, Segment=4, TotalSegments=4)
    assert error_of(e)["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4"
    )


def test_scan_filters_limits_and_projects(ddb, orders):
    out = ddb.scan(TableName=orders, FilterExpression="#t > :t", ExpressionAttributeNames={"#t": "total"},
                   ExpressionAttributeValues={":t": {"N": "97"}}, ProjectionExpression="pk, #t")
    assert out["ScannedCount"] == 40
    assert sorted((i["pk"]["S"], i["total"]["N"]) for i in out["Items"]) == [
        (c, t) for c in ("alice", "bob") for t in ("98", "99")
    ]
    page = ddb.scan(TableName=orders, Limit=15)
    assert page["Count"] == 15 and "LastEvaluatedKey" in page
    rest = ddb.scan(TableName=orders, ExclusiveStartKey=page["LastEvaluatedKey"])
    assert rest["Count"] == 25 and "LastEvaluatedKey" not in rest


def test_a_page_stops_at_one_megabyte(ddb, unique_name):
    name = unique_name("big")
    create_table(ddb, name)
    blob = "x" * (100 * 1024)
    for i in range(15):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "blob": {"S": blob}})
    first = ddb.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert 9 <= first["Count"] <= 11
    assert "LastEvaluatedKey" in first
    second = ddb.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                       ExclusiveStartKey=first["LastEvaluatedKey"])
    assert first["Count"] + second["Count"] == 15


def test_the_cli_queries_and_scans_across_pages(aws_cli, ddb, orders):
    out = aws_cli(
        "dynamodb", "query", "--table-name", orders,
        "--key-condition-expression", "pk = :p",
        "--expression-attribute-values", '{":p": {"S": "alice"}}',
        "--page-size", "4",
    )
    assert out["Count"] == 20
    assert [int(i["sk"]["N"]) for i in out["Items"]] == list(range(1, 21))
    scanned = aws_cli("dynamodb", "scan", "--table-name", orders, "--select", "COUNT", "--page-size", "7")
    assert scanned["Count"] == 40


def test_reverse_pages_on_gsi_and_lsi_visit_every_item_once(ddb, orders):
    for index_name, condition, names, values in (
        ("by-status", "#s = :c", {"#s": "status"}, {":c": {"S": "open"}}),
        ("by-total", "pk = :p", None, {":p": {"S": "bob"}}),
    ):
        args = dict(TableName=orders, IndexName=index_name, KeyConditionExpression=condition,
                    ExpressionAttributeValues=values, ScanIndexForward=False, PaginationConfig={"PageSize": 3})
        if names:
            args["ExpressionAttributeNames"] = names
        items = [i for p in ddb.get_paginator("query").paginate(**args) for i in p["Items"]]
        keys = [(i["pk"]["S"], i["sk"]["N"]) for i in items]
        assert len(keys) == len(set(keys)) == (20 if index_name == "by-status" else 20)
        if index_name == "by-total":
            totals = [int(i["total"]["N"]) for i in items]
            assert totals == sorted(totals, reverse=True)
