"""DynamoDB global tables. Version 2019.11.21: UpdateTable ReplicaUpdates creates a replica
of the table (with its items) in another region of the account, writes replicate both
ways, DescribeTable lists Replicas and GlobalTableVersion, Delete removes the replica.
Version 2017.11.29: CreateGlobalTable over empty tables streaming NEW_AND_OLD_IMAGES,
DescribeGlobalTable, ListGlobalTables, UpdateGlobalTable, the settings operations.
Replica auto scaling settings are stored."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def item(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def test_a_replica_gets_the_items_and_writes_replicate_both_ways(aws_client, unique_name):
    east, west = aws_client("dynamodb", region="us-east-1"), aws_client("dynamodb", region="us-west-2")
    name = unique_name("gt")
    create_table(east, name, range_key=None)
    east.put_item(TableName=name, Item={"pk": {"S": "before"}, "v": {"N": "1"}})
    out = east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])["TableDescription"]
    assert out["GlobalTableVersion"] == "2019.11.21"
    assert [r["RegionName"] for r in out["Replicas"]] == ["us-west-2"]
    described = east.describe_table(TableName=name)["Table"]
    assert described["Replicas"][0]["ReplicaStatus"] == "ACTIVE"
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    replica = west.describe_table(TableName=name)["Table"]
    assert replica["TableArn"] == f"arn:aws:dynamodb:us-west-2:000000000000:table/{name}"
    assert [r["RegionName"] for r in replica["Replicas"]] == ["us-east-1"]
    assert item(west, name, "before") == {"pk": {"S": "before"}, "v": {"N": "1"}}

    east.put_item(TableName=name, Item={"pk": {"S": "from-east"}})
    assert eventually(lambda: item(west, name, "from-east"))
    west.put_item(TableName=name, Item={"pk": {"S": "from-west"}})
    assert eventually(lambda: item(east, name, "from-west"))
    west.delete_item(TableName=name, Key={"pk": {"S": "before"}})
    assert eventually(lambda: item(east, name, "before") is None)

    with pytest.raises(ClientError) as e:
        east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert error_of(e)["Code"] == "ValidationException"

    east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    with pytest.raises(ClientError) as e:
        west.describe_table(TableName=name)
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    after = east.describe_table(TableName=name)["Table"]
    assert "Replicas" not in after
    east.put_item(TableName=name, Item={"pk": {"S": "alone"}})


def test_a_replica_cannot_be_created_over_an_existing_table(aws_client, unique_name):
    east, west = aws_client("dynamodb", region="us-east-1"), aws_client("dynamodb", region="eu-west-1")
    name = unique_name("gt")
    create_table(east, name, range_key=None)
    create_table(west, name, range_key=None)
    with pytest.raises(ClientError) as e:
        east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert error_of(e)["Code"] == "ValidationException"
    assert "already existed as tables" in error_of(e)["Message"]


def test_deleting_a_replica_table_leaves_the_others(aws_client, unique_name):
    east, west = aws_client("dynamodb", region="us-east-1"), aws_client("dynamodb", region="us-east-2")
    name = unique_name("gt")
    create_table(east, name, range_key=None)
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
    west.delete_table(TableName=name)
    assert "Replicas" not in east.describe_table(TableName=name)["Table"]


def streaming_table(ddb, name):
    create_table(ddb, name, range_key=None, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def test_version_2017_global_tables(aws_client, unique_name):
    east, west = aws_client("dynamodb", region="us-east-1"), aws_client("dynamodb", region="ap-northeast-1")
    name = unique_name("gt17")
    streaming_table(east, name)
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}, {"RegionName": "ap-northeast-1"}])
    assert error_of(e)["Code"] == "TableNotFoundException"
    streaming_table(west, name)
    d = east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}, {"RegionName": "ap-northeast-1"}])[
        "GlobalTableDescription"
    ]
    assert d["GlobalTableStatus"] == "ACTIVE"
    assert d["GlobalTableArn"] == f"arn:aws:dynamodb::000000000000:global-table/{name}"
    assert sorted(r["RegionName"] for r in d["ReplicationGroup"]) == ["ap-northeast-1", "us-east-1"]
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}])
    assert error_of(e)["Code"] == "GlobalTableAlreadyExistsException"
    assert west.describe_table(TableName=name)["Table"]["GlobalTableVersion"] == "2017.11.29"

    east.put_item(TableName=name, Item={"pk": {"S": "x"}})
    assert eventually(lambda: item(west, name, "x"))

    listed = east.list_global_tables(RegionName="ap-northeast-1")["GlobalTables"]
    assert name in [g["GlobalTableName"] for g in listed]
    assert east.describe_global_table(GlobalTableName=name)["GlobalTableDescription"]["GlobalTableName"] == name
    settings = east.describe_global_table_settings(GlobalTableName=name)["ReplicaSettings"]
    assert sorted(s["RegionName"] for s in settings) == ["ap-northeast-1", "us-east-1"]

    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName=name, ReplicaUpdates=[{"Create": {"RegionName": "us-east-1"}}])
    assert error_of(e)["Code"] == "ReplicaAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "eu-central-1"}}])
    assert error_of(e)["Code"] == "ReplicaNotFoundException"
    out = east.update_global_table(GlobalTableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "ap-northeast-1"}}])
    assert [r["RegionName"] for r in out["GlobalTableDescription"]["ReplicationGroup"]] == ["us-east-1"]
    with pytest.raises(ClientError) as e:
        east.describe_global_table(GlobalTableName=name + "-x")
    assert error_of(e)["Code"] == "GlobalTableNotFoundException"


def test_global_table_settings_update_capacity(aws_client, unique_name):
    east, west = aws_client("dynamodb", region="us-east-1"), aws_client("dynamodb", region="us-west-1")
    name = unique_name("gt17")
    for ddb in (east, west):
        create_table(
            ddb, name, range_key=None, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
    east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}, {"RegionName": "us-west-1"}])
    out = east.update_global_table_settings(
        GlobalTableName=name,
        GlobalTableProvisionedWriteCapacityUnits=7,
        ReplicaSettingsUpdate=[{"RegionName": "us-west-1", "ReplicaProvisionedReadCapacityUnits": 9}],
    )["ReplicaSettings"]
    by_region = {s["RegionName"]: s for s in out}
    assert by_region["us-west-1"]["ReplicaProvisionedReadCapacityUnits"] == 9
    assert by_region["us-east-1"]["ReplicaProvisionedWriteCapacityUnits"] == 7
    assert west.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 9


def test_replica_auto_scaling_is_stored(aws_client, aws_cli, unique_name):
    east = aws_client("dynamodb", region="us-east-1")
    name = unique_name("as")
    create_table(east, name, range_key=None)
    east.update_table_replica_auto_scaling(
        TableName=name,
        ProvisionedWriteCapacityAutoScalingUpdate={"MinimumUnits": 5, "MaximumUnits": 50, "AutoScalingDisabled": False},
    )
    d = aws_cli("dynamodb", "describe-table-replica-auto-scaling", "--table-name", name)["TableAutoScalingDescription"]
    assert d["TableName"] == name
    write = d["Replicas"][0]["ReplicaProvisionedWriteCapacityAutoScalingSettings"]
    assert (write["MinimumUnits"], write["MaximumUnits"]) == (5, 50)


@pytest.mark.slow
def test_replicas_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    east, west = server.client("dynamodb", region="us-east-1"), server.client("dynamodb", region="us-west-2")
    create_table(east, "glob", range_key=None)
    east.update_table(TableName="glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    east.put_item(TableName="glob", Item={"pk": {"S": "a"}})
    assert eventually(lambda: item(west, "glob", "a"))
    server.kill9()
    server.restart()
    east, west = server.client("dynamodb", region="us-east-1"), server.client("dynamodb", region="us-west-2")
    assert [r["RegionName"] for r in east.describe_table(TableName="glob")["Table"]["Replicas"]] == ["us-west-2"]
    assert item(west, "glob", "a")
    west.put_item(TableName="glob", Item={"pk": {"S": "b"}})
    assert eventually(lambda: item(east, "glob", "b"))


def test_global_tables_belong_to_their_account(aws_client, unique_name):
    east = aws_client("dynamodb", region="us-east-1")
    west = aws_client("dynamodb", region="us-west-1")
    name = unique_name("gt17")
    streaming_table(east, name)
    streaming_table(west, name)
    east.create_global_table(GlobalTableName=name, ReplicationGroup=[{"RegionName": "us-east-1"}, {"RegionName": "us-west-1"}])
    other = aws_client("dynamodb", region="us-east-1", account="111122223333")
    assert name not in [g["GlobalTableName"] for g in other.list_global_tables()["GlobalTables"]]
    with pytest.raises(ClientError) as e:
        other.describe_global_table(GlobalTableName=name)
    assert error_of(e)["Code"] == "GlobalTableNotFoundException"
