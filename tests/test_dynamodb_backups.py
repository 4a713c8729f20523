"""DynamoDB on-demand backups: CreateBackup snapshots a table (later writes do not change
it), DescribeBackup/ListBackups/DeleteBackup, RestoreTableFromBackup creates a new table
with the items, keys and indexes but not the tags; backups survive kill -9."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


def fill(ddb, name, n):
    for i in range(n):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i}"}, "sk": {"N": str(i)}, "g": {"S": "x"}})


def test_a_backup_is_a_snapshot_that_restores_into_a_new_table(ddb, unique_name):
    source = unique_name("src")
    create_table(ddb, source, gsis=[index("by-g", "g")], extra_definitions=[("g", "S")], Tags=[{"Key": "a", "Value": "b"}])
    fill(ddb, source, 5)
    details = ddb.create_backup(TableName=source, BackupName="nightly")["BackupDetails"]
    assert details["BackupStatus"] == "AVAILABLE"
    assert details["BackupType"] == "USER"
    assert details["BackupArn"].startswith(f"arn:aws:dynamodb:us-east-1:000000000000:table/{source}/backup/")
    fill(ddb, source, 8)  # written after the backup: not in it
    described = ddb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert described["SourceTableDetails"]["TableName"] == source
    assert described["SourceTableDetails"]["ItemCount"] == 5
    assert described["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-g"

    target = unique_name("restored")
    restored = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=details["BackupArn"])["TableDescription"]
    assert restored["TableName"] == target
    assert restored["RestoreSummary"]["SourceBackupArn"] == details["BackupArn"]
    ddb.get_waiter("table_exists").wait(TableName=target, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert ddb.scan(TableName=target, Select="COUNT")["Count"] == 5
    by_g = ddb.query(TableName=target, IndexName="by-g", KeyConditionExpression="g = :x", ExpressionAttributeValues={":x": {"S": "x"}})
    assert by_g["Count"] == 5
    assert ddb.list_tags_of_resource(ResourceArn=restored["TableArn"])["Tags"] == []
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=target, BackupArn=details["BackupArn"])
    assert error_of(e)["Code"] == "TableAlreadyExistsException"


def test_backups_are_listed_and_deleted(ddb, unique_name):
    source = unique_name("src")
    create_table(ddb, source)
    arns = [ddb.create_backup(TableName=source, BackupName=f"backup-{i}")["BackupDetails"]["BackupArn"] for i in range(3)]
    listed = ddb.list_backups(TableName=source)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == arns
    first = ddb.list_backups(TableName=source, Limit=2)
    assert first["LastEvaluatedBackupArn"] == arns[1]
    rest = ddb.list_backups(TableName=source, ExclusiveStartBackupArn=first["LastEvaluatedBackupArn"])
    assert [b["BackupArn"] for b in rest["BackupSummaries"]] == arns[2:]
    deleted = ddb.delete_backup(BackupArn=arns[0])["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert [b["BackupArn"] for b in ddb.list_backups(TableName=source)["BackupSummaries"]] == arns[1:]
    with pytest.raises(ClientError) as e:
        ddb.describe_backup(BackupArn=arns[0])
    assert error_of(e)["Code"] == "BackupNotFoundException"
    assert error_of(e)["Message"] == f"Backup not found: {arns[0]}"
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName=unique_name("none"), BackupName="x1y")
    assert error_of(e)["Code"] == "TableNotFoundException"


@pytest.mark.slow
def test_backups_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "src")
    fill(ddb, "src", 12)
    arn = ddb.create_backup(TableName="src", BackupName="keep")["BackupDetails"]["BackupArn"]
    ddb.delete_table(TableName="src")
    server.kill9()
    server.restart()
    ddb = server.client("dynamodb")
    assert ddb.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableDetails"]["ItemCount"] == 12
    ddb.restore_table_from_backup(TargetTableName="src", BackupArn=arn)
    assert ddb.scan(TableName="src", Select="COUNT")["Count"] == 12
