"""Browser form uploads (PostObject): boto3's generate_presigned_post posted with
requests as a browser would (multipart/form-data, file last). The policy's expiration
and conditions (eq, starts-with, content-length-range) are enforced; with
--verify-sigv4 the policy signature is checked too.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from botocore.config import Config

from s3_virtual_hosts import patch_resolver


def error_fields(response: requests.Response) -> dict[str, str]:
    root = ET.fromstring(response.content)
    return {child.tag: (child.text or "") for child in root}


@pytest.fixture(scope="module")
def verifying(kagami_factory):
    server = kagami_factory(extra_args=["--verify-sigv4"])
    yield server
    server.stop()


# boto3 signs POST policies with signature version 2 unless told s3v4.
@pytest.fixture(params=["s3v4", "s3-default"])
def signature_version(request):
    return request.param


def client(server, signature_version="s3v4", virtual=False, **kwargs):
    from conftest import make_client

    settings = {}
    if signature_version == "s3v4":
        settings["signature_version"] = "s3v4"
    endpoint = server.endpoint
    if virtual:
        settings["s3"] = {"addressing_style": "virtual"}
        endpoint = f"http://s3.localhost.localstack.cloud:{server.port}"
    return make_client(endpoint, "s3", config=Config(**settings), **kwargs)


def post(presigned, content=b"file content", filename="photo.txt", **overrides):
    fields = dict(presigned["fields"])
    fields.update(overrides)
    return requests.post(presigned["url"], data=fields, files={"file": (filename, content)}, timeout=30)


def test_form_upload_stores_the_object_under_the_filename(kagami, signature_version, unique_name):
    s3 = client(kagami, signature_version)
    bucket = unique_name("post")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "alice"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-owner": "alice"}],
        ExpiresIn=300,
    )
    r = post(presigned)
    assert r.status_code == 204, r.text
    got = s3.get_object(Bucket=bucket, Key="uploads/photo.txt")
    assert got["Body"].read() == b"file content"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "alice"}
    assert r.headers["ETag"] == got["ETag"]
    assert r.headers["Location"].endswith(f"/{bucket}/uploads/photo.txt")


def test_success_action_status_201_answers_a_post_response(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("post201")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(
        bucket, "k.txt", Fields={"success_action_status": "201"}, Conditions=[{"success_action_status": "201"}]
    )
    r = post(presigned)
    assert r.status_code == 201, r.text
    doc = error_fields(r)
    assert doc["Bucket"] == bucket
    assert doc["Key"] == "k.txt"
    assert doc["ETag"] == s3.head_object(Bucket=bucket, Key="k.txt")["ETag"]
    presigned = s3.generate_presigned_post(
        bucket, "k200.txt", Fields={"success_action_status": "200"}, Conditions=[{"success_action_status": "200"}]
    )
    r = post(presigned)
    assert r.status_code == 200
    assert r.content == b""


def test_success_action_redirect_sends_the_browser_on(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postredir")
    s3.create_bucket(Bucket=bucket)
    target = "http://app.example.com/done"
    presigned = s3.generate_presigned_post(
        bucket,
        "r.txt",
        Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}],
    )
    r = requests.post(
        presigned["url"], data=presigned["fields"], files={"file": ("r.txt", b"x")}, allow_redirects=False, timeout=30
    )
    assert r.status_code == 303, r.text
    location = urlparse(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == target
    query = parse_qs(location.query)
    assert query["bucket"] == [bucket]
    assert query["key"] == ["r.txt"]
    assert query["etag"] == [s3.head_object(Bucket=bucket, Key="r.txt")["ETag"]]


def test_an_expired_policy_is_refused(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postexp")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "k", ExpiresIn=-60)
    r = post(presigned)
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "AccessDenied"
    assert fields["Message"] == "Invalid according to Policy: Policy expired."


def test_a_refused_large_upload_still_gets_its_answer(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postexpbig")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "k", ExpiresIn=-60)
    r = post(presigned, content=os.urandom(8 * 1024 * 1024))
    assert r.status_code == 403
    assert error_fields(r)["Message"] == "Invalid according to Policy: Policy expired."


def test_a_failed_condition_is_refused_with_the_condition(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postcond")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "uploads/${filename}")
    r = post(presigned, key="elsewhere/${filename}")
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "AccessDenied"
    assert fields["Message"] == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'
    # A field the policy does not name is refused too.
    r = post(presigned, **{"x-amz-meta-sneaky": "1"})
    assert r.status_code == 403
    assert error_fields(r)["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky"


def test_content_length_range_bounds_the_file(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postlen")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "k", Conditions=[["content-length-range", 2, 10]])
    assert post(presigned, content=b"12345").status_code == 204
    r = post(presigned, content=b"x" * 11)
    assert r.status_code == 400
    fields = error_fields(r)
    assert fields["Code"] == "EntityTooLarge"
    assert fields["MaxSizeAllowed"] == "10"
    r = post(presigned, content=b"x")
    assert error_fields(r)["Code"] == "EntityTooSmall"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"12345"


def test_a_form_without_a_key_is_refused(kagami, unique_name):
    bucket = unique_name("postnokey")
    kagami.client("s3").create_bucket(Bucket=bucket)
    r = requests.post(f"{kagami.endpoint}/{bucket}", files={"file": ("a", b"x")}, timeout=10)
    assert r.status_code == 400
    fields = error_fields(r)
    assert fields["Code"] == "InvalidArgument"
    assert fields["ArgumentName"] == "key"


def test_a_large_file_streams_through(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postbig")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "big.bin")
    data = os.urandom(12 * 1024 * 1024)
    r = post(presigned, content=data)
    assert r.status_code == 204, r.text[:500]
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == len(data)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data


def presigned_with(s3, bucket, key, fields):
    """A POST policy that names each of `fields` exactly, as a browser form would carry them."""
    return s3.generate_presigned_post(
        bucket, key, Fields=fields, Conditions=[{k: v} for k, v in fields.items()], ExpiresIn=300)


TAGGING = ("<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag>"
           "<Tag><Key>stage</Key><Value>draft</Value></Tag></TagSet></Tagging>")


def test_form_fields_set_tags_acl_encryption_and_a_checksum(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postfields")
    s3.create_bucket(Bucket=bucket)
    # New buckets refuse ACLs (BucketOwnerEnforced) and public ones (Block Public Access).
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    presigned = presigned_with(s3, bucket, "doc.txt", {
        "tagging": TAGGING,
        "acl": "public-read",
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "alias/uploads",
    })
    r = post(presigned, content=b"tagged and encrypted")
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption"] == "aws:kms"
    assert r.headers["x-amz-server-side-encryption-aws-kms-key-id"].endswith(":alias/uploads")

    tags = s3.get_object_tagging(Bucket=bucket, Key="doc.txt")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("stage", "draft"), ("team", "blue")]
    grants = s3.get_object_acl(Bucket=bucket, Key="doc.txt")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants
    head = s3.head_object(Bucket=bucket, Key="doc.txt", ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(":alias/uploads")
    # Like every upload since 2025, the form's file gets the default CRC64NVME checksum.
    assert head["ChecksumCRC64NVME"]
    assert head["ChecksumType"] == "FULL_OBJECT"


def test_a_checksum_field_is_verified_against_the_file(kagami, unique_name):
    import base64
    import hashlib

    s3 = client(kagami)
    bucket = unique_name("postsum")
    s3.create_bucket(Bucket=bucket)
    content = b"checked on arrival"
    right = base64.b64encode(hashlib.sha256(content).digest()).decode()
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()

    r = post(presigned_with(s3, bucket, "bad.txt", {"x-amz-checksum-sha256": wrong}), content=content)
    assert r.status_code == 400
    assert error_fields(r)["Code"] == "BadDigest"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    r = post(presigned_with(s3, bucket, "good.txt", {"x-amz-checksum-sha256": right}), content=content)
    assert r.status_code == 204, r.text
    head = s3.head_object(Bucket=bucket, Key="good.txt", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == right


def test_bad_tagging_and_encryption_fields_are_refused_before_the_file_is_kept(kagami, unique_name):
    s3 = client(kagami)
    bucket = unique_name("postbad")
    s3.create_bucket(Bucket=bucket)
    r = post(presigned_with(s3, bucket, "k", {"tagging": "<Tagging><TagSet>"}))
    assert r.status_code == 400
    assert error_fields(r)["Code"] == "MalformedXML"
    duplicate = ("<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>"
                 "<Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>")
    r = post(presigned_with(s3, bucket, "k", {"tagging": duplicate}))
    assert r.status_code == 400
    assert error_fields(r)["Code"] == "InvalidTag"
    r = post(presigned_with(s3, bucket, "k", {"x-amz-server-side-encryption": "ROT13"}))
    assert r.status_code == 400
    assert error_fields(r)["Code"] == "InvalidArgument"
    r = post(presigned_with(s3, bucket, "k", {"x-amz-storage-class": "NOPE"}))
    assert (r.status_code, error_fields(r)["Code"]) == (400, "InvalidStorageClass")
    r = post(presigned_with(s3, bucket, "k", {"x-amz-website-redirect-location": "page.html"}))
    assert (r.status_code, error_fields(r)["Code"]) == (400, "InvalidRedirectLocation")
    # A new bucket enforces bucket-owner ownership: an ACL field is refused as the header is.
    r = post(presigned_with(s3, bucket, "k", {"acl": "public-read"}))
    assert r.status_code == 400
    assert error_fields(r)["Code"] == "AccessControlListNotSupported"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_customer_key_field_encrypts_the_file_with_sse_c(kagami, unique_name):
    import base64
    import hashlib

    s3 = client(kagami)
    bucket = unique_name("postssec")
    s3.create_bucket(Bucket=bucket)
    key = os.urandom(32)
    key_b64 = base64.b64encode(key).decode()
    key_md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    r = post(presigned_with(s3, bucket, "secret.txt", {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": key_b64,
        "x-amz-server-side-encryption-customer-key-MD5": key_md5,
    }), content=b"for the key holder")
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption-customer-key-MD5"] == key_md5
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.get_object(Bucket=bucket, Key="secret.txt")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    got = s3.get_object(Bucket=bucket, Key="secret.txt", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"for the key holder"


def test_form_upload_to_a_virtual_hosted_bucket(kagami, monkeypatch, unique_name):
    patch_resolver(monkeypatch)
    s3 = client(kagami, virtual=True)
    bucket = unique_name("postvh")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "v.txt")
    assert presigned["url"].startswith(f"http://{bucket}.s3.localhost.localstack.cloud")
    r = post(presigned, content=b"virtual form")
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="v.txt")["Body"].read() == b"virtual form"


def test_policy_signatures_are_verified(verifying, signature_version, unique_name):
    s3 = client(verifying, signature_version)
    bucket = unique_name("postsig")
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "ok.txt")
    assert post(presigned).status_code == 204
    forger = client(
        verifying, signature_version, credentials={"AccessKeyId": "test", "SecretAccessKey": "guess"}
    )
    forged = forger.generate_presigned_post(bucket, "forged.txt")
    r = post(forged)
    assert r.status_code == 403
    assert error_fields(r)["Code"] == "SignatureDoesNotMatch"
    # A policy changed after signing does not match its signature either.
    other = s3.generate_presigned_post(bucket, "other.txt")
    r = post(presigned, key="other.txt", policy=other["fields"]["policy"])
    assert r.status_code == 403
    assert error_fields(r)["Code"] == "SignatureDoesNotMatch"
