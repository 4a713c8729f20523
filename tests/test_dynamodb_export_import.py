"""DynamoDB exports to and imports from S3: ExportTableToPointInTime (PITR required) writes
DYNAMODB_JSON in AWS's layout (AWSDynamoDB/<export id>/manifest-summary.json,
manifest-files.json, data/*.json.gz) to kagami's S3; ImportTable reads DYNAMODB_JSON
(gzip or not) and CSV from S3 into a new table and counts processed, imported and failed
items; DescribeExport/ListExports/DescribeImport/ListImports; records survive kill -9."""

from __future__ import annotations

import gzip
import json

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


def enable_pitr(ddb, table):
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def fill(ddb, table, n):
    for i in range(n):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"p{i}"}, "sk": {"N": str(i)}, "n": {"N": str(i * 10)}, "tags": {"SS": ["a", "b"]}})


def exported_items(s3, bucket, manifest_key):
    summary = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().decode().splitlines()
    items = []
    for line in files:
        entry = json.loads(line)
        body = s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read()
        lines = gzip.decompress(body).decode().splitlines()
        assert len(lines) == entry["itemCount"]
        items.extend(json.loads(l)["Item"] for l in lines)
    return summary, items


def test_export_writes_dynamodb_json_in_the_aws_layout(ddb, s3, unique_name):
    table, bucket = unique_name("exp"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    arn = create_table(ddb, table)["TableArn"]
    enable_pitr(ddb, table)
    fill(ddb, table, 5)
    d = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="backups")["ExportDescription"]
    assert d["ExportArn"].startswith(f"{arn}/export/")
    assert d["ExportStatus"] in ("IN_PROGRESS", "COMPLETED")
    assert d["ExportFormat"] == "DYNAMODB_JSON"
    done = ddb.describe_export(ExportArn=d["ExportArn"])["ExportDescription"]
    assert done["ExportStatus"] == "COMPLETED"
    assert done["ItemCount"] == 5
    export_id = d["ExportArn"].rsplit("/", 1)[1]
    assert done["ExportManifest"] == f"backups/AWSDynamoDB/{export_id}/manifest-summary.json"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"backups/AWSDynamoDB/{export_id}/")["Contents"]]
    assert f"backups/AWSDynamoDB/{export_id}/manifest-files.json" in keys
    assert any(k.startswith(f"backups/AWSDynamoDB/{export_id}/data/") and k.endswith(".json.gz") for k in keys)
    summary, items = exported_items(s3, bucket, done["ExportManifest"])
    assert summary["exportArn"] == d["ExportArn"]
    assert summary["itemCount"] == 5
    assert summary["outputFormat"] == "DYNAMODB_JSON"
    assert sorted(i["pk"]["S"] for i in items) == [f"p{i}" for i in range(5)]
    assert {"pk": {"S": "p2"}, "sk": {"N": "2"}, "n": {"N": "20"}, "tags": {"SS": ["a", "b"]}} in items
    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert [e["ExportArn"] for e in listed] == [d["ExportArn"]]
    assert listed[0]["ExportStatus"] == "COMPLETED"


def test_export_requires_point_in_time_recovery(ddb, s3, unique_name):
    table, bucket = unique_name("exp"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    arn = create_table(ddb, table)["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    assert error_of(e)["Code"] == "PointInTimeRecoveryUnavailableException"
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn + "-x", S3Bucket=bucket)
    assert error_of(e)["Code"] == "TableNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn=f"{arn}/export/01234567890123-abcdef12")
    assert error_of(e)["Code"] == "ExportNotFoundException"


def test_export_to_a_missing_bucket_fails(ddb, unique_name):
    table = unique_name("exp")
    arn = create_table(ddb, table)["TableArn"]
    enable_pitr(ddb, table)
    d = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=unique_name("nobucket"))["ExportDescription"]
    done = ddb.describe_export(ExportArn=d["ExportArn"])["ExportDescription"]
    assert done["ExportStatus"] == "FAILED"
    assert "NoSuchBucket" in done["FailureCode"]


def test_an_export_imports_back_into_a_new_table(ddb, s3, unique_name):
    table, bucket = unique_name("exp"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    arn = create_table(ddb, table)["TableArn"]
    enable_pitr(ddb, table)
    fill(ddb, table, 7)
    export_arn = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)["ExportDescription"]["ExportArn"]
    export_id = export_arn.rsplit("/", 1)[1]
    target = unique_name("imp")
    d = ddb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": f"AWSDynamoDB/{export_id}/data/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": target,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]
    assert d["ImportArn"].startswith(d["TableArn"] + "/import/")
    done = ddb.describe_import(ImportArn=d["ImportArn"])["ImportTableDescription"]
    assert done["ImportStatus"] == "COMPLETED"
    assert done["ImportedItemCount"] == 7
    assert done["ProcessedItemCount"] == 7
    assert done["ErrorCount"] == 0
    got = ddb.get_item(TableName=target, Key={"pk": {"S": "p3"}, "sk": {"N": "3"}})["Item"]
    assert got["n"] == {"N": "30"}
    assert [i["ImportArn"] for i in ddb.list_imports(TableArn=d["TableArn"])["ImportSummaryList"]] == [d["ImportArn"]]


def test_csv_import_types_keys_and_counts_errors(ddb, s3, unique_name):
    bucket, target = unique_name("bucket"), unique_name("csv")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/a.csv", Body=b'id,name,age\n1,"Smith, Ann",30\n2,Bob,\n,nokey,5\n')
    s3.put_object(Bucket=bucket, Key="in/b.csv", Body=b"id,name,age\n3,Cy,41\n")
    d = ddb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "in/"},
        InputFormat="CSV",
        TableCreationParameters={
            "TableName": target,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]
    done = ddb.describe_import(ImportArn=d["ImportArn"])["ImportTableDescription"]
    assert (done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]) == (4, 3, 1)
    assert ddb.get_item(TableName=target, Key={"id": {"N": "1"}})["Item"] == {"id": {"N": "1"}, "name": {"S": "Smith, Ann"}, "age": {"S": "30"}}
    assert ddb.get_item(TableName=target, Key={"id": {"N": "2"}})["Item"] == {"id": {"N": "2"}, "name": {"S": "Bob"}}


def test_import_into_an_existing_table_is_refused(ddb, s3, unique_name):
    bucket, name = unique_name("bucket"), unique_name("exists")
    s3.create_bucket(Bucket=bucket)
    create_table(ddb, name, range_key=None)
    with pytest.raises(ClientError) as e:
        ddb.import_table(
            S3BucketSource={"S3Bucket": bucket},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters={
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
    assert error_of(e)["Code"] == "ResourceInUseException"


def test_list_exports_via_the_cli(aws_cli):
    out = aws_cli("dynamodb", "list-exports")
    assert "ExportSummaries" in out


@pytest.mark.slow
def test_export_and_import_records_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb, s3 = server.client("dynamodb"), server.client("s3")
    s3.create_bucket(Bucket="exports")
    arn = create_table(ddb, "tbl")["TableArn"]
    enable_pitr(ddb, "tbl")
    fill(ddb, "tbl", 3)
    export_arn = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports")["ExportDescription"]["ExportArn"]
    server.kill9()
    server.restart()
    ddb = server.client("dynamodb")
    d = ddb.describe_export(ExportArn=export_arn)["ExportDescription"]
    assert (d["ExportStatus"], d["ItemCount"]) == ("COMPLETED", 3)


def test_exports_and_imports_belong_to_their_account(aws_client, ddb, s3, unique_name):
    table, bucket = unique_name("exp"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    arn = create_table(ddb, table)["TableArn"]
    enable_pitr(ddb, table)
    export_arn = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)["ExportDescription"]["ExportArn"]
    other = aws_client("dynamodb", account="111122223333")
    assert export_arn not in [e["ExportArn"] for e in other.list_exports()["ExportSummaries"]]
    with pytest.raises(ClientError) as e:
        other.describe_export(ExportArn=export_arn)
    assert error_of(e)["Code"] == "ExportNotFoundException"
    west = aws_client("dynamodb", region="us-west-2")
    assert export_arn not in [e["ExportArn"] for e in west.list_exports()["ExportSummaries"]]


def test_export_client_token_is_idempotent(ddb, s3, unique_name):
    table, bucket = unique_name("exp"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    arn = create_table(ddb, table)["TableArn"]
    enable_pitr(ddb, table)
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ClientToken="tok")["ExportDescription"]
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ClientToken="tok")["ExportDescription"]
    assert again["ExportArn"] == first["ExportArn"]
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="other", ClientToken="tok")
    assert error_of(e)["Code"] == "ExportConflictException"
