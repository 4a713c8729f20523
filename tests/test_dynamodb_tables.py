"""DynamoDB tables: CreateTable's validation, DescribeTable, the table_exists and
table_not_exists waiters, ListTables pagination, UpdateTable (billing, GSIs, streams,
deletion protection), DeleteTable, tags, DescribeLimits/DescribeEndpoints, the AWS CLI,
and isolation between accounts and regions."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index

INVALID = "One or more parameter values were invalid: "


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


def test_create_table_describes_the_table_and_the_waiter_sees_it_active(ddb, unique_name):
    name = unique_name("tbl")
    created = create_table(ddb, name, gsis=[index("by-g", "g")], extra_definitions=[("g", "S")])
    assert created["TableName"] == name
    assert created["TableStatus"] in ("CREATING", "ACTIVE")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
    assert len(table["TableId"]) == 36
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    gsi = table["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == "by-g"
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == f"{table['TableArn']}/index/by-g"
    assert gsi["ItemCount"] == 0
    assert table["DeletionProtectionEnabled"] is False


def test_creating_an_existing_table_is_resource_in_use(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name)
    with pytest.raises(ClientError) as e:
        create_table(ddb, name)
    assert error_of(e)["Code"] == "ResourceInUseException"
    assert error_of(e)["Message"] == f"Table already exists: {name}"


@pytest.mark.parametrize(
    "definitions,message",
    [
        (
            [("pk", "S"), ("sk", "N"), ("extra", "S")],
            INVALID + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            [("pk", "S")],
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, sk], AttributeDefinitions: [pk]",
        ),
    ],
)
def test_attribute_definitions_must_match_the_key_schema(ddb, unique_name, definitions, message):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=unique_name("tbl"),
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in definitions],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_of(e)["Code"] == "ValidationException"
    assert error_of(e)["Message"] == message


def test_billing_mode_decides_whether_provisioned_throughput_is_required(ddb, unique_name):
    base = dict(
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=unique_name("tbl"), **base)
    assert error_of(e)["Message"] == INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=unique_name("tbl"),
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            **base,
        )
    assert error_of(e)["Message"] == INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
    name = unique_name("tbl")
    table = ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3}, **base)["TableDescription"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert "BillingModeSummary" not in table


@pytest.mark.parametrize("name", ["ab", "has space", "x" * 256])
def test_table_names_follow_the_naming_rules(ddb, name):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_of(e)["Code"] == "ValidationException"
    assert "failed to satisfy constraint" in error_of(e)["Message"]


def test_local_secondary_indexes_are_limited_and_share_the_hash_key(ddb, unique_name):
    lsis = [index(f"lsi{i}", "pk", f"a{i}") for i in range(6)]
    with pytest.raises(ClientError) as e:
        create_table(ddb, unique_name("tbl"), lsis=lsis, extra_definitions=[(f"a{i}", "S") for i in range(6)])
    assert error_of(e)["Message"] == INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
    with pytest.raises(ClientError) as e:
        create_table(ddb, unique_name("tbl"), lsis=[index("lsi", "other", "a0")], extra_definitions=[("other", "S"), ("a0", "S")])
    assert "Index KeySchema does not have the same leading hash key as table KeySchema" in error_of(e)["Message"]
    with pytest.raises(ClientError) as e:
        create_table(ddb, unique_name("tbl"), gsis=[index("gsi-a0", "a0", projection="INCLUDE")], extra_definitions=[("a0", "S")])
    assert error_of(e)["Code"] == "ValidationException"


def test_describe_and_delete_of_a_missing_table_name_the_table(ddb, unique_name):
    name = unique_name("missing")
    for call in (ddb.describe_table, ddb.delete_table):
        with pytest.raises(ClientError) as e:
            call(TableName=name)
        assert error_of(e)["Code"] == "ResourceNotFoundException"
        assert error_of(e)["Message"] == f"Requested resource not found: Table: {name} not found"
        assert error_of(e)["Status"] == 400


def test_delete_table_removes_it_and_the_not_exists_waiter_returns(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableName"] == name
    assert deleted["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert name not in ddb.list_tables(Limit=100)["TableNames"]
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    # A new table of the same name starts empty.
    create_table(ddb, name)
    assert ddb.scan(TableName=name)["Count"] == 0


def test_deletion_protection_refuses_delete_until_disabled(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name, DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    assert error_of(e)["Code"] == "ValidationException"
    assert error_of(e)["Message"] == (
        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
    )
    updated = ddb.update_table(TableName=name, DeletionProtectionEnabled=False)["TableDescription"]
    assert updated["DeletionProtectionEnabled"] is False
    ddb.delete_table(TableName=name)


def test_list_tables_pages_with_limit_and_exclusive_start(ddb, unique_name, aws_client):
    # A fresh region keeps other tests' tables out of the listing.
    ddb = aws_client("dynamodb", region="ap-south-2")
    names = sorted(unique_name("lt") for _ in range(5))
    for n in names:
        create_table(ddb, n)
    first = ddb.list_tables(Limit=2)
    assert first["TableNames"] == names[:2]
    assert first["LastEvaluatedTableName"] == names[1]
    rest = ddb.list_tables(ExclusiveStartTableName=first["LastEvaluatedTableName"], Limit=100)
    assert rest["TableNames"] == names[2:]
    assert "LastEvaluatedTableName" not in rest
    paged = [n for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2}) for n in page["TableNames"]]
    assert paged == names
    with pytest.raises(ClientError) as e:
        ddb.list_tables(Limit=101)
    assert error_of(e)["Code"] == "ValidationException"


def test_update_table_changes_billing_and_throughput(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name)
    t = ddb.update_table(
        TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 4}
    )["TableDescription"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    d = ddb.describe_table(TableName=name)["Table"]
    assert d["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert "BillingModeSummary" not in d
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert ddb.describe_table(TableName=name)["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_table_creates_a_gsi_over_existing_items_and_deletes_it(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name)
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i}"}, "sk": {"N": "1"}, "color": {"S": "red" if i < 2 else "blue"}})
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": index("by-color", "color")}],
    )
    d = ddb.describe_table(TableName=name)["Table"]
    assert [g["IndexName"] for g in d["GlobalSecondaryIndexes"]] == ["by-color"]
    assert d["GlobalSecondaryIndexes"][0]["ItemCount"] == 3
    red = ddb.query(
        TableName=name, IndexName="by-color", KeyConditionExpression="color = :c", ExpressionAttributeValues={":c": {"S": "red"}}
    )
    assert red["Count"] == 2
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-color"}}])
    d = ddb.describe_table(TableName=name)["Table"]
    assert "GlobalSecondaryIndexes" not in d
    assert [a["AttributeName"] for a in d["AttributeDefinitions"]] == ["pk", "sk"]
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name, IndexName="by-color", KeyConditionExpression="color = :c", ExpressionAttributeValues={":c": {"S": "red"}})
    assert error_of(e)["Message"] == "The table does not have the specified index: by-color"


def test_stream_specification_is_stored_and_described(ddb, unique_name):
    name = unique_name("tbl")
    t = create_table(ddb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert t["LatestStreamArn"].startswith(f"{t['TableArn']}/stream/")
    assert t["LatestStreamArn"].endswith(t["LatestStreamLabel"])
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in ddb.describe_table(TableName=name)["Table"]


def test_tags_are_added_listed_and_removed(ddb, unique_name):
    name = unique_name("tbl")
    arn = create_table(ddb, name, Tags=[{"Key": "team", "Value": "a"}])["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=arn + "-missing")
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_describe_limits_and_endpoints_answer_the_defaults(ddb):
    limits = ddb.describe_limits()
    assert limits["AccountMaxReadCapacityUnits"] == 80000
    assert limits["TableMaxWriteCapacityUnits"] == 40000
    endpoints = ddb.describe_endpoints()["Endpoints"]
    assert endpoints == [{"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}]


def test_tables_belong_to_their_account_and_region(aws_client, unique_name):
    name = unique_name("tbl")
    mine = aws_client("dynamodb", account="111111111111")
    create_table(mine, name)
    mine.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    for other in (aws_client("dynamodb", account="222222222222"), aws_client("dynamodb", account="111111111111", region="eu-west-1")):
        with pytest.raises(ClientError) as e:
            other.describe_table(TableName=name)
        assert error_of(e)["Code"] == "ResourceNotFoundException"
        assert name not in other.list_tables()["TableNames"]
        # The same name is free there.
        create_table(other, name)
        assert other.scan(TableName=name)["Count"] == 0
    assert mine.scan(TableName=name)["Count"] == 1
    assert mine.describe_table(TableName=name)["Table"]["TableArn"].split(":")[4] == "111111111111"


def test_the_cli_creates_lists_and_describes_tables(aws_cli, unique_name):
    name = unique_name("cli")
    out = aws_cli(
        "dynamodb", "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=id,AttributeType=S",
        "--key-schema", "AttributeName=id,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    assert out["TableDescription"]["TableName"] == name
    aws_cli("dynamodb", "wait", "table-exists", "--table-name", name)
    assert name in aws_cli("dynamodb", "list-tables")["TableNames"]
    aws_cli("dynamodb", "put-item", "--table-name", name, "--item", '{"id": {"S": "1"}, "n": {"N": "10"}}')
    got = aws_cli("dynamodb", "get-item", "--table-name", name, "--key", '{"id": {"S": "1"}}')
    assert got["Item"] == {"id": {"S": "1"}, "n": {"N": "10"}}
    code, stderr = aws_cli("dynamodb", "describe-table", "--table-name", name + "-x", expect_error=True)
    assert code != 0 and "ResourceNotFoundException" in stderr


def test_continuous_backups_report_point_in_time_recovery_disabled(ddb, unique_name):
    name = unique_name("tbl")
    create_table(ddb, name)
    d = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert d["ContinuousBackupsStatus"] == "ENABLED"
    assert d["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    with pytest.raises(ClientError) as e:
        ddb.describe_continuous_backups(TableName=name + "-x")
    assert error_of(e)["Code"] == "TableNotFoundException"


def test_operations_not_implemented_answer_not_implemented(http):
    # ListBulkOperations is in kagami's model but not implemented (nor in this boto3).
    r = http.signed(
        "POST", "/", "dynamodb", body="{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListBulkOperations", "Content-Type": "application/x-amz-json-1.0"},
    )
    assert r.status_code == 501
    assert r.json()["__type"].endswith("NotImplemented")


def test_kms_encryption_is_described_and_updated(ddb, unique_name):
    name = unique_name("tbl")
    t = create_table(ddb, name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    assert t["SSEDescription"] == {
        "Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "arn:aws:kms:us-east-1:000000000000:alias/aws/dynamodb",
    }
    ddb.update_table(TableName=name, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in ddb.describe_table(TableName=name)["Table"]
    assert "SSEDescription" not in create_table(ddb, unique_name("tbl"))
