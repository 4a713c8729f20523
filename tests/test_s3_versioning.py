"""S3 versioning and DeleteObjects: the versioning state (Enabled, Suspended, MFA
Delete), the null version, stacked versions, reads and deletes by version id, delete
markers, suspended writes, DeleteObjects in all its answers, other accounts, and
versions surviving kill -9."""

from __future__ import annotations

import pytest

from s3_helpers import aws_s3, error_of

MFA = "arn:aws:iam::000000000000:mfa/root-account-mfa-device 123456"


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture
def bucket(s3, unique_name):
    name = unique_name("ver")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def body_of(s3, bucket, key, **kwargs) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


def headers_of(error: dict) -> dict:
    return error["ResponseMetadata"]["HTTPHeaders"]


# ------------------------------------------------------------------ versioning state


def test_a_bucket_that_never_had_versioning_reports_no_status(s3, bucket):
    answer = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in answer and "MFADelete" not in answer


def test_versioning_can_be_enabled_and_suspended_but_never_removed(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    answer = s3.get_bucket_versioning(Bucket=bucket)
    assert answer["Status"] == "Suspended"
    assert "MFADelete" not in answer


def test_a_status_other_than_enabled_or_suspended_is_malformed_xml(s3, bucket):
    err = error_of(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    assert err["Error"]["Code"] == "MalformedXML"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = error_of(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={})
    assert err["Error"]["Code"] == "IllegalVersioningConfigurationException"
    assert err["Error"]["Message"] == "The Versioning element must be specified"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_mfa_delete_needs_the_mfa_header_and_then_guards_version_deletes(s3, bucket):
    err = error_of(
        s3.put_bucket_versioning,
        Bucket=bucket,
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
    )
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["Error"]["Message"] == "Mfa Authentication must be used for this request"
    s3.put_bucket_versioning(
        Bucket=bucket, MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
    )
    answer = s3.get_bucket_versioning(Bucket=bucket)
    assert (answer["Status"], answer["MFADelete"]) == ("Enabled", "Enabled")
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    # A delete marker needs no MFA; removing a version for good does.
    assert s3.delete_object(Bucket=bucket, Key="k")["DeleteMarker"] is True
    err = error_of(s3.delete_object, Bucket=bucket, Key="k", VersionId=version)
    assert err["Error"]["Message"] == "Mfa Authentication must be used for this request"
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=version, MFA=MFA)["VersionId"] == version
    s3.put_bucket_versioning(
        Bucket=bucket, MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"}
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Disabled"


def test_a_bucket_with_object_lock_cannot_be_suspended(s3, unique_name):
    name = unique_name("locked")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    # Enabling what is already enabled is accepted (infrastructure tools send it).
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    err = error_of(s3.put_bucket_versioning, Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert err["Error"]["Code"] == "InvalidBucketState"
    assert err["Error"]["Message"] == (
        "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
    )
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"


# ------------------------------------------------------------------ versions


def test_objects_written_before_versioning_become_the_null_version(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert "VersionId" not in first
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # Once the bucket has had versioning, the old object reports the null version.
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"after")["VersionId"]
    assert second != "null" and len(second) == 32
    assert body_of(s3, bucket, "k") == b"after"
    assert body_of(s3, bucket, "k", VersionId="null") == b"before"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["VersionId"] == "null"


def test_versions_stack_and_each_is_readable_and_deletable_by_id(s3, versioned):
    ids = [s3.put_object(Bucket=versioned, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    assert len(set(ids)) == 3
    for i, version in enumerate(ids):
        got = s3.get_object(Bucket=versioned, Key="k", VersionId=version)
        assert got["Body"].read() == f"v{i}".encode()
        assert got["VersionId"] == version
        assert s3.head_object(Bucket=versioned, Key="k", VersionId=version)["ContentLength"] == 2
    assert s3.get_object(Bucket=versioned, Key="k")["VersionId"] == ids[2]
    deleted = s3.delete_object(Bucket=versioned, Key="k", VersionId=ids[2])
    assert deleted["VersionId"] == ids[2]
    assert "DeleteMarker" not in deleted
    # Removing the newest version makes the one before it current again.
    assert body_of(s3, versioned, "k") == b"v1"
    err = error_of(s3.get_object, Bucket=versioned, Key="k", VersionId=ids[2])
    assert err["Error"]["Code"] == "NoSuchVersion"
    assert err["Error"]["Message"] == "The specified version does not exist."
    assert err["Error"]["VersionId"] == ids[2]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_of(s3.head_object, Bucket=versioned, Key="k", VersionId=ids[2])["Error"]["Code"] == "404"


def test_a_delete_without_version_adds_a_delete_marker_that_hides_the_object(s3, versioned):
    version = s3.put_object(Bucket=versioned, Key="k", Body=b"kept")["VersionId"]
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    assert marker not in (version, "null")

    err = error_of(s3.get_object, Bucket=versioned, Key="k")
    assert err["Error"]["Code"] == "NoSuchKey"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert headers_of(err)["x-amz-delete-marker"] == "true"
    assert headers_of(err)["x-amz-version-id"] == marker
    err = error_of(s3.head_object, Bucket=versioned, Key="k")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert headers_of(err)["x-amz-delete-marker"] == "true"

    # The marker itself is a version one cannot read.
    err = error_of(s3.get_object, Bucket=versioned, Key="k", VersionId=marker)
    assert err["Error"]["Code"] == "MethodNotAllowed"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert headers_of(err)["x-amz-delete-marker"] == "true"
    assert err["Error"]["Method"] == "GET" and err["Error"]["ResourceType"] == "DeleteMarker"
    assert error_of(s3.head_object, Bucket=versioned, Key="k", VersionId=marker)["ResponseMetadata"]["HTTPStatusCode"] == 405

    # The old version is still there; deleting the marker brings it back.
    assert body_of(s3, versioned, "k", VersionId=version) == b"kept"
    undone = s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert undone["DeleteMarker"] is True and undone["VersionId"] == marker
    assert body_of(s3, versioned, "k") == b"kept"


def test_suspended_writes_replace_the_null_version_and_keep_older_versions(s3, versioned):
    kept = s3.put_object(Bucket=versioned, Key="k", Body=b"enabled")["VersionId"]
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=versioned, Key="k", Body=b"null-1")["VersionId"] == "null"
    assert s3.put_object(Bucket=versioned, Key="k", Body=b"null-2")["VersionId"] == "null"
    assert body_of(s3, versioned, "k", VersionId="null") == b"null-2"
    assert body_of(s3, versioned, "k", VersionId=kept) == b"enabled"
    # A suspended delete writes a null delete marker, replacing the null version.
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted == deleted | {"DeleteMarker": True, "VersionId": "null"}
    assert error_of(s3.get_object, Bucket=versioned, Key="k", VersionId="null")["Error"]["Code"] == "MethodNotAllowed"
    assert body_of(s3, versioned, "k", VersionId=kept) == b"enabled"
    s3.delete_object(Bucket=versioned, Key="k", VersionId="null")
    assert body_of(s3, versioned, "k") == b"enabled"


def test_unversioned_deletes_remove_the_object_and_report_no_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert "VersionId" not in deleted and "DeleteMarker" not in deleted
    assert error_of(s3.get_object, Bucket=bucket, Key="k")["Error"]["Code"] == "NoSuchKey"
    s3.delete_bucket(Bucket=bucket)


def test_a_bucket_with_only_a_delete_marker_is_not_empty(s3, versioned):
    version = s3.put_object(Bucket=versioned, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=versioned, Key="k")["VersionId"]
    s3.delete_object(Bucket=versioned, Key="k", VersionId=version)
    assert error_of(s3.delete_bucket, Bucket=versioned)["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    s3.delete_bucket(Bucket=versioned)


def test_the_cli_enables_versioning_and_reads_a_version(aws_cli, s3, bucket, tmp_path):
    aws_cli("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    assert aws_cli("s3api", "get-bucket-versioning", "--bucket", bucket) == {"Status": "Enabled"}
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    out = tmp_path / "k"
    head = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "k", "--version-id", first, str(out))
    assert head["VersionId"] == first
    assert out.read_bytes() == b"one"


# ------------------------------------------------------------------ DeleteObjects


def test_delete_objects_in_an_unversioned_bucket_reports_each_key(s3, bucket):
    for key in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]})
    assert sorted(answer["Deleted"], key=lambda d: d["Key"]) == [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]
    assert "Errors" not in answer
    assert error_of(s3.head_object, Bucket=bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_objects_adds_markers_and_removes_named_versions(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="a", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=versioned, Key="a", Body=b"2")["VersionId"]
    s3.put_object(Bucket=versioned, Key="b", Body=b"b")
    answer = s3.delete_objects(
        Bucket=versioned, Delete={"Objects": [{"Key": "a", "VersionId": v2}, {"Key": "b"}]}
    )
    by_key = {d["Key"]: d for d in answer["Deleted"]}
    assert by_key["a"] == {"Key": "a", "VersionId": v2}
    assert by_key["b"]["DeleteMarker"] is True
    marker = by_key["b"]["DeleteMarkerVersionId"]
    assert "VersionId" not in by_key["b"]
    assert body_of(s3, versioned, "a") == b"1"
    assert body_of(s3, versioned, "a", VersionId=v1) == b"1"
    assert error_of(s3.get_object, Bucket=versioned, Key="b")["Error"]["Code"] == "NoSuchKey"
    # Deleting the marker by its version id reports that it was one.
    answer = s3.delete_objects(Bucket=versioned, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert answer["Deleted"] == [
        {"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}
    ]
    assert body_of(s3, versioned, "b") == b"b"


def test_quiet_delete_objects_reports_only_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}], "Quiet": True})
    assert "Deleted" not in answer and "Errors" not in answer
    assert error_of(s3.head_object, Bucket=bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_objects_takes_at_most_1000_keys(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k0", Body=b"x")
    err = error_of(s3.delete_objects, Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert err["Error"]["Code"] == "MalformedXML"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.head_object(Bucket=bucket, Key="k0")["ContentLength"] == 1
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)]})
    assert len(answer["Deleted"]) == 1000
    assert error_of(s3.head_object, Bucket=bucket, Key="k0")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_objects_reports_a_failing_key_among_deleted_ones(s3, versioned):
    s3.put_bucket_versioning(
        Bucket=versioned, MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
    )
    version = s3.put_object(Bucket=versioned, Key="guarded", Body=b"x")["VersionId"]
    s3.put_object(Bucket=versioned, Key="free", Body=b"y")
    answer = s3.delete_objects(
        Bucket=versioned,
        Delete={"Objects": [{"Key": "guarded", "VersionId": version}, {"Key": "free"}], "Quiet": True},
    )
    assert "Deleted" not in answer
    assert answer["Errors"] == [
        {
            "Key": "guarded",
            "VersionId": version,
            "Code": "AccessDenied",
            "Message": "Mfa Authentication must be used for this request",
        }
    ]
    assert body_of(s3, versioned, "guarded", VersionId=version) == b"x"
    assert error_of(s3.get_object, Bucket=versioned, Key="free")["Error"]["Code"] == "NoSuchKey"


def test_delete_objects_honours_an_etag_condition_per_key(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["ETag"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a", "ETag": etag}, {"Key": "b", "ETag": '"00000000000000000000000000000000"'}]},
    )
    assert answer["Deleted"] == [{"Key": "a"}]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("b", "PreconditionFailed")]
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"2"


def test_the_cli_deletes_several_objects(aws_cli, s3, bucket):
    for key in ("x/1", "x/2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    answer = aws_cli(
        "s3api", "delete-objects", "--bucket", bucket,
        "--delete", '{"Objects":[{"Key":"x/1"},{"Key":"x/2"}]}',
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["x/1", "x/2"]


def test_cli_recursive_remove_deletes_every_object(kagami, s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"dir/{i}", Body=b"x")
    aws_s3(kagami.endpoint, "s3", "rm", f"s3://{bucket}/dir/", "--recursive")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_bucket(Bucket=bucket)


# ------------------------------------------------------------------ accounts, durability


def test_another_account_is_denied_versioning_and_deletes(aws_client, s3, versioned):
    version = s3.put_object(Bucket=versioned, Key="k", Body=b"x")["VersionId"]
    other = aws_client("s3", account="111111111111")
    for call, kwargs in [
        (other.get_bucket_versioning, {}),
        (other.put_bucket_versioning, {"VersioningConfiguration": {"Status": "Suspended"}}),
        (other.delete_objects, {"Delete": {"Objects": [{"Key": "k"}]}}),
        (other.delete_object, {"Key": "k", "VersionId": version}),
    ]:
        err = error_of(call, Bucket=versioned, **kwargs)
        assert err["Error"]["Code"] == "AccessDenied", call
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_bucket_versioning(Bucket=versioned)["Status"] == "Enabled"
    assert body_of(s3, versioned, "k", VersionId=version) == b"x"


def test_versions_markers_tags_and_locks_survive_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable-versions", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket="durable-versions",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    v1 = s3.put_object(Bucket="durable-versions", Key="k", Body=b"one", Tagging="stage=first")["VersionId"]
    v2 = s3.put_object(Bucket="durable-versions", Key="k", Body=b"two")["VersionId"]
    s3.put_object_legal_hold(Bucket="durable-versions", Key="k", VersionId=v2, LegalHold={"Status": "ON"})
    s3.put_object_tagging(
        Bucket="durable-versions", Key="k", VersionId=v2, Tagging={"TagSet": [{"Key": "stage", "Value": "second"}]}
    )
    marker = s3.delete_object(Bucket="durable-versions", Key="k")["VersionId"]
    retention = s3.get_object_retention(Bucket="durable-versions", Key="k", VersionId=v1)["Retention"]
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    assert s3.get_bucket_versioning(Bucket="durable-versions")["Status"] == "Enabled"
    assert error_of(s3.get_object, Bucket="durable-versions", Key="k")["Error"]["Code"] == "NoSuchKey"
    assert error_of(s3.get_object, Bucket="durable-versions", Key="k", VersionId=marker)["Error"]["Code"] == "MethodNotAllowed"
    assert body_of(s3, "durable-versions", "k", VersionId=v1) == b"one"
    assert body_of(s3, "durable-versions", "k", VersionId=v2) == b"two"
    tags = s3.get_object_tagging(Bucket="durable-versions", Key="k", VersionId=v1)["TagSet"]
    assert tags == [{"Key": "stage", "Value": "first"}]
    tags = s3.get_object_tagging(Bucket="durable-versions", Key="k", VersionId=v2)["TagSet"]
    assert tags == [{"Key": "stage", "Value": "second"}]
    assert s3.get_object_retention(Bucket="durable-versions", Key="k", VersionId=v1)["Retention"] == retention
    hold = s3.get_object_legal_hold(Bucket="durable-versions", Key="k", VersionId=v2)["LegalHold"]
    assert hold == {"Status": "ON"}
    rule = s3.get_object_lock_configuration(Bucket="durable-versions")["ObjectLockConfiguration"]["Rule"]
    assert rule == {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    err = error_of(s3.delete_object, Bucket="durable-versions", Key="k", VersionId=v1)
    assert err["Error"]["Message"] == "Access Denied because object protected by object lock."


# ------------------------------------------------------------------ raw listing XML


def test_list_object_versions_interleaves_versions_and_delete_markers_in_listing_order(http, s3, versioned):
    # AWS lists one key's versions newest first, delete markers in their place among
    # them, rather than all <Version> elements followed by all <DeleteMarker> elements.
    s3.put_object(Bucket=versioned, Key="a", Body=b"1")
    s3.delete_object(Bucket=versioned, Key="a")
    s3.put_object(Bucket=versioned, Key="a", Body=b"2")
    s3.delete_object(Bucket=versioned, Key="a")
    s3.put_object(Bucket=versioned, Key="b", Body=b"3")
    r = http.signed("GET", f"/{versioned}?versions", "s3")
    assert r.status_code == 200, r.text
    import xml.etree.ElementTree as ET

    root = ET.fromstring(r.content)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    entries = [
        (child.tag.removeprefix(ns), child.findtext(f"{ns}Key"), child.findtext(f"{ns}IsLatest"))
        for child in root
        if child.tag in (f"{ns}Version", f"{ns}DeleteMarker")
    ]
    assert entries == [
        ("DeleteMarker", "a", "true"),
        ("Version", "a", "false"),
        ("DeleteMarker", "a", "false"),
        ("Version", "a", "false"),
        ("Version", "b", "true"),
    ]
    # The typed view of an SDK is unchanged.
    answer = s3.list_object_versions(Bucket=versioned)
    assert [v["Key"] for v in answer["Versions"]] == ["a", "a", "b"]
    assert [m["IsLatest"] for m in answer["DeleteMarkers"]] == [True, False]


def test_xml_timestamps_always_carry_milliseconds(http, s3, versioned):
    s3.put_object(Bucket=versioned, Key="k", Body=b"1")
    s3.delete_object(Bucket=versioned, Key="k")
    s3.put_object(Bucket=versioned, Key="live", Body=b"1")
    import re

    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    listings = {
        f"/{versioned}?versions": ["LastModified"],
        f"/{versioned}": ["LastModified"],
        f"/{versioned}?list-type=2": ["LastModified"],
        "/": ["CreationDate"],
    }
    for path, fields in listings.items():
        r = http.signed("GET", path, "s3")
        assert r.status_code == 200, (path, r.text)
        for field in fields:
            values = re.findall(rf"<{field}>([^<]*)</{field}>", r.text)
            assert values, (path, field, r.text[:500])
            assert all(stamp.match(v) for v in values), (path, values)
    s3.put_object(Bucket=versioned, Key="k", Body=b"2")
    copy = http.signed("PUT", f"/{versioned}/copy", "s3", headers={"x-amz-copy-source": f"/{versioned}/k"})
    assert copy.status_code == 200, copy.text
    last = re.findall(r"<LastModified>([^<]*)</LastModified>", copy.text)
    assert len(last) == 1 and stamp.match(last[0]), copy.text


# ------------------------------------------------------------------ version id syntax


@pytest.mark.parametrize(
    "call",
    ["get_object", "head_object", "delete_object", "get_object_tagging", "delete_object_tagging", "get_object_acl"],
)
def test_a_version_id_s3_could_not_have_issued_is_an_invalid_argument(s3, versioned, call):
    s3.put_object(Bucket=versioned, Key="k", Body=b"1")
    err = error_of(getattr(s3, call), Bucket=versioned, Key="k", VersionId="not-a-version")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    if call != "head_object":  # HEAD answers carry no body
        assert err["Error"]["Code"] == "InvalidArgument"
        assert err["Error"]["Message"] == "Invalid version id specified"
        assert err["Error"]["ArgumentName"] == "versionId"
        assert err["Error"]["ArgumentValue"] == "not-a-version"
    # The object is untouched.
    assert body_of(s3, versioned, "k") == b"1"


def test_a_well_formed_unknown_version_id_is_no_such_version_and_null_is_accepted(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    err = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId="A" * 32)
    assert err["Error"]["Code"] == "NoSuchVersion"
    assert body_of(s3, bucket, "k", VersionId="null") == b"1"


# ------------------------------------------------------------------ DeleteObjects integrity


def test_delete_objects_requires_content_md5_or_a_checksum_header(http, s3, bucket):
    import base64
    import hashlib
    import zlib

    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    body = b"<Delete><Object><Key>k</Key></Object><Quiet>true</Quiet></Delete>"
    r = http.signed("POST", f"/{bucket}?delete", "s3", body=body)
    assert r.status_code == 400, r.text
    assert "<Code>InvalidRequest</Code>" in r.text
    assert "<Message>Missing required header for this request: Content-MD5</Message>" in r.text
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    r = http.signed("POST", f"/{bucket}?delete", "s3", body=body, headers={"x-amz-checksum-crc32": crc})
    assert r.status_code == 200, r.text
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = http.signed("POST", f"/{bucket}?delete", "s3", body=body, headers={"Content-MD5": md5})
    assert r.status_code == 200, r.text
    assert error_of(s3.head_object, Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 404
