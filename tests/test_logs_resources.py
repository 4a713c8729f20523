"""CloudWatch Logs resources beside log groups: saved query definitions, resource
policies, destinations, data protection policies, KMS keys, deletion protection and
ListLogGroups; with pagination, multi-account and multi-region isolation and durability."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import error_code, new_account

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Route53LogsToCloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": ["route53.amazonaws.com"]},
                "Action": "logs:PutLogEvents",
                "Resource": "*",
            }
        ],
    }
)

DATA_PROTECTION = json.dumps(
    {
        "Name": "data-protection-policy",
        "Version": "2021-06-01",
        "Statement": [
            {
                "Sid": "audit-policy",
                "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
                "Operation": {"Audit": {"FindingsDestination": {}}},
            },
            {
                "Sid": "redact-policy",
                "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
                "Operation": {"Deidentify": {"MaskConfig": {}}},
            },
        ],
    }
)

KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def logs(aws_client):
    """A client of an account of its own, so that account-wide lists hold only this test's resources."""
    return aws_client("logs", account=new_account())


def all_pages(call, field: str, limit_name: str = "limit", limit: int = 2, **kwargs) -> list:
    seen, token = [], None
    while True:
        page = call(**{limit_name: limit}, **kwargs, **({"nextToken": token} if token else {}))
        assert len(page[field]) <= limit
        seen += page[field]
        token = page.get("nextToken")
        if not token:
            return seen


# --------------------------------------------------------------------------- query definitions


def test_query_definitions_are_saved_updated_listed_and_deleted(logs):
    first = logs.put_query_definition(name="errors/by-level", queryString="fields @message | filter @message like /ERROR/", logGroupNames=["/app"])
    qid = first["queryDefinitionId"]
    assert len(qid) == 36
    logs.put_query_definition(name="latency", queryString="stats avg(latency) by bin(5m)")
    logs.put_query_definition(name="errors/by-stream", queryString="stats count(*) by @logStream")
    defs = logs.describe_query_definitions()["queryDefinitions"]
    assert [d["name"] for d in defs] == ["errors/by-level", "errors/by-stream", "latency"]
    saved = defs[0]
    assert saved["queryDefinitionId"] == qid
    assert saved["queryString"] == "fields @message | filter @message like /ERROR/"
    assert saved["logGroupNames"] == ["/app"]
    assert saved["queryLanguage"] == "CWLI"
    assert saved["lastModified"] > 0

    # Putting with the id updates that definition instead of adding one.
    again = logs.put_query_definition(queryDefinitionId=qid, name="errors/renamed", queryString="fields @timestamp")
    assert again["queryDefinitionId"] == qid
    prefixed = logs.describe_query_definitions(queryDefinitionNamePrefix="errors/")["queryDefinitions"]
    assert [(d["name"], d["queryString"]) for d in prefixed] == [("errors/by-stream", "stats count(*) by @logStream"), ("errors/renamed", "fields @timestamp")]

    names = [d["name"] for d in all_pages(logs.describe_query_definitions, "queryDefinitions", limit_name="maxResults")]
    assert names == ["errors/by-stream", "errors/renamed", "latency"]

    assert logs.delete_query_definition(queryDefinitionId=qid)["success"] is True
    assert [d["name"] for d in logs.describe_query_definitions()["queryDefinitions"]] == ["errors/by-stream", "latency"]


def test_query_definition_errors(logs):
    with pytest.raises(ClientError) as e:
        logs.delete_query_definition(queryDefinitionId="00000000-0000-0000-0000-000000000000")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_query_definition(queryDefinitionId="00000000-0000-0000-0000-000000000000", name="x", queryString="fields @message")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_query_definition(name="x" * 256, queryString="fields @message")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_query_definitions(maxResults=1001)
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_query_definitions(nextToken="not-a-token")
    assert error_code(e) == "InvalidParameterException"


# --------------------------------------------------------------------------- resource policies


def test_resource_policies_are_put_described_updated_and_deleted(logs):
    put = logs.put_resource_policy(policyName="route53", policyDocument=POLICY)
    policy = put["resourcePolicy"]
    assert policy["policyName"] == "route53"
    assert policy["policyDocument"] == POLICY
    assert policy["policyScope"] == "ACCOUNT"
    assert policy["lastUpdatedTime"] > 0
    described = logs.describe_resource_policies()["resourcePolicies"]
    assert [(p["policyName"], p["policyDocument"]) for p in described] == [("route53", POLICY)]

    updated_doc = '{"Statement":[{"Action":"logs:*","Effect":"Allow","Principal":{"Service":["route53.amazonaws.com"]},"Resource":"*"}]}'
    updated = logs.put_resource_policy(policyName="route53", policyDocument=updated_doc)["resourcePolicy"]
    assert updated["policyDocument"] == updated_doc
    assert updated["revisionId"] != policy["revisionId"]
    assert [p["policyDocument"] for p in logs.describe_resource_policies()["resourcePolicies"]] == [updated_doc]

    logs.delete_resource_policy(policyName="route53")
    assert logs.describe_resource_policies()["resourcePolicies"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_resource_policy(policyName="route53")
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Policy with name [route53] does not exist"


def test_resource_policies_are_limited_to_ten_per_region(logs):
    for i in range(10):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument=POLICY)
    with pytest.raises(ClientError) as e:
        logs.put_resource_policy(policyName="p10", policyDocument=POLICY)
    assert error_code(e) == "LimitExceededException"
    # Updating one of the ten is not an eleventh.
    assert logs.put_resource_policy(policyName="p3", policyDocument=POLICY)["resourcePolicy"]["policyName"] == "p3"
    names = [p["policyName"] for p in all_pages(logs.describe_resource_policies, "resourcePolicies", limit=3)]
    assert sorted(names) == sorted(f"p{i}" for i in range(10))


def test_resource_policy_documents_are_validated(logs):
    with pytest.raises(ClientError) as e:
        logs.put_resource_policy(policyName="big", policyDocument='{"a":"' + "x" * 5120 + '"}')
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_resource_policy(policyName="bad", policyDocument="not json")
    assert error_code(e) == "InvalidParameterException"


# --------------------------------------------------------------------------- destinations


def test_destinations_lifecycle(logs):
    target = "arn:aws:kinesis:us-east-1:111111111111:stream/central"
    role = "arn:aws:iam::111111111111:role/CWLtoKinesisRole"
    d = logs.put_destination(destinationName="central", targetArn=target, roleArn=role)["destination"]
    assert d["destinationName"] == "central"
    assert d["targetArn"] == target and d["roleArn"] == role
    assert d["arn"].startswith("arn:aws:logs:us-east-1:") and d["arn"].endswith(":destination:central")
    assert "accessPolicy" not in d
    created = d["creationTime"]

    access = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "logs:PutSubscriptionFilter", "Resource": d["arn"]}]})
    logs.put_destination_policy(destinationName="central", accessPolicy=access)
    # PutDestination again updates the target and keeps the policy and creation time.
    new_target = "arn:aws:kinesis:us-east-1:111111111111:stream/other"
    again = logs.put_destination(destinationName="central", targetArn=new_target, roleArn=role)["destination"]
    assert again["targetArn"] == new_target and again["accessPolicy"] == access and again["creationTime"] == created

    for name in ["central-2", "edge"]:
        logs.put_destination(destinationName=name, targetArn=target, roleArn=role)
    assert [x["destinationName"] for x in logs.describe_destinations(DestinationNamePrefix="central")["destinations"]] == ["central", "central-2"]
    assert [x["destinationName"] for x in all_pages(logs.describe_destinations, "destinations", limit=2)] == ["central", "central-2", "edge"]

    logs.delete_destination(destinationName="central")
    with pytest.raises(ClientError) as e:
        logs.delete_destination(destinationName="central")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_destination_policy(destinationName="central", accessPolicy=access)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_destination(destinationName="bad:name", targetArn=target, roleArn=role)
    assert error_code(e) == "InvalidParameterException"


def test_destinations_are_tagged_by_arn(logs):
    d = logs.put_destination(destinationName="tagged", targetArn="arn:aws:kinesis:us-east-1:111111111111:stream/s", roleArn="arn:aws:iam::111111111111:role/r", tags={"team": "a"})["destination"]
    assert logs.list_tags_for_resource(resourceArn=d["arn"])["tags"] == {"team": "a"}
    logs.tag_resource(resourceArn=d["arn"], tags={"env": "dev"})
    logs.untag_resource(resourceArn=d["arn"], tagKeys=["team"])
    assert logs.list_tags_for_resource(resourceArn=d["arn"])["tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=d["arn"].replace(":tagged", ":missing"), tags={"a": "b"})
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=d["arn"], tags={"aws:reserved": "x"})
    assert error_code(e) == "InvalidParameterException"


def test_aws_cli_destinations(aws_cli, unique_name):
    name = unique_name("cli-dest")
    out = aws_cli("logs", "put-destination", "--destination-name", name, "--target-arn", "arn:aws:kinesis:us-east-1:000000000000:stream/s", "--role-arn", "arn:aws:iam::000000000000:role/r")
    assert out["destination"]["destinationName"] == name
    listed = aws_cli("logs", "describe-destinations", "--destination-name-prefix", name)
    assert [d["destinationName"] for d in listed["destinations"]] == [name]
    aws_cli("logs", "delete-destination", "--destination-name", name)
    assert aws_cli("logs", "describe-destinations", "--destination-name-prefix", name)["destinations"] == []


# --------------------------------------------------------------------------- group settings


def test_data_protection_policy_is_stored_and_reported(logs, unique_name):
    group = unique_name("/dp")
    logs.create_log_group(logGroupName=group)
    assert "policyDocument" not in logs.get_data_protection_policy(logGroupIdentifier=group)
    put = logs.put_data_protection_policy(logGroupIdentifier=group, policyDocument=DATA_PROTECTION)
    assert put["logGroupIdentifier"] == group and put["policyDocument"] == DATA_PROTECTION and put["lastUpdatedTime"] > 0
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    got = logs.get_data_protection_policy(logGroupIdentifier=arn)
    assert got["policyDocument"] == DATA_PROTECTION and got["logGroupIdentifier"] == arn
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["dataProtectionStatus"] == "ACTIVATED"
    logs.delete_data_protection_policy(logGroupIdentifier=group)
    assert "policyDocument" not in logs.get_data_protection_policy(logGroupIdentifier=group)
    assert "dataProtectionStatus" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    with pytest.raises(ClientError) as e:
        logs.delete_data_protection_policy(logGroupIdentifier=group)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_data_protection_policy(logGroupIdentifier=unique_name("/missing"), policyDocument=DATA_PROTECTION)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The specified log group does not exist."


def test_kms_key_association_shows_in_describe_log_groups(logs, unique_name):
    group = unique_name("/kms")
    logs.create_log_group(logGroupName=group)
    logs.associate_kms_key(logGroupName=group, kmsKeyId=KMS_KEY)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["kmsKeyId"] == KMS_KEY
    logs.disassociate_kms_key(logGroupName=group)
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.associate_kms_key(resourceIdentifier=arn, kmsKeyId=KMS_KEY)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["kmsKeyId"] == KMS_KEY
    with pytest.raises(ClientError) as e:
        logs.associate_kms_key(logGroupName=unique_name("/missing"), kmsKeyId=KMS_KEY)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.associate_kms_key(logGroupName=group, kmsKeyId="alias/not-an-arn")
    assert error_code(e) == "InvalidParameterException"


def test_deletion_protection_blocks_delete_until_turned_off(logs, unique_name):
    group = unique_name("/protected")
    logs.create_log_group(logGroupName=group)
    logs.put_log_group_deletion_protection(logGroupIdentifier=group, deletionProtectionEnabled=True)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["deletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName=group)
    assert error_code(e) == "OperationAbortedException"
    logs.put_log_group_deletion_protection(logGroupIdentifier=group, deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


def test_list_log_groups_matches_patterns_and_pages(logs):
    for name in ["/aws/lambda/a", "/aws/lambda/b", "/app/discovery", "/other"]:
        logs.create_log_group(logGroupName=name)
    logs.create_log_group(logGroupName="/ia", logGroupClass="INFREQUENT_ACCESS")
    names = lambda r: [g["logGroupName"] for g in r["logGroups"]]  # noqa: E731
    assert names(logs.list_log_groups(logGroupNamePattern="^/aws/lambda|discovery")) == ["/app/discovery", "/aws/lambda/a", "/aws/lambda/b"]
    assert names(logs.list_log_groups(logGroupClass="INFREQUENT_ACCESS")) == ["/ia"]
    summary = logs.list_log_groups(logGroupNamePattern="^/other")["logGroups"][0]
    assert summary["logGroupArn"].endswith(":log-group:/other") and summary["logGroupClass"] == "STANDARD"
    assert [g["logGroupName"] for g in all_pages(logs.list_log_groups, "logGroups", limit=2)] == ["/app/discovery", "/aws/lambda/a", "/aws/lambda/b", "/ia", "/other"]


def test_describe_log_groups_by_identifiers_and_pattern(logs):
    for name in ["/svc/Orders", "/svc/payments", "/jobs/orders-nightly"]:
        logs.create_log_group(logGroupName=name)
    arn = logs.describe_log_groups(logGroupNamePrefix="/svc/payments")["logGroups"][0]["logGroupArn"]
    got = logs.describe_log_groups(logGroupIdentifiers=["/svc/Orders", arn])["logGroups"]
    assert [g["logGroupName"] for g in got] == ["/svc/Orders", "/svc/payments"]
    # The pattern matches anywhere in the name, ignoring case.
    got = logs.describe_log_groups(logGroupNamePattern="orders")["logGroups"]
    assert [g["logGroupName"] for g in got] == ["/jobs/orders-nightly", "/svc/Orders"]


# --------------------------------------------------------------------------- isolation and durability


def test_resources_are_isolated_by_account_and_region(aws_client):
    account = new_account()
    home = aws_client("logs", account=account)
    west = aws_client("logs", account=account, region="us-west-2")
    other = aws_client("logs", account=new_account())
    home.put_query_definition(name="q", queryString="fields @message")
    home.put_resource_policy(policyName="p", policyDocument=POLICY)
    home.put_destination(destinationName="d", targetArn="arn:aws:kinesis:us-east-1:111111111111:stream/s", roleArn="arn:aws:iam::111111111111:role/r")
    for client in (west, other):
        assert client.describe_query_definitions()["queryDefinitions"] == []
        assert client.describe_resource_policies()["resourcePolicies"] == []
        assert client.describe_destinations()["destinations"] == []
    arn = home.describe_destinations()["destinations"][0]["arn"]
    assert arn == f"arn:aws:logs:us-east-1:{account}:destination:d"
    # The same names are free in another region.
    west.put_destination(destinationName="d", targetArn="arn:aws:kinesis:us-west-2:111111111111:stream/s", roleArn="arn:aws:iam::111111111111:role/r")
    assert west.describe_destinations()["destinations"][0]["arn"] == f"arn:aws:logs:us-west-2:{account}:destination:d"


def test_resources_and_group_settings_survive_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    logs = server.client("logs")
    qid = logs.put_query_definition(name="saved", queryString="stats count(*) by bin(1h)")["queryDefinitionId"]
    logs.put_resource_policy(policyName="p", policyDocument=POLICY)
    logs.put_resource_policy(policyName="gone", policyDocument=POLICY)
    logs.delete_resource_policy(policyName="gone")
    logs.put_destination(destinationName="d", targetArn="arn:aws:kinesis:us-east-1:000000000000:stream/s", roleArn="arn:aws:iam::000000000000:role/r")
    logs.put_destination_policy(destinationName="d", accessPolicy=POLICY)
    logs.create_log_group(logGroupName="/g")
    logs.put_data_protection_policy(logGroupIdentifier="/g", policyDocument=DATA_PROTECTION)
    logs.associate_kms_key(logGroupName="/g", kmsKeyId=KMS_KEY)
    logs.put_log_group_deletion_protection(logGroupIdentifier="/g", deletionProtectionEnabled=True)
    server.kill9()
    server.restart()
    logs = server.client("logs")
    assert [(d["queryDefinitionId"], d["name"]) for d in logs.describe_query_definitions()["queryDefinitions"]] == [(qid, "saved")]
    assert [p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]] == ["p"]
    d = logs.describe_destinations()["destinations"][0]
    assert (d["destinationName"], d["accessPolicy"]) == ("d", POLICY)
    g = logs.describe_log_groups()["logGroups"][0]
    assert (g["kmsKeyId"], g["deletionProtectionEnabled"], g["dataProtectionStatus"]) == (KMS_KEY, True, "ACTIVATED")
    assert logs.get_data_protection_policy(logGroupIdentifier="/g")["policyDocument"] == DATA_PROTECTION
