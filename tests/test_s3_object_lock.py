"""S3 Object Lock: the bucket configuration (enabled at creation or on a versioned
bucket, default retention), retention and legal hold per version, the
x-amz-object-lock-* headers of PutObject, and enforcement: a version under retention or
legal hold cannot be deleted, GOVERNANCE yields to the bypass header, a delete without
version id still adds a marker. Retention ends on the emulated clock."""

from __future__ import annotations

import base64
import datetime
import hashlib

import botocore.config
import pytest

from s3_helpers import error_of

# Writes expected to fail send an empty body: kagami refuses them before reading the
# body, and a connection closed with request bytes unread can be reset before the client
# reads the error (the gateway does not drain unread bodies yet).

LOCKED = "Access Denied because object protected by object lock."


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture
def locked_bucket(s3, unique_name):
    name = unique_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def in_days(days: float) -> datetime.datetime:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now + datetime.timedelta(days=days)


def rule(mode: str, **period) -> dict:
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, **period}}}


# ------------------------------------------------------------------ configuration


def test_a_bucket_created_with_object_lock_reports_it_enabled_without_a_rule(s3, locked_bucket):
    config = s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"


def test_a_bucket_without_object_lock_has_no_configuration(s3, unique_name):
    name = unique_name("plain")
    s3.create_bucket(Bucket=name)
    err = error_of(s3.get_object_lock_configuration, Bucket=name)
    assert err["Error"]["Code"] == "ObjectLockConfigurationNotFoundError"
    assert err["Error"]["Message"] == "Object Lock configuration does not exist for this bucket"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_object_lock_needs_versioning_enabled_on_an_existing_bucket(s3, unique_name):
    name = unique_name("later")
    s3.create_bucket(Bucket=name)
    err = error_of(s3.put_object_lock_configuration, Bucket=name, ObjectLockConfiguration=rule("GOVERNANCE", Days=1))
    assert err["Error"]["Code"] == "InvalidBucketState"
    assert err["Error"]["Message"] == "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=rule("GOVERNANCE", Days=1))
    config = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert config == rule("GOVERNANCE", Days=1)
    # Once on, versioning can no longer be suspended.
    err = error_of(s3.put_bucket_versioning, Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert err["Error"]["Code"] == "InvalidBucketState"


def test_the_default_retention_rule_is_validated_and_can_be_replaced(s3, locked_bucket):
    for bad in (
        {},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "FOREVER", "Days": 1}}},
    ):
        err = error_of(s3.put_object_lock_configuration, Bucket=locked_bucket, ObjectLockConfiguration=bad)
        assert err["Error"]["Code"] == "MalformedXML", bad
    err = error_of(s3.put_object_lock_configuration, Bucket=locked_bucket, ObjectLockConfiguration=rule("COMPLIANCE", Days=0))
    assert err["Error"]["Code"] == "InvalidArgument"
    assert err["Error"]["Message"] == "Default retention period must be a positive integer value."
    s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration=rule("COMPLIANCE", Years=2))
    assert s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"] == rule("COMPLIANCE", Years=2)
    s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }


def test_lock_operations_on_a_bucket_without_object_lock_are_invalid_requests(s3, unique_name):
    name = unique_name("nolock")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    calls = [
        (s3.put_object_retention, {"Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)}}),
        (s3.get_object_retention, {}),
        (s3.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
        (s3.get_object_legal_hold, {}),
    ]
    for call, kwargs in calls:
        err = error_of(call, Bucket=name, Key="k", **kwargs)
        assert err["Error"]["Code"] == "InvalidRequest", call
        assert err["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = error_of(s3.put_object, Bucket=name, Key="h", Body=b"",
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(1))
    assert err["Error"]["Code"] == "InvalidRequest"
    assert error_of(s3.head_object, Bucket=name, Key="h")["ResponseMetadata"]["HTTPStatusCode"] == 404


# ------------------------------------------------------------------ retention and legal hold


def test_retention_from_headers_is_reported_and_blocks_version_deletes(s3, locked_bucket):
    until = in_days(2)
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x",
                            ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert retention == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    head = s3.head_object(Bucket=locked_bucket, Key="k")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", until)
    err = error_of(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("AccessDenied", LOCKED)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A delete without a version id is not a delete of the locked version: it adds a marker.
    assert s3.delete_object(Bucket=locked_bucket, Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked_bucket, Key="k", VersionId=version)["Body"].read() == b"x"


def test_lock_headers_must_come_together_and_lie_in_the_future(s3, locked_bucket):
    err = error_of(s3.put_object, Bucket=locked_bucket, Key="k", Body=b"", ObjectLockMode="GOVERNANCE")
    assert err["Error"]["Code"] == "InvalidArgument"
    assert err["Error"]["Message"] == (
        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
    )
    err = error_of(s3.put_object, Bucket=locked_bucket, Key="k", Body=b"",
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(-1))
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "InvalidArgument", "The retain until date must be in the future!",
    )
    err = error_of(s3.put_object_retention, Bucket=locked_bucket, Key="k",
                   Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)})
    assert err["Error"]["Code"] == "NoSuchKey"


def test_a_locked_write_needs_content_md5_or_a_checksum(aws_client, s3, locked_bucket):
    # Without checksums by default, botocore sends neither header, as older SDKs and
    # presigned uploads do.
    # A fresh client per request: after an early error to a request sent with
    # `Expect: 100-continue`, the gateway leaves the kept-alive connection hanging.
    def bare():
        return aws_client("s3", config=botocore.config.Config(request_checksum_calculation="when_required"))

    err = error_of(bare().put_object, Bucket=locked_bucket, Key="k", Body=b"",
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(1))
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    )
    # The bucket's default retention makes every write a locked one.
    bare().put_object(Bucket=locked_bucket, Key="plain", Body=b"no lock, no checksum needed")
    s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration=rule("GOVERNANCE", Days=1))
    err = error_of(bare().put_object, Bucket=locked_bucket, Key="k", Body=b"")
    assert err["Error"]["Code"] == "InvalidRequest"
    md5 = base64.b64encode(hashlib.md5(b"").digest()).decode()
    version = bare().put_object(Bucket=locked_bucket, Key="k", Body=b"", ContentMD5=md5)["VersionId"]
    assert s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]["Mode"] == "GOVERNANCE"


def test_governance_retention_yields_only_to_the_bypass_header(s3, locked_bucket):
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x",
                            ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(3))["VersionId"]
    err = error_of(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version)
    assert err["Error"]["Message"] == LOCKED
    # Shortening needs the bypass too; lengthening does not.
    err = error_of(s3.put_object_retention, Bucket=locked_bucket, Key="k", VersionId=version,
                   Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)})
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    s3.put_object_retention(Bucket=locked_bucket, Key="k", VersionId=version,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(4)})
    shorter = in_days(1)
    s3.put_object_retention(Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter})
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert retention["RetainUntilDate"] == shorter
    answer = s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert answer["VersionId"] == version
    assert error_of(s3.get_object, Bucket=locked_bucket, Key="k", VersionId=version)["Error"]["Code"] == "NoSuchVersion"


def test_compliance_retention_can_be_extended_but_never_shortened(s3, locked_bucket):
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x",
                            ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=in_days(2))["VersionId"]
    for retention in (
        {"Mode": "COMPLIANCE", "RetainUntilDate": in_days(1)},
        {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(5)},
    ):
        err = error_of(s3.put_object_retention, Bucket=locked_bucket, Key="k", VersionId=version,
                       BypassGovernanceRetention=True, Retention=retention)
        assert err["Error"]["Code"] == "AccessDenied", retention
    longer = in_days(3)
    s3.put_object_retention(Bucket=locked_bucket, Key="k", VersionId=version,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": longer})
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert retention == {"Mode": "COMPLIANCE", "RetainUntilDate": longer}


def test_a_version_without_retention_has_no_lock_configuration(s3, locked_bucket):
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")
    err = error_of(s3.get_object_retention, Bucket=locked_bucket, Key="k")
    assert err["Error"]["Code"] == "NoSuchObjectLockConfiguration"
    assert err["Error"]["Message"] == "The specified object does not have a ObjectLock configuration"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_of(s3.get_object_legal_hold, Bucket=locked_bucket, Key="k")["Error"]["Code"] == (
        "NoSuchObjectLockConfiguration"
    )


def test_legal_hold_blocks_deletes_even_with_the_bypass_until_released(s3, locked_bucket):
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="k")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=locked_bucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    err = error_of(s3.delete_object, Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("AccessDenied", LOCKED)
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="k", VersionId=version)["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)
    err = error_of(s3.put_object_legal_hold, Bucket=locked_bucket, Key="k", LegalHold={"Status": "MAYBE"})
    assert err["Error"]["Code"] == "MalformedXML"


def test_the_default_retention_applies_to_new_versions(s3, locked_bucket):
    s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration=rule("GOVERNANCE", Days=1))
    before = datetime.datetime.now(datetime.timezone.utc)
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")["VersionId"]
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    expected = before + datetime.timedelta(days=1)
    assert abs((retention["RetainUntilDate"] - expected).total_seconds()) < 60
    # Explicit headers win over the rule.
    explicit = s3.put_object(Bucket=locked_bucket, Key="e", Body=b"x",
                             ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=in_days(5))["VersionId"]
    assert s3.get_object_retention(Bucket=locked_bucket, Key="e", VersionId=explicit)["Retention"]["Mode"] == "COMPLIANCE"


def test_delete_objects_reports_locked_versions_as_errors(s3, locked_bucket):
    locked = s3.put_object(Bucket=locked_bucket, Key="locked", Body=b"x",
                           ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(1))["VersionId"]
    free = s3.put_object(Bucket=locked_bucket, Key="free", Body=b"y")["VersionId"]
    answer = s3.delete_objects(Bucket=locked_bucket, Delete={"Objects": [
        {"Key": "locked", "VersionId": locked}, {"Key": "free", "VersionId": free}, {"Key": "locked"},
    ]})
    assert answer["Errors"] == [{"Key": "locked", "VersionId": locked, "Code": "AccessDenied", "Message": LOCKED}]
    deleted = {(d["Key"], d.get("VersionId")): d for d in answer["Deleted"]}
    assert deleted[("free", free)] == {"Key": "free", "VersionId": free}
    assert deleted[("locked", None)]["DeleteMarker"] is True
    answer = s3.delete_objects(Bucket=locked_bucket, BypassGovernanceRetention=True,
                               Delete={"Objects": [{"Key": "locked", "VersionId": locked}]})
    assert answer["Deleted"] == [{"Key": "locked", "VersionId": locked}]


def test_a_delete_marker_has_no_lock_and_405s_lock_reads(s3, locked_bucket):
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    marker = s3.delete_object(Bucket=locked_bucket, Key="k")["VersionId"]
    err = error_of(s3.get_object_legal_hold, Bucket=locked_bucket, Key="k", VersionId=marker)
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("MethodNotAllowed", 405)
    s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=marker)


def test_another_account_is_denied_lock_operations(aws_client, s3, locked_bucket):
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")
    other = aws_client("s3", account="333333333333")
    for call, kwargs in [
        (other.get_object_lock_configuration, {}),
        (other.put_object_lock_configuration, {"ObjectLockConfiguration": rule("GOVERNANCE", Days=1)}),
        (other.get_object_legal_hold, {"Key": "k"}),
        (other.put_object_legal_hold, {"Key": "k", "LegalHold": {"Status": "ON"}}),
        (other.get_object_retention, {"Key": "k"}),
    ]:
        err = error_of(call, Bucket=locked_bucket, **kwargs)
        assert err["Error"]["Code"] == "AccessDenied", call
    assert s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }


def test_the_cli_sets_a_legal_hold(aws_cli, s3, locked_bucket):
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")
    aws_cli("s3api", "put-object-legal-hold", "--bucket", locked_bucket, "--key", "k", "--legal-hold", "Status=ON")
    assert aws_cli("s3api", "get-object-legal-hold", "--bucket", locked_bucket, "--key", "k") == {
        "LegalHold": {"Status": "ON"}
    }


# ------------------------------------------------------------------ the emulated clock


def test_retention_ends_when_the_emulated_clock_passes_it(kagami_process):
    server = kagami_process()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="clocked", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="clocked", ObjectLockConfiguration=rule("COMPLIANCE", Days=1))
    version = s3.put_object(Bucket="clocked", Key="k", Body=b"x")["VersionId"]
    err = error_of(s3.delete_object, Bucket="clocked", Key="k", VersionId=version)
    assert err["Error"]["Message"] == LOCKED
    assert server.advance_clock(23 * 3600).status_code == 200
    assert error_of(s3.delete_object, Bucket="clocked", Key="k", VersionId=version)["Error"]["Code"] == "AccessDenied"
    assert server.advance_clock(3600 + 60).status_code == 200
    # An expired COMPLIANCE retention no longer protects the version.
    assert s3.delete_object(Bucket="clocked", Key="k", VersionId=version)["VersionId"] == version
    assert error_of(s3.head_object, Bucket="clocked", Key="k", VersionId=version)["Error"]["Code"] == "404"
