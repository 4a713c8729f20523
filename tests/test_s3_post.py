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
