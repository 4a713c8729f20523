"""DynamoDB in durable mode: every acknowledged write (tables, items, index maintenance,
table updates, deletes) survives kill -9 and restart; and the reset endpoint forgets all."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index

pytestmark = pytest.mark.slow


def test_tables_items_and_indexes_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "orders", gsis=[index("by-status", "status")], extra_definitions=[("status", "S")],
                 Tags=[{"Key": "team", "Value": "a"}])
    create_table(ddb, "dropped", range_key=None)
    for i in range(30):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"c{i % 3}"}, "sk": {"N": str(i)}, "status": {"S": "open" if i % 2 else "closed"},
                                               "b": {"B": bytes([i])}, "ns": {"NS": [str(i), "0.5"]}})
    ddb.update_item(TableName="orders", Key={"pk": {"S": "c0"}, "sk": {"N": "0"}}, UpdateExpression="SET #s = :o",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":o": {"S": "open"}})
    ddb.delete_item(TableName="orders", Key={"pk": {"S": "c1"}, "sk": {"N": "1"}})
    ddb.update_table(TableName="orders", DeletionProtectionEnabled=True)
    ddb.delete_table(TableName="dropped")
    before = ddb.scan(TableName="orders", ConsistentRead=True)["Items"]

    server.kill9()
    server.restart()
    ddb = server.client("dynamodb")
    assert ddb.list_tables()["TableNames"] == ["orders"]
    table = ddb.describe_table(TableName="orders")["Table"]
    assert table["ItemCount"] == 29
    assert table["DeletionProtectionEnabled"] is True
    assert table["GlobalSecondaryIndexes"][0]["ItemCount"] == 29
    after = ddb.scan(TableName="orders", ConsistentRead=True)["Items"]
    assert sorted(map(repr, after)) == sorted(map(repr, before))
    got = ddb.get_item(TableName="orders", Key={"pk": {"S": "c2"}, "sk": {"N": "5"}})["Item"]
    assert got["b"] == {"B": bytes([5])}
    assert sorted(got["ns"]["NS"]) == ["0.5", "5"]
    open_orders = ddb.query(TableName="orders", IndexName="by-status", KeyConditionExpression="#s = :o",
                            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":o": {"S": "open"}}, Select="COUNT")
    assert open_orders["Count"] == 15  # 15 odd, one of them deleted, plus sk 0 updated to open
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="dropped")
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_concurrently_acknowledged_writes_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "events")
    errors = []

    def writer(worker: int):
        client = server.client("dynamodb")
        try:
            for i in range(25):
                client.put_item(TableName="events", Item={"pk": {"S": f"w{worker}"}, "sk": {"N": str(i)}})
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    server.kill9()
    server.restart()
    assert server.client("dynamodb").scan(TableName="events", Select="COUNT")["Count"] == 100


def test_reset_forgets_every_table(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "gone")
    ddb.put_item(TableName="gone", Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert server.reset("dynamodb").status_code == 200
    assert ddb.list_tables()["TableNames"] == []
    server.kill9()
    server.restart()
    assert server.client("dynamodb").list_tables()["TableNames"] == []
