"""DynamoDB point-in-time recovery: UpdateContinuousBackups turns it on (RecoveryPeriodInDays
1-35), DescribeContinuousBackups reports the restorable window (LatestRestorableDateTime
five minutes behind now), RestoreTableToPointInTime creates a new table holding the
source's items as they were at the instant asked for; the history survives kill -9."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from conftest import client_config
from dynamodb_helpers import create_table, error_of, index


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


def put(ddb, table, pk, value):
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"N": "1"}, "v": {"S": value}, "g": {"S": "x"}})


def contents(ddb, table):
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: i["v"]["S"] for i in items}


def enable(ddb, table, **spec):
    return ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, **spec}
    )["ContinuousBackupsDescription"]


def test_enabling_point_in_time_recovery_reports_the_window(ddb, unique_name):
    name = unique_name("pitr")
    create_table(ddb, name)
    d = enable(ddb, name, RecoveryPeriodInDays=7)
    assert d["ContinuousBackupsStatus"] == "ENABLED"
    pitr = d["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 7
    assert pitr["EarliestRestorableDateTime"] <= pitr["LatestRestorableDateTime"]
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    off = ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert off["PointInTimeRecoveryStatus"] == "DISABLED"
    assert "EarliestRestorableDateTime" not in off


@pytest.mark.parametrize("days", [0, 36])
def test_recovery_period_must_be_between_1_and_35_days(aws_client, unique_name, days):
    ddb = aws_client("dynamodb", config=client_config(parameter_validation=False))
    name = unique_name("pitr")
    create_table(ddb, name)
    with pytest.raises(ClientError) as e:
        enable(ddb, name, RecoveryPeriodInDays=days)
    assert error_of(e)["Code"] == "ValidationException"
    assert "recoveryPeriodInDays" in error_of(e)["Message"]


def test_update_continuous_backups_of_a_missing_table_is_table_not_found(ddb, unique_name):
    with pytest.raises(ClientError) as e:
        enable(ddb, unique_name("missing"))
    assert error_of(e)["Code"] == "TableNotFoundException"


def test_restore_needs_point_in_time_recovery_enabled(ddb, unique_name):
    name = unique_name("pitr")
    create_table(ddb, name)
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=unique_name("t"), UseLatestRestorableTime=True)
    assert error_of(e)["Code"] == "PointInTimeRecoveryUnavailableException"
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName=name + "-x", TargetTableName=unique_name("t"), UseLatestRestorableTime=True)
    assert error_of(e)["Code"] == "TableNotFoundException"


def test_restore_to_a_point_in_time_gives_the_items_of_that_instant(kagami_process):
    server = kagami_process()
    ddb = server.client("dynamodb")
    create_table(ddb, "orders", gsis=[index("by-g", "g")], extra_definitions=[("g", "S")])
    put(ddb, "orders", "before", "old")  # written before PITR was on: part of the base
    enable(ddb, "orders")
    put(ddb, "orders", "a", "1")
    put(ddb, "orders", "b", "1")
    server.advance_clock(600)
    middle = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]["LatestRestorableDateTime"]
    server.advance_clock(300)
    put(ddb, "orders", "a", "2")  # changed after the instant
    ddb.delete_item(TableName="orders", Key={"pk": {"S": "b"}, "sk": {"N": "1"}})
    put(ddb, "orders", "c", "new")
    ddb.update_item(
        TableName="orders",
        Key={"pk": {"S": "before"}, "sk": {"N": "1"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "changed"}},
    )
    restored = ddb.restore_table_to_point_in_time(
        SourceTableName="orders", TargetTableName="orders-then", RestoreDateTime=middle
    )["TableDescription"]
    assert restored["TableName"] == "orders-then"
    assert restored["RestoreSummary"]["SourceTableArn"].endswith(":table/orders")
    assert "SourceBackupArn" not in restored["RestoreSummary"]
    assert contents(ddb, "orders-then") == {"before": "old", "a": "1", "b": "1"}
    assert contents(ddb, "orders") == {"before": "changed", "a": "2", "c": "new"}
    by_g = ddb.query(TableName="orders-then", IndexName="by-g", KeyConditionExpression="g = :x", ExpressionAttributeValues={":x": {"S": "x"}})
    assert by_g["Count"] == 3
    # The latest restorable time trails by five minutes: after that, everything is in.
    server.advance_clock(360)
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    ddb.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName="orders-now", UseLatestRestorableTime=True)
    assert contents(ddb, "orders-now") == {"before": "changed", "a": "2", "c": "new"}
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="orders", TargetTableName="orders-now", UseLatestRestorableTime=True)
    assert error_of(e)["Code"] == "TableAlreadyExistsException"


def test_restore_time_outside_the_window_is_refused(kagami_process):
    server = kagami_process()
    ddb = server.client("dynamodb")
    create_table(ddb, "tbl1")
    pitr = enable(ddb, "tbl1", RecoveryPeriodInDays=1)["PointInTimeRecoveryDescription"]
    before = pitr["EarliestRestorableDateTime"] - datetime.timedelta(seconds=60)
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="tbl1", TargetTableName="tbl2", RestoreDateTime=before)
    assert error_of(e)["Code"] == "InvalidRestoreTimeException"
    future = pitr["LatestRestorableDateTime"] + datetime.timedelta(hours=1)
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="tbl1", TargetTableName="tbl2", RestoreDateTime=future)
    assert error_of(e)["Code"] == "InvalidRestoreTimeException"
    # Two days on, the earliest restorable time is one recovery period back.
    server.advance_clock(2 * 86400)
    later = ddb.describe_continuous_backups(TableName="tbl1")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    span = later["LatestRestorableDateTime"] - later["EarliestRestorableDateTime"]
    assert datetime.timedelta(hours=23) < span < datetime.timedelta(days=1)


def test_restore_overrides_billing_mode(kagami_process):
    server = kagami_process()
    ddb = server.client("dynamodb")
    create_table(ddb, "src")
    enable(ddb, "src")
    put(ddb, "src", "a", "1")
    server.advance_clock(400)
    out = ddb.restore_table_to_point_in_time(
        SourceTableName="src",
        TargetTableName="dst",
        UseLatestRestorableTime=True,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert out["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert contents(ddb, "dst") == {"a": "1"}
    pitr = ddb.describe_continuous_backups(TableName="dst")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"


def test_point_in_time_recovery_via_the_cli(aws_cli, unique_name):
    name = unique_name("pitr")
    aws_cli(
        "dynamodb", "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    out = aws_cli(
        "dynamodb", "update-continuous-backups", "--table-name", name,
        "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true,RecoveryPeriodInDays=10",
    )
    assert out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 10


@pytest.mark.slow
def test_recovery_history_survives_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "hist")
    enable(ddb, "hist")
    put(ddb, "hist", "a", "1")
    server.advance_clock(600)
    at = ddb.describe_continuous_backups(TableName="hist")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "LatestRestorableDateTime"
    ]
    server.advance_clock(60)
    put(ddb, "hist", "a", "2")
    server.kill9()
    server.restart()
    server.advance_clock(660)  # the emulated clock starts from real time again
    ddb = server.client("dynamodb")
    assert ddb.describe_continuous_backups(TableName="hist")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ] == "ENABLED"
    ddb.restore_table_to_point_in_time(SourceTableName="hist", TargetTableName="hist-then", RestoreDateTime=at)
    assert contents(ddb, "hist-then") == {"a": "1"}
