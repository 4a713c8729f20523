"""CopyObject as AWS answers it: sources by bucket/key/version, copy-source
conditions, metadata and tagging directives, the illegal copy onto itself, versioned
and cross-account copies, encryption, and `aws s3 cp` between buckets."""

from __future__ import annotations

import datetime
import hashlib

import pytest

from s3_helpers import aws_s3, error_of


@pytest.fixture
def buckets(aws_client, unique_name):
    s3 = aws_client("s3")
    names = unique_name("src"), unique_name("dst")
    for n in names:
        s3.create_bucket(Bucket=n)
    return names


def status(response) -> int:
    return response["ResponseMetadata"]["HTTPStatusCode"]


def test_copy_between_buckets_keeps_bytes_etag_and_metadata(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    body = b"copy me" * 1000
    put = s3.put_object(Bucket=src, Key="dir/a b+c.txt", Body=body, ContentType="text/plain",
                        Metadata={"owner": "alice"}, CacheControl="no-cache")
    copied = s3.copy_object(Bucket=dst, Key="copy.txt", CopySource={"Bucket": src, "Key": "dir/a b+c.txt"})
    result = copied["CopyObjectResult"]
    assert result["ETag"] == put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert result["LastModified"] is not None
    assert copied["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=dst, Key="copy.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "alice"}
    assert got["CacheControl"] == "no-cache"
    # The source is untouched.
    assert s3.get_object(Bucket=src, Key="dir/a b+c.txt")["Body"].read() == body


def test_copy_source_as_a_string_with_a_leading_slash(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.copy_object(Bucket=dst, Key="k", CopySource=f"/{src}/k")
    assert s3.get_object(Bucket=dst, Key="k")["Body"].read() == b"x"


def test_metadata_directive_replace(aws_client, buckets):
    src, _ = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x", ContentType="text/plain", Metadata={"a": "1"})
    s3.copy_object(Bucket=src, Key="k2", CopySource={"Bucket": src, "Key": "k"}, MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="application/json")
    head = s3.head_object(Bucket=src, Key="k2")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "application/json"
    # COPY ignores the request's metadata.
    s3.copy_object(Bucket=src, Key="k3", CopySource={"Bucket": src, "Key": "k"}, Metadata={"ignored": "yes"})
    assert s3.head_object(Bucket=src, Key="k3")["Metadata"] == {"a": "1"}
    err = error_of(s3.copy_object, Bucket=src, Key="k4", CopySource={"Bucket": src, "Key": "k"},
                   MetadataDirective="MERGE")
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidArgument")


def test_copying_an_object_onto_itself_needs_a_change(aws_client, buckets):
    src, _ = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x", Metadata={"a": "1"})
    err = error_of(s3.copy_object, Bucket=src, Key="k", CopySource={"Bucket": src, "Key": "k"})
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidRequest")
    assert err["Error"]["Message"] == (
        "This copy request is illegal because it is trying to copy an object to itself without changing "
        "the object's metadata, storage class, website redirect location or encryption attributes."
    )
    s3.copy_object(Bucket=src, Key="k", CopySource={"Bucket": src, "Key": "k"}, MetadataDirective="REPLACE",
                   Metadata={"a": "2"})
    assert s3.head_object(Bucket=src, Key="k")["Metadata"] == {"a": "2"}
    s3.copy_object(Bucket=src, Key="k", CopySource={"Bucket": src, "Key": "k"}, StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=src, Key="k")["StorageClass"] == "STANDARD_IA"
    s3.copy_object(Bucket=src, Key="k", CopySource={"Bucket": src, "Key": "k"}, ServerSideEncryption="AES256")


def test_copy_source_conditions(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    etag = s3.put_object(Bucket=src, Key="k", Body=b"x")["ETag"]
    modified = s3.head_object(Bucket=src, Key="k")["LastModified"]
    earlier = modified - datetime.timedelta(hours=1)
    later = modified + datetime.timedelta(seconds=30)
    source = {"Bucket": src, "Key": "k"}
    ok = [
        {"CopySourceIfMatch": etag},
        {"CopySourceIfNoneMatch": '"0000"'},
        {"CopySourceIfModifiedSince": earlier},
        {"CopySourceIfUnmodifiedSince": later},
        {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": earlier},
    ]
    for conditions in ok:
        assert status(s3.copy_object(Bucket=dst, Key="k", CopySource=source, **conditions)) == 200, conditions
    failing = [
        {"CopySourceIfMatch": '"0000"'},
        {"CopySourceIfNoneMatch": etag},
        {"CopySourceIfModifiedSince": modified},
        {"CopySourceIfUnmodifiedSince": earlier},
        {"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": earlier},
    ]
    for conditions in failing:
        err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource=source, **conditions)
        assert (status(err), err["Error"]["Code"]) == (412, "PreconditionFailed"), conditions


def test_tagging_directive(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.copy_object(Bucket=dst, Key="replaced", CopySource={"Bucket": src, "Key": "k"},
                   TaggingDirective="REPLACE", Tagging="team=blue&env=dev%20box")
    assert s3.head_object(Bucket=dst, Key="replaced")["TagCount"] == 2
    s3.copy_object(Bucket=dst, Key="copied", CopySource={"Bucket": dst, "Key": "replaced"})
    assert s3.head_object(Bucket=dst, Key="copied")["TagCount"] == 2
    try:
        tags = s3.get_object_tagging(Bucket=dst, Key="replaced")["TagSet"]
    except s3.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            return
        raise
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "blue", "env": "dev box"}
    s3.copy_object(Bucket=dst, Key="copied", CopySource={"Bucket": dst, "Key": "replaced"})
    tags = s3.get_object_tagging(Bucket=dst, Key="copied")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "blue", "env": "dev box"}
    err = error_of(s3.copy_object, Bucket=dst, Key="x", CopySource={"Bucket": dst, "Key": "replaced"},
                   TaggingDirective="KEEP")
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidArgument")


def test_missing_sources(aws_client, buckets, unique_name):
    src, dst = buckets
    s3 = aws_client("s3")
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "nope"})
    assert (status(err), err["Error"]["Code"]) == (404, "NoSuchKey")
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": unique_name("gone"), "Key": "k"})
    assert (status(err), err["Error"]["Code"]) == (404, "NoSuchBucket")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    err = error_of(s3.copy_object, Bucket=unique_name("gone"), Key="k", CopySource={"Bucket": src, "Key": "k"})
    assert (status(err), err["Error"]["Code"]) == (404, "NoSuchBucket")


def test_a_source_bucket_of_another_account_is_access_denied(aws_client, buckets, unique_name):
    src, _ = buckets
    mine = aws_client("s3")
    mine.put_object(Bucket=src, Key="k", Body=b"x")
    other = aws_client("s3", account="111122223333")
    theirs = unique_name("theirs")
    other.create_bucket(Bucket=theirs)
    err = error_of(other.copy_object, Bucket=theirs, Key="k", CopySource={"Bucket": src, "Key": "k"})
    assert (status(err), err["Error"]["Code"]) == (403, "AccessDenied")


def test_versioned_sources_and_destinations(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    try:
        for b in buckets:
            s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    except s3.exceptions.ClientError:
        pytest.skip("bucket versioning is not implemented in this build")
    v1 = s3.put_object(Bucket=src, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=src, Key="k", Body=b"two")["VersionId"]
    copied = s3.copy_object(Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "k", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1
    assert copied["VersionId"] and copied["VersionId"] not in (v1, v2)
    assert s3.get_object(Bucket=dst, Key="k", VersionId=copied["VersionId"])["Body"].read() == b"one"
    latest = s3.copy_object(Bucket=dst, Key="k2", CopySource={"Bucket": src, "Key": "k"})
    assert latest["CopySourceVersionId"] == v2
    # Restoring an old version onto the same key is a legal copy onto itself.
    restored = s3.copy_object(Bucket=src, Key="k", CopySource={"Bucket": src, "Key": "k", "VersionId": v1})
    assert s3.get_object(Bucket=src, Key="k")["Body"].read() == b"one"
    assert restored["VersionId"] not in (v1, v2)
    marker = s3.delete_object(Bucket=src, Key="k")["VersionId"]
    err = error_of(s3.copy_object, Bucket=dst, Key="k3", CopySource={"Bucket": src, "Key": "k"})
    assert (status(err), err["Error"]["Code"]) == (404, "NoSuchKey")
    err = error_of(s3.copy_object, Bucket=dst, Key="k3", CopySource={"Bucket": src, "Key": "k", "VersionId": marker})
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidRequest")


def test_copy_encryption(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    key = b"c" * 32
    # botocore base64-encodes the key and adds its MD5 itself.
    customer = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    s3.put_object(Bucket=src, Key="secret", Body=b"s", **customer)
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "secret"})
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidRequest")
    copied = s3.copy_object(Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "secret"},
                            CopySourceSSECustomerAlgorithm="AES256",
                            CopySourceSSECustomerKey=customer["SSECustomerKey"],
                            ServerSideEncryption="aws:kms")
    assert copied["ServerSideEncryption"] == "aws:kms"
    assert copied["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:000000000000:")
    assert s3.get_object(Bucket=dst, Key="k")["Body"].read() == b"s"


def test_copy_conditional_destination(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.put_object(Bucket=dst, Key="taken", Body=b"y")
    err = error_of(s3.copy_object, Bucket=dst, Key="taken", CopySource={"Bucket": src, "Key": "k"}, IfNoneMatch="*")
    assert (status(err), err["Error"]["Code"]) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=dst, Key="taken")["Body"].read() == b"y"


def test_the_cli_copies_between_buckets(aws_client, kagami, buckets, tmp_path):
    src, dst = buckets
    s3 = aws_client("s3")
    body = b"cli copy" * 4096
    s3.put_object(Bucket=src, Key="from.bin", Body=body)
    aws_s3(kagami.endpoint, "s3", "cp", f"s3://{src}/from.bin", f"s3://{dst}/to.bin")
    assert s3.get_object(Bucket=dst, Key="to.bin")["Body"].read() == body
    out = tmp_path / "back.bin"
    aws_s3(kagami.endpoint, "s3", "cp", f"s3://{dst}/to.bin", str(out))
    assert out.read_bytes() == body


def test_copy_survives_a_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable")
    s3.put_object(Bucket="durable", Key="a", Body=b"durable bytes")
    s3.copy_object(Bucket="durable", Key="b", CopySource="durable/a")
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    assert s3.get_object(Bucket="durable", Key="b")["Body"].read() == b"durable bytes"


def test_copy_checksums(aws_client, buckets):
    import base64
    import zlib

    src, dst = buckets
    s3 = aws_client("s3")
    body = b"checksummed" * 100
    s3.put_object(Bucket=src, Key="k", Body=body, ChecksumAlgorithm="CRC32")
    crc32 = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    kept = s3.copy_object(Bucket=dst, Key="kept", CopySource={"Bucket": src, "Key": "k"})["CopyObjectResult"]
    assert kept["ChecksumCRC32"] == crc32
    sha = s3.copy_object(Bucket=dst, Key="sha", CopySource={"Bucket": src, "Key": "k"},
                         ChecksumAlgorithm="SHA256")["CopyObjectResult"]
    assert sha["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert "ChecksumCRC32" not in sha
    head = s3.head_object(Bucket=dst, Key="sha", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha["ChecksumSHA256"]


def test_the_cli_copies_large_objects_between_buckets(aws_client, kagami, buckets):
    """Above 8 MiB the CLI copies with multipart UploadPartCopy after a HeadObject."""
    src, dst = buckets
    s3 = aws_client("s3")
    big = hashlib.sha256(b"big copy").digest() * (12 * 1024 * 1024 // 32)
    s3.put_object(Bucket=src, Key="big.bin", Body=big)
    aws_s3(kagami.endpoint, "s3", "cp", f"s3://{src}/big.bin", f"s3://{dst}/big.bin")
    assert s3.get_object(Bucket=dst, Key="big.bin")["Body"].read() == big


def test_copy_sets_object_lock_from_the_request(aws_client, unique_name):
    s3 = aws_client("s3")
    locked = unique_name("locked")
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=locked, Key="src", Body=b"x")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    s3.copy_object(Bucket=locked, Key="dst", CopySource={"Bucket": locked, "Key": "src"},
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    head = s3.head_object(Bucket=locked, Key="dst")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert abs((head["ObjectLockRetainUntilDate"] - until).total_seconds()) < 1
    assert "ObjectLockMode" not in s3.head_object(Bucket=locked, Key="src")


def test_copy_acl_headers_follow_the_bucket_ownership(aws_client, buckets):
    """New buckets enforce bucket-owner ownership: ACL headers are refused, as on PutObject."""
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "k"}, ACL="public-read")
    assert (status(err), err["Error"]["Code"]) == (400, "AccessControlListNotSupported")


def test_a_copy_source_version_id_s3_could_not_have_issued_is_invalid(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "k", "VersionId": "bogus"})
    assert (status(err), err["Error"]["Code"]) == (400, "InvalidArgument")
    assert err["Error"]["Message"] == "Invalid version id specified"
    # `null` names the null version.
    s3.copy_object(Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "k", "VersionId": "null"})
    assert s3.get_object(Bucket=dst, Key="k")["Body"].read() == b"x"


def test_an_archived_source_cannot_be_copied_until_restored(aws_client, buckets):
    src, dst = buckets
    s3 = aws_client("s3")
    s3.put_object(Bucket=src, Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
    err = error_of(s3.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "cold"})
    assert (status(err), err["Error"]["Code"]) == (403, "InvalidObjectState")
    s3.restore_object(Bucket=src, Key="cold", RestoreRequest={"Days": 1})
    s3.copy_object(Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "cold"})
    assert s3.get_object(Bucket=dst, Key="k")["Body"].read() == b"x"
