"""DynamoDB Time to Live: UpdateTimeToLive/DescribeTimeToLive, and expired items deleted
once the emulated clock passes their expiry (POST /_kagami/clock), durably. Each test runs
its own server because it moves the clock."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_time_to_live_is_described_and_toggled(kagami_process):
    ddb = kagami_process().client("dynamodb")
    create_table(ddb, "sessions", range_key=None)
    assert ddb.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification=spec)["TimeToLiveSpecification"] == spec
    assert ddb.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires",
    }
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification=spec)
    assert error_of(e)["Message"] == "TimeToLive is already enabled"
    ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert ddb.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


def test_expired_items_are_deleted_when_the_clock_passes_them(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "sessions", range_key=None)
    ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    now = int(time.time())
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "short"}, "expires": {"N": str(now + 3600)}})
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "long"}, "expires": {"N": str(now + 86400 * 30)}})
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "forever"}})
    ddb.put_item(TableName="sessions", Item={"pk": {"S": "text"}, "expires": {"S": str(now)}})
    assert ddb.scan(TableName="sessions")["Count"] == 4
    assert server.advance_clock(7200).status_code == 200
    assert wait_for(lambda: ddb.scan(TableName="sessions")["Count"] == 3)
    assert "Item" not in ddb.get_item(TableName="sessions", Key={"pk": {"S": "short"}})
    server.kill9()
    server.restart()
    ddb = server.client("dynamodb")
    assert sorted(i["pk"]["S"] for i in ddb.scan(TableName="sessions")["Items"]) == ["forever", "long", "text"]
