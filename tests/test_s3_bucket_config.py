"""S3 bucket configuration: tagging, policy (and its status), ACLs, Object Ownership,
Block Public Access, default encryption, server access logging settings, request
payment, Transfer Acceleration, replication, event notification settings, and the
Id-keyed analytics / metrics / inventory / Intelligent-Tiering configurations. Each is
stored, returned with AWS's defaults, refused with AWS's codes, acted on where AWS acts
on it (Block Public Access refuses public policies and ACLs, BucketOwnerEnforced refuses
ACLs), kept from other accounts, and survives kill -9."""

from __future__ import annotations

import json

import pytest

from s3_helpers import error_of

OTHER_ACCOUNT = "111111111111"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture
def bucket(s3, unique_name):
    name = unique_name("cfg")
    s3.create_bucket(Bucket=name)
    return name


def code_of(err: dict) -> tuple[str, int]:
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def public_policy(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}],
    })


def account_policy(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                       "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}],
    })


# ------------------------------------------------------------------ tagging


def test_bucket_tagging_round_trip_and_no_such_tag_set(s3, bucket):
    err = error_of(s3.get_bucket_tagging, Bucket=bucket)
    assert code_of(err) == ("NoSuchTagSet", 404)
    assert err["Error"]["Message"] == "The TagSet does not exist"
    assert err["Error"]["BucketName"] == bucket
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "cost-center", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    # A put replaces the whole set.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    assert code_of(error_of(s3.get_bucket_tagging, Bucket=bucket)) == ("NoSuchTagSet", 404)


@pytest.mark.parametrize("tags,message", [
    ([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}], "Cannot provide multiple Tags with the same key"),
    ([{"Key": "aws:cloudformation:stack-name", "Value": "x"}], "System tags cannot be added/updated by requester"),
    ([{"Key": f"k{i}", "Value": "v"} for i in range(51)], "Bucket tag count cannot be greater than 50"),
    ([{"Key": "k" * 129, "Value": "v"}], "The TagKey you have provided is invalid"),
    ([{"Key": "k", "Value": "v" * 257}], "The TagValue you have provided is invalid"),
], ids=["duplicate-keys", "aws-prefix", "51-tags", "long-key", "long-value"])
def test_invalid_bucket_tags_are_refused(s3, bucket, tags, message):
    err = error_of(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tags})
    assert code_of(err) == ("InvalidTag", 400)
    assert err["Error"]["Message"] == message
    assert code_of(error_of(s3.get_bucket_tagging, Bucket=bucket)) == ("NoSuchTagSet", 404)


def test_fifty_bucket_tags_are_accepted(s3, bucket):
    tags = [{"Key": f"k{i:02}", "Value": str(i)} for i in range(50)]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50


# ------------------------------------------------------------------ policy


def test_bucket_policy_round_trip_keeps_the_text_and_reports_status(s3, bucket):
    err = error_of(s3.get_bucket_policy, Bucket=bucket)
    assert code_of(err) == ("NoSuchBucketPolicy", 404)
    assert err["Error"]["Message"] == "The bucket policy does not exist"
    assert code_of(error_of(s3.get_bucket_policy_status, Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    policy = account_policy(bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    s3.delete_bucket_policy(Bucket=bucket)
    assert code_of(error_of(s3.get_bucket_policy, Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    # Deleting again is not an error.
    s3.delete_bucket_policy(Bucket=bucket)


@pytest.mark.parametrize("policy,message", [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17"', "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
    ('{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}]}',
     "Missing required field Principal"),
    ('{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}]}',
     "Invalid effect: Maybe"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"}]}',
     "Policy has invalid resource"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:s3:::BUCKET/*"}]}',
     "Policy has invalid action"),
], ids=["not-json", "truncated", "no-statement", "empty-statement", "no-principal", "bad-effect",
        "other-bucket", "other-service"])
def test_malformed_policies_are_refused(s3, bucket, policy, message):
    err = error_of(s3.put_bucket_policy, Bucket=bucket, Policy=policy.replace("BUCKET", bucket))
    assert code_of(err) == ("MalformedPolicy", 400)
    assert err["Error"]["Message"] == message


def test_block_public_policy_refuses_a_public_policy_until_the_block_is_removed(s3, bucket):
    # New buckets block public access (AWS's default since April 2023).
    err = error_of(s3.put_bucket_policy, Bucket=bucket, Policy=public_policy(bucket))
    assert code_of(err) == ("AccessDenied", 403)
    assert code_of(error_of(s3.get_bucket_policy, Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_policy(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_a_conditioned_allow_to_everyone_is_not_public(s3, bucket):
    policy = json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


# ------------------------------------------------------------------ public access block


def test_new_buckets_block_public_access_until_the_block_is_deleted(s3, bucket):
    config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert config == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                      "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    s3.delete_public_access_block(Bucket=bucket)
    err = error_of(s3.get_public_access_block, Bucket=bucket)
    assert code_of(err) == ("NoSuchPublicAccessBlockConfiguration", 404)
    assert err["Error"]["Message"] == "The public access block configuration was not found"
    # Without the block a public policy is accepted.
    s3.put_bucket_policy(Bucket=bucket, Policy=public_policy(bucket))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    # Settings left out read as false.
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": False}


def test_public_access_block_needs_at_least_one_setting(s3, bucket):
    err = error_of(s3.put_public_access_block, Bucket=bucket, PublicAccessBlockConfiguration={})
    assert code_of(err) == ("InvalidRequest", 400)
    assert err["Error"]["Message"] == "Must specify at least one configuration."


# ------------------------------------------------------------------ ownership controls and ACLs


def test_new_buckets_enforce_bucket_owner_ownership(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    err = error_of(s3.get_bucket_ownership_controls, Bucket=bucket)
    assert code_of(err) == ("OwnershipControlsNotFoundError", 404)
    assert err["Error"]["Message"] == "The bucket ownership controls were not found"


def test_ownership_controls_take_one_known_rule(s3, bucket):
    err = error_of(s3.put_bucket_ownership_controls, Bucket=bucket,
                   OwnershipControls={"Rules": [{"ObjectOwnership": "Anyone"}]})
    assert code_of(err) == ("MalformedXML", 400)
    err = error_of(s3.put_bucket_ownership_controls, Bucket=bucket,
                   OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"},
                                                {"ObjectOwnership": "BucketOwnerPreferred"}]})
    assert code_of(err) == ("MalformedXML", 400)


def test_default_bucket_acl_gives_the_owner_full_control(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner_id = acl["Owner"]["ID"]
    assert len(owner_id) == 64
    assert owner_id == s3.list_buckets()["Owner"]["ID"]
    assert acl["Grants"] == [{"Grantee": {"ID": owner_id, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]


def test_acls_are_refused_while_the_bucket_owner_enforces_ownership(s3, bucket):
    err = error_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
    assert code_of(err) == ("AccessControlListNotSupported", 400)
    assert err["Error"]["Message"] == "The bucket does not allow ACLs"
    # The owner's full control is what the bucket already has: accepted.
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_acl(Bucket=bucket, ACL="bucket-owner-full-control")
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1


def test_canned_and_explicit_acls_once_acls_are_enabled(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    # BlockPublicAcls still refuses grants to everyone.
    assert code_of(error_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    other_id = "a" * 64
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{other_id}"', GrantFullControl=f'id="{owner_id}"')
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Grantee": {"ID": other_id, "Type": "CanonicalUser"}, "Permission": "READ"} in grants
    assert {"Grantee": {"ID": owner_id, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"} in grants
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                    "Permission": "WRITE"}]})
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 2
    # An ACL granting to others keeps the bucket from going back to BucketOwnerEnforced.
    err = error_of(s3.put_bucket_ownership_controls, Bucket=bucket,
                   OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert code_of(err) == ("InvalidBucketAclWithObjectOwnership", 400)


def test_malformed_acls_are_refused(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    err = error_of(s3.put_bucket_acl, Bucket=bucket, ACL="private", GrantRead='id="' + "a" * 64 + '"')
    assert code_of(err) == ("InvalidRequest", 400)
    assert err["Error"]["Message"] == "Specifying both Canned ACLs and Header Grants is not allowed"
    err = error_of(s3.put_bucket_acl, Bucket=bucket, GrantRead='uri="http://example.com/group"')
    assert code_of(err) == ("InvalidArgument", 400)
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    err = error_of(s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "EVERYTHING"}]})
    assert code_of(err) == ("MalformedACLError", 400)


# ------------------------------------------------------------------ encryption


def test_default_encryption_is_sse_s3_until_configured_and_after_delete(s3, bucket):
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                          "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                             "KMSMasterKeyID": "alias/my-key"},
                      "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == kms
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default


def test_invalid_encryption_configurations_are_refused(s3, bucket):
    err = error_of(s3.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]})
    assert code_of(err) == ("MalformedXML", 400)
    err = error_of(s3.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})
    assert code_of(err) == ("InvalidArgument", 400)


# ------------------------------------------------------------------ logging


def test_bucket_logging_round_trip_and_target_checks(s3, aws_client, bucket, unique_name):
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    target = unique_name("logs")
    s3.create_bucket(Bucket=target)
    status = {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "access/"}}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    enabled = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert enabled["TargetBucket"] == target and enabled["TargetPrefix"] == "access/"
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)

    missing = unique_name("nowhere")
    err = error_of(s3.put_bucket_logging, Bucket=bucket,
                   BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": missing, "TargetPrefix": ""}})
    assert code_of(err) == ("InvalidTargetBucketForLogging", 400)
    assert err["Error"]["Message"] == "The target bucket for logging does not exist"
    foreign = unique_name("foreign")
    aws_client("s3", account=OTHER_ACCOUNT).create_bucket(Bucket=foreign)
    err = error_of(s3.put_bucket_logging, Bucket=bucket,
                   BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": foreign, "TargetPrefix": ""}})
    assert code_of(err) == ("InvalidTargetBucketForLogging", 400)
    far = unique_name("far")
    aws_client("s3", region="eu-west-1").create_bucket(
        Bucket=far, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    err = error_of(s3.put_bucket_logging, Bucket=bucket,
                   BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": far, "TargetPrefix": ""}})
    assert code_of(err) == ("CrossLocationLoggingProhibitted", 403)


# ------------------------------------------------------------------ request payment and acceleration


def test_request_payment_defaults_to_the_bucket_owner(s3, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    err = error_of(s3.put_bucket_request_payment, Bucket=bucket, RequestPaymentConfiguration={"Payer": "Nobody"})
    assert code_of(err) == ("MalformedXML", 400)


def test_transfer_acceleration_status_and_dotted_names(s3, bucket, unique_name):
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Suspended"
    err = error_of(s3.put_bucket_accelerate_configuration, Bucket=bucket, AccelerateConfiguration={"Status": "On"})
    assert code_of(err) == ("MalformedXML", 400)
    dotted = unique_name("with.dots")
    s3.create_bucket(Bucket=dotted)
    err = error_of(s3.put_bucket_accelerate_configuration, Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"})
    assert code_of(err) == ("InvalidRequest", 400)
    assert "periods (.)" in err["Error"]["Message"]


def test_abac_is_disabled_until_enabled(s3, bucket, aws_cli):
    assert s3.get_bucket_abac(Bucket=bucket)["AbacStatus"] == {"Status": "Disabled"}
    s3.put_bucket_abac(Bucket=bucket, AbacStatus={"Status": "Enabled"})
    assert s3.get_bucket_abac(Bucket=bucket)["AbacStatus"] == {"Status": "Enabled"}
    assert aws_cli("s3api", "get-bucket-abac", "--bucket", bucket) == {"AbacStatus": {"Status": "Enabled"}}
    aws_cli("s3api", "put-bucket-abac", "--bucket", bucket, "--abac-status", "Status=Disabled")
    assert s3.get_bucket_abac(Bucket=bucket)["AbacStatus"] == {"Status": "Disabled"}
    err = error_of(s3.put_bucket_abac, Bucket=bucket, AbacStatus={"Status": "On"})
    assert code_of(err) == ("MalformedXML", 400)


# ------------------------------------------------------------------ replication


def replication(destination: str, **rule) -> dict:
    return {"Role": "arn:aws:iam::000000000000:role/replication",
            "Rules": [{"ID": "all", "Status": "Enabled", "Prefix": "",
                       "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}, **rule}]}


def test_replication_needs_versioning_on_both_buckets(s3, bucket, unique_name):
    destination = unique_name("replica")
    s3.create_bucket(Bucket=destination)
    err = error_of(s3.put_bucket_replication, Bucket=bucket, ReplicationConfiguration=replication(destination))
    assert code_of(err) == ("InvalidRequest", 400)
    assert err["Error"]["Message"] == "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    err = error_of(s3.put_bucket_replication, Bucket=bucket, ReplicationConfiguration=replication(destination))
    assert err["Error"]["Message"] == "Destination bucket must have versioning enabled."
    err = error_of(s3.put_bucket_replication, Bucket=bucket,
                   ReplicationConfiguration=replication(unique_name("absent")))
    assert err["Error"]["Message"] == "Destination bucket must exist."
    s3.put_bucket_versioning(Bucket=destination, VersioningConfiguration={"Status": "Enabled"})

    err = error_of(s3.get_bucket_replication, Bucket=bucket)
    assert code_of(err) == ("ReplicationConfigurationNotFoundError", 404)
    assert err["Error"]["Message"] == "The replication configuration was not found"
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=replication(destination))
    config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    assert config["Role"] == "arn:aws:iam::000000000000:role/replication"
    assert config["Rules"][0]["Destination"]["Bucket"] == f"arn:aws:s3:::{destination}"
    assert config["Rules"][0]["ID"] == "all"
    s3.delete_bucket_replication(Bucket=bucket)
    assert code_of(error_of(s3.get_bucket_replication, Bucket=bucket)) == ("ReplicationConfigurationNotFoundError", 404)


def test_replication_rules_with_a_filter_need_delete_marker_replication(s3, bucket, unique_name):
    destination = unique_name("replica")
    s3.create_bucket(Bucket=destination)
    for b in (bucket, destination):
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    config = replication(destination)
    rule = config["Rules"][0]
    del rule["Prefix"]
    rule.update(Filter={"Prefix": "docs/"}, Priority=1)
    err = error_of(s3.put_bucket_replication, Bucket=bucket, ReplicationConfiguration=config)
    assert code_of(err) == ("InvalidRequest", 400)
    rule["DeleteMarkerReplication"] = {"Status": "Disabled"}
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
    stored = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"][0]
    assert stored["Filter"] == {"Prefix": "docs/"}
    assert stored["DeleteMarkerReplication"] == {"Status": "Disabled"}


# ------------------------------------------------------------------ notifications


def test_notification_configuration_is_empty_by_default_and_round_trips(s3, bucket):
    empty = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [k for k in empty if k != "ResponseMetadata"] == []
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:events"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}],
        "TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                                 "Events": ["s3:ObjectRemoved:Delete"]}],
    })
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    queue = config["QueueConfigurations"][0]
    assert queue["Id"] == "to-queue" and queue["QueueArn"] == queue_arn
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    # A configuration put without an Id gets one.
    assert config["TopicConfigurations"][0]["Id"]
    legacy = s3.get_bucket_notification(Bucket=bucket)
    assert legacy["QueueConfiguration"]["Queue"] == queue_arn
    # An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_notification_key_filters_and_several_configurations_round_trip(s3, bucket):
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:events"
    rules = [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".csv"}]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": "csv", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": rules}}},
            {"Id": "deletes", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*", "s3:ObjectRestore:*"]}]})
    queues = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert [q["Id"] for q in queues] == ["csv", "deletes"]
    assert queues[0]["Filter"]["Key"]["FilterRules"] == rules
    assert queues[1]["Events"] == ["s3:ObjectRemoved:*", "s3:ObjectRestore:*"]


def test_notification_filter_rules_must_be_prefix_or_suffix(s3, bucket):
    err = error_of(s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:events",
                                 "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]})
    assert code_of(err) == ("InvalidArgument", 400)
    assert err["Error"]["Message"] == "filter rule name must be either prefix or suffix"


def test_invalid_notification_configurations_are_refused(s3, bucket):
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:events"
    err = error_of(s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectExploded"]}]})
    assert code_of(err) == ("InvalidArgument", 400)
    assert err["Error"]["Message"] == "The event is not supported for notifications"
    err = error_of(s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]})
    assert code_of(err) == ("InvalidArgument", 400)
    assert err["Error"]["Message"] == "The ARN is not well formed"
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


# ------------------------------------------------------------------ Id-keyed configurations


def analytics(config_id: str) -> dict:
    return {"Id": config_id, "Filter": {"Prefix": "data/"}, "StorageClassAnalysis": {}}


def inventory(config_id: str, destination: str) -> dict:
    return {"Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "Current",
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{destination}", "Format": "CSV"}},
            "Schedule": {"Frequency": "Daily"}, "OptionalFields": ["Size", "ETag"]}


def tiering(config_id: str) -> dict:
    return {"Id": config_id, "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}


def test_analytics_configurations_by_id_with_paginated_listing(s3, bucket):
    err = error_of(s3.get_bucket_analytics_configuration, Bucket=bucket, Id="missing")
    assert code_of(err) == ("NoSuchConfiguration", 404)
    assert err["Error"]["Message"] == "The specified configuration does not exist."
    ids = [f"a{i:03}" for i in range(105)]
    for config_id in ids:
        s3.put_bucket_analytics_configuration(Bucket=bucket, Id=config_id, AnalyticsConfiguration=analytics(config_id))
    got = s3.get_bucket_analytics_configuration(Bucket=bucket, Id="a007")["AnalyticsConfiguration"]
    assert got["Id"] == "a007" and got["Filter"] == {"Prefix": "data/"}
    first = s3.list_bucket_analytics_configurations(Bucket=bucket)
    assert first["IsTruncated"] is True
    assert [c["Id"] for c in first["AnalyticsConfigurationList"]] == ids[:100]
    second = s3.list_bucket_analytics_configurations(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert second["IsTruncated"] is False
    assert [c["Id"] for c in second["AnalyticsConfigurationList"]] == ids[100:]
    s3.delete_bucket_analytics_configuration(Bucket=bucket, Id="a007")
    assert code_of(error_of(s3.get_bucket_analytics_configuration, Bucket=bucket, Id="a007")) == (
        "NoSuchConfiguration", 404)
    assert code_of(error_of(s3.delete_bucket_analytics_configuration, Bucket=bucket, Id="a007")) == (
        "NoSuchConfiguration", 404)
    err = error_of(s3.list_bucket_analytics_configurations, Bucket=bucket, ContinuationToken="!!!")
    assert code_of(err) == ("InvalidArgument", 400)


def test_analytics_id_must_match_the_document(s3, bucket):
    err = error_of(s3.put_bucket_analytics_configuration, Bucket=bucket, Id="one",
                   AnalyticsConfiguration=analytics("other"))
    assert code_of(err) == ("MalformedXML", 400)


def test_metrics_configurations_round_trip(s3, bucket):
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="all", MetricsConfiguration={"Id": "all"})
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="docs", MetricsConfiguration={
        "Id": "docs", "Filter": {"Prefix": "docs/"}})
    assert s3.get_bucket_metrics_configuration(Bucket=bucket, Id="docs")["MetricsConfiguration"] == {
        "Id": "docs", "Filter": {"Prefix": "docs/"}}
    listed = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert [c["Id"] for c in listed["MetricsConfigurationList"]] == ["all", "docs"]
    assert listed["IsTruncated"] is False
    s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="all")
    assert code_of(error_of(s3.get_bucket_metrics_configuration, Bucket=bucket, Id="all")) == (
        "NoSuchConfiguration", 404)


def test_inventory_configurations_are_validated(s3, bucket, unique_name):
    destination = unique_name("inv")
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="daily",
                                          InventoryConfiguration=inventory("daily", destination))
    got = s3.get_bucket_inventory_configuration(Bucket=bucket, Id="daily")["InventoryConfiguration"]
    assert got == inventory("daily", destination)
    assert [c["Id"] for c in s3.list_bucket_inventory_configurations(Bucket=bucket)["InventoryConfigurationList"]] == [
        "daily"]
    err = error_of(s3.put_bucket_inventory_configuration, Bucket=bucket, Id="other",
                   InventoryConfiguration=inventory("daily", destination))
    assert code_of(err) == ("IdMismatch", 400)
    bad = inventory("weekly", destination)
    bad["Schedule"] = {"Frequency": "Hourly"}
    assert code_of(error_of(s3.put_bucket_inventory_configuration, Bucket=bucket, Id="weekly",
                            InventoryConfiguration=bad)) == ("MalformedXML", 400)


def test_intelligent_tiering_configurations_round_trip(s3, bucket):
    s3.put_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive",
                                                    IntelligentTieringConfiguration=tiering("archive"))
    got = s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive")
    assert got["IntelligentTieringConfiguration"] == tiering("archive")
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert [c["Id"] for c in listed["IntelligentTieringConfigurationList"]] == ["archive"]
    bad = tiering("bad")
    bad["Tierings"] = [{"Days": 90, "AccessTier": "COLD"}]
    assert code_of(error_of(s3.put_bucket_intelligent_tiering_configuration, Bucket=bucket, Id="bad",
                            IntelligentTieringConfiguration=bad)) == ("MalformedXML", 400)
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive")
    assert s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket).get(
        "IntelligentTieringConfigurationList", []) == []


# ------------------------------------------------------------------ other accounts, missing buckets


@pytest.mark.parametrize("call,kwargs", [
    ("get_bucket_tagging", {}),
    ("put_bucket_tagging", {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
    ("get_bucket_policy", {}),
    ("get_bucket_acl", {}),
    ("get_public_access_block", {}),
    ("get_bucket_ownership_controls", {}),
    ("get_bucket_encryption", {}),
    ("get_bucket_logging", {}),
    ("get_bucket_request_payment", {}),
    ("get_bucket_abac", {}),
    ("get_bucket_notification_configuration", {}),
    ("get_bucket_lifecycle_configuration", {}),
    ("list_bucket_metrics_configurations", {}),
    ("delete_bucket_encryption", {}),
])
def test_another_accounts_bucket_is_access_denied(aws_client, bucket, call, kwargs):
    other = aws_client("s3", account=OTHER_ACCOUNT)
    err = error_of(getattr(other, call), Bucket=bucket, **kwargs)
    assert code_of(err) == ("AccessDenied", 403)


def test_expected_bucket_owner_must_name_the_owner(s3, bucket):
    tags = {"TagSet": [{"Key": "k", "Value": "v"}]}
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tags, ExpectedBucketOwner="000000000000")
    assert s3.get_bucket_tagging(Bucket=bucket, ExpectedBucketOwner="000000000000")["TagSet"] == tags["TagSet"]
    for call, kwargs in ((s3.get_bucket_tagging, {}), (s3.put_bucket_encryption, {
            "ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}),
            (s3.list_bucket_inventory_configurations, {})):
        err = error_of(call, Bucket=bucket, ExpectedBucketOwner=OTHER_ACCOUNT, **kwargs)
        assert code_of(err) == ("AccessDenied", 403)


def test_configurations_of_a_missing_bucket_are_no_such_bucket(s3, unique_name):
    missing = unique_name("gone")
    for call in (s3.get_bucket_tagging, s3.get_bucket_encryption, s3.get_public_access_block,
                 s3.get_bucket_lifecycle_configuration):
        err = error_of(call, Bucket=missing)
        assert code_of(err) == ("NoSuchBucket", 404)


# ------------------------------------------------------------------ the AWS CLI


def test_cli_round_trips_tagging_and_encryption(aws_cli, s3, bucket):
    aws_cli("s3api", "put-bucket-tagging", "--bucket", bucket,
            "--tagging", json.dumps({"TagSet": [{"Key": "env", "Value": "dev"}]}))
    assert aws_cli("s3api", "get-bucket-tagging", "--bucket", bucket) == {"TagSet": [{"Key": "env", "Value": "dev"}]}
    encryption = aws_cli("s3api", "get-bucket-encryption", "--bucket", bucket)
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    aws_cli("s3api", "delete-public-access-block", "--bucket", bucket)
    code, stderr = aws_cli("s3api", "get-public-access-block", "--bucket", bucket, expect_error=True)
    assert code != 0 and "NoSuchPublicAccessBlockConfiguration" in stderr
    aws_cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", public_policy(bucket))
    status = aws_cli("s3api", "get-bucket-policy-status", "--bucket", bucket)
    assert status == {"PolicyStatus": {"IsPublic": True}}


# ------------------------------------------------------------------ durability


def test_configurations_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable")
    s3.put_bucket_tagging(Bucket="durable", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_public_access_block(Bucket="durable")
    s3.put_bucket_policy(Bucket="durable", Policy=public_policy("durable"))
    s3.delete_bucket_ownership_controls(Bucket="durable")
    s3.put_bucket_encryption(Bucket="durable", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.put_bucket_accelerate_configuration(Bucket="durable", AccelerateConfiguration={"Status": "Enabled"})
    s3.put_bucket_abac(Bucket="durable", AbacStatus={"Status": "Enabled"})
    s3.put_bucket_metrics_configuration(Bucket="durable", Id="m", MetricsConfiguration={"Id": "m"})
    s3.put_bucket_lifecycle_configuration(Bucket="durable", LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Status": "Enabled", "Prefix": "", "Expiration": {"Days": 30}}]})
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    assert s3.get_bucket_tagging(Bucket="durable")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.get_bucket_policy(Bucket="durable")["Policy"] == public_policy("durable")
    # Deleted defaults stay deleted.
    assert code_of(error_of(s3.get_public_access_block, Bucket="durable")) == (
        "NoSuchPublicAccessBlockConfiguration", 404)
    assert code_of(error_of(s3.get_bucket_ownership_controls, Bucket="durable")) == (
        "OwnershipControlsNotFoundError", 404)
    rule = s3.get_bucket_encryption(Bucket="durable")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_accelerate_configuration(Bucket="durable")["Status"] == "Enabled"
    assert s3.get_bucket_abac(Bucket="durable")["AbacStatus"] == {"Status": "Enabled"}
    assert s3.get_bucket_metrics_configuration(Bucket="durable", Id="m")["MetricsConfiguration"] == {"Id": "m"}
    assert s3.get_bucket_lifecycle_configuration(Bucket="durable")["Rules"][0]["ID"] == "expire"


# ------------------------------------------------------------------ malformed XML bodies


def _md5_b64(body: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.md5(body).digest()).decode()


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></Tagging>",  # TagSet is required
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",  # not closed
        b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",  # Tag.Key is required
    ],
)
def test_an_xml_body_missing_a_required_element_or_not_well_formed_is_malformed_xml(http, s3, bucket, body):
    r = http.signed("PUT", f"/{bucket}?tagging", "s3", body=body, headers={"Content-MD5": _md5_b64(body)})
    assert r.status_code == 400, r.text
    assert "<Code>MalformedXML</Code>" in r.text
    assert (
        "<Message>The XML you provided was not well-formed or did not validate against our published schema</Message>"
        in r.text
    )
    # Nothing was stored.
    assert error_of(s3.get_bucket_tagging, Bucket=bucket)["Error"]["Code"] == "NoSuchTagSet"


def test_a_value_of_the_wrong_type_in_an_xml_body_is_malformed_xml(http, bucket):
    body = (
        b"<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
        b"<Expiration><Days>ten</Days></Expiration></Rule></LifecycleConfiguration>"
    )
    r = http.signed("PUT", f"/{bucket}?lifecycle", "s3", body=body, headers={"Content-MD5": _md5_b64(body)})
    assert r.status_code == 400, r.text
    assert "<Code>MalformedXML</Code>" in r.text


# ------------------------------------------------------------------ CreateBucket headers


def test_create_bucket_stores_the_object_ownership_header(s3, unique_name):
    name = unique_name("own")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    default = unique_name("own")
    s3.create_bucket(Bucket=default)
    rules = s3.get_bucket_ownership_controls(Bucket=default)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_create_bucket_with_acls_enabled_stores_the_canned_acl_and_grants(s3, unique_name):
    name = unique_name("acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred", ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    assert any(g["Permission"] == "FULL_CONTROL" and g["Grantee"]["Type"] == "CanonicalUser" for g in grants)

    granted = unique_name("acl")
    s3.create_bucket(Bucket=granted, ObjectOwnership="ObjectWriter", GrantRead=f'uri="{ALL_USERS}"')
    grants = s3.get_bucket_acl(Bucket=granted)["Grants"]
    assert grants == [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]


def test_create_bucket_refuses_a_public_acl_with_bucket_owner_enforced(s3, unique_name):
    for ownership in ({}, {"ObjectOwnership": "BucketOwnerEnforced"}):
        name = unique_name("enf")
        err = error_of(s3.create_bucket, Bucket=name, ACL="public-read", **ownership)
        assert code_of(err) == ("InvalidBucketAclWithObjectOwnership", 400)
        assert err["Error"]["Message"] == (
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        )
        # No bucket was created.
        assert error_of(s3.head_bucket, Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The owner's own full control is the one ACL it accepts.
    name = unique_name("enf")
    s3.create_bucket(Bucket=name, ACL="private")
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=name)["Grants"]] == ["FULL_CONTROL"]
