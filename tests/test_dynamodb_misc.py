"""DynamoDB's smaller settings: Contributor Insights (stored ENABLED/DISABLED per table and
GSI), resource-based policies with revision ids, Kinesis streaming destinations (no Kinesis
stream exists in kagami), LatestStreamArn kept after a stream is disabled, and
TransactWriteItems ClientRequestToken idempotency across a restart."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of, index


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "dynamodb:GetItem", "Resource": "*"}
    ],
}


def test_contributor_insights_are_enabled_described_and_listed(ddb, unique_name):
    name = unique_name("ci")
    create_table(ddb, name, gsis=[index("by-g", "g")], extra_definitions=[("g", "S")])
    d = ddb.describe_contributor_insights(TableName=name)
    assert d["ContributorInsightsStatus"] == "DISABLED"
    out = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert out["TableName"] == name
    assert out["ContributorInsightsStatus"] == "ENABLING"
    d = ddb.describe_contributor_insights(TableName=name)
    assert d["ContributorInsightsStatus"] == "ENABLED"
    assert d["ContributorInsightsRuleList"]
    assert ddb.describe_contributor_insights(TableName=name, IndexName="by-g")["ContributorInsightsStatus"] == "DISABLED"
    listed = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert {(s.get("IndexName"), s["ContributorInsightsStatus"]) for s in listed} == {(None, "ENABLED"), ("by-g", "DISABLED")}
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"
    with pytest.raises(ClientError) as e:
        ddb.describe_contributor_insights(TableName=name, IndexName="nope")
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.describe_contributor_insights(TableName=name + "-x")
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_resource_policy_is_stored_with_a_revision_id(ddb, unique_name):
    name = unique_name("rp")
    arn = create_table(ddb, name)["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error_of(e)["Code"] == "PolicyNotFoundException"
    rev1 = ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(POLICY))["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert json.loads(got["Policy"]) == POLICY
    assert got["RevisionId"] == rev1
    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(POLICY), ExpectedRevisionId="123")
    assert error_of(e)["Code"] == "PolicyNotFoundException"
    rev2 = ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(POLICY), ExpectedRevisionId=rev1)["RevisionId"]
    assert rev2 != rev1
    ddb.delete_resource_policy(ResourceArn=arn)
    with pytest.raises(ClientError) as e:
        ddb.delete_resource_policy(ResourceArn=arn)
    assert error_of(e)["Code"] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=arn + "-x", Policy=json.dumps(POLICY))
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_resource_policy_via_the_cli(aws_cli, ddb, unique_name):
    name = unique_name("rp")
    arn = create_table(ddb, name)["TableArn"]
    out = aws_cli("dynamodb", "put-resource-policy", "--resource-arn", arn, "--policy", json.dumps(POLICY))
    assert out["RevisionId"]
    assert json.loads(aws_cli("dynamodb", "get-resource-policy", "--resource-arn", arn)["Policy"]) == POLICY


def test_kinesis_destinations_name_a_stream_that_does_not_exist(ddb, unique_name):
    name = unique_name("kds")
    create_table(ddb, name)
    d = ddb.describe_kinesis_streaming_destination(TableName=name)
    assert d["TableName"] == name
    assert d["KinesisDataStreamDestinations"] == []
    stream = "arn:aws:kinesis:us-east-1:000000000000:stream/nope"
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=stream)
    assert error_of(e)["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.disable_kinesis_streaming_destination(TableName=name, StreamArn=stream)
    assert error_of(e)["Code"] == "ResourceNotFoundException"


def test_latest_stream_arn_is_kept_after_the_stream_is_disabled(ddb, unique_name):
    name = unique_name("st")
    t = create_table(ddb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    after = ddb.describe_table(TableName=name)["Table"]
    assert after["LatestStreamArn"] == t["LatestStreamArn"]
    assert after["LatestStreamLabel"] == t["LatestStreamLabel"]
    assert "StreamSpecification" not in after


@pytest.mark.slow
def test_settings_and_transaction_tokens_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    arn = create_table(ddb, "tbl")["TableArn"]
    ddb.update_contributor_insights(TableName="tbl", ContributorInsightsAction="ENABLE")
    rev = ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(POLICY))["RevisionId"]
    request = dict(
        TransactItems=[{"Put": {"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}],
        ClientRequestToken="token-1",
    )
    ddb.transact_write_items(**request)
    server.kill9()
    server.restart()
    ddb = server.client("dynamodb")
    assert ddb.describe_contributor_insights(TableName="tbl")["ContributorInsightsStatus"] == "ENABLED"
    assert ddb.get_resource_policy(ResourceArn=arn)["RevisionId"] == rev
    ddb.transact_write_items(**request)  # the same request again: accepted, not applied twice
    other = dict(request, TransactItems=[{"Put": {"TableName": "tbl", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}}}}])
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(**other)
    assert error_of(e)["Code"] == "IdempotentParameterMismatchException"
