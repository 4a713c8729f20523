"""Presigned URLs: boto3's generate_presigned_url and `aws s3 presign`, used with plain
HTTP, path style and virtual-hosted; with --verify-sigv4 a tampered URL is refused
(SignatureDoesNotMatch) and an expired one too (AccessDenied, "Request has expired",
with the X-Amz-Expires, Expires and ServerTime fields S3 sends). Expiry is real time,
as the client's clock dated the URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

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


@pytest.fixture(params=["path", "virtual"])
def addressing(request, monkeypatch):
    if request.param == "virtual":
        patch_resolver(monkeypatch)
    return request.param


# boto3 presigns with S3's signature version 2 unless told s3v4; both must work.
@pytest.fixture(params=["s3v4", "s3-default"])
def signature_version(request):
    return request.param


def presigning_client(server, addressing: str, signature_version: str = "s3v4", **kwargs):
    from conftest import make_client

    settings = {}
    if signature_version == "s3v4":
        settings["signature_version"] = "s3v4"
    if addressing == "virtual":
        settings["s3"] = {"addressing_style": "virtual"}
        endpoint = f"http://s3.localhost.localstack.cloud:{server.port}"
        return make_client(endpoint, "s3", config=Config(**settings), **kwargs)
    return make_client(server.endpoint, "s3", config=Config(**settings), **kwargs)


@pytest.mark.parametrize("server_kind", ["plain", "verifying"])
def test_presigned_get_put_head_delete_work_with_plain_http(
    request, server_kind, addressing, signature_version, unique_name
):
    server = request.getfixturevalue("kagami" if server_kind == "plain" else "verifying")
    s3 = presigning_client(server, addressing, signature_version)
    bucket = unique_name("pre")
    server.client("s3").create_bucket(Bucket=bucket)

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    assert ("X-Amz-Signature=" in put_url) == (signature_version == "s3v4")
    r = requests.put(put_url, data=b"presigned body", timeout=10)
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]

    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    r = requests.get(get_url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b"presigned body"
    assert r.headers["ETag"] == etag

    head_url = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    r = requests.head(head_url, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(b"presigned body"))

    delete_url = s3.generate_presigned_url(
        "delete_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300
    )
    r = requests.delete(delete_url, timeout=10)
    assert r.status_code == 204, r.text
    r = requests.get(get_url, timeout=10)
    assert r.status_code == 404
    assert error_fields(r)["Code"] == "NoSuchKey"


def test_a_large_presigned_put_streams_with_an_unsigned_payload(verifying, unique_name):
    s3 = presigning_client(verifying, "path")
    bucket = unique_name("big")
    s3.create_bucket(Bucket=bucket)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "big.bin"}, ExpiresIn=300)
    size = 24 * 1024 * 1024
    chunk = os.urandom(1024 * 1024)

    def body():
        for _ in range(size // len(chunk)):
            yield chunk

    # A generator body goes out chunked, without Content-Length: it must stream through.
    r = requests.put(url, data=body(), timeout=60)
    assert r.status_code == 200, r.text
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == size


def test_presigned_url_from_the_aws_cli(kagami, unique_name):
    bucket = unique_name("clip")
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="cli.txt", Body=b"cli presign")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_CONFIG_FILE=os.environ["AWS_CONFIG_FILE"],
               AWS_SHARED_CREDENTIALS_FILE=os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    proc = subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", kagami.endpoint, "--region", "us-east-1",
         "s3", "presign", f"s3://{bucket}/cli.txt", "--expires-in", "120"],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip()
    assert "Expires=" in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200
    assert r.content == b"cli presign"


def test_a_tampered_presigned_url_does_not_match_its_signature(
    verifying, addressing, signature_version, unique_name
):
    s3 = presigning_client(verifying, addressing, signature_version)
    bucket = unique_name("tamper")
    verifying.client("s3").create_bucket(Bucket=bucket)
    verifying.client("s3").put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    verifying.client("s3").put_object(Bucket=bucket, Key="b.txt", Body=b"b")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"}, ExpiresIn=300)
    assert requests.get(url, timeout=10).status_code == 200
    r = requests.get(url.replace("a.txt", "b.txt"), timeout=10)
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "SignatureDoesNotMatch"
    assert fields["AWSAccessKeyId"] == "test"
    if signature_version == "s3v4":
        longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=600")
        assert error_fields(requests.get(longer, timeout=10))["Code"] == "SignatureDoesNotMatch"


def test_a_presigned_url_signed_with_another_secret_does_not_match(verifying, signature_version, unique_name):
    bucket = unique_name("secret")
    verifying.client("s3").create_bucket(Bucket=bucket)
    forger = presigning_client(
        verifying, "path", signature_version, credentials={"AccessKeyId": "test", "SecretAccessKey": "guess"}
    )
    url = forger.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    r = requests.put(url, data=b"forged", timeout=10)
    assert r.status_code == 403
    assert error_fields(r)["Code"] == "SignatureDoesNotMatch"


@pytest.mark.slow
def test_an_expired_presigned_url_is_refused(verifying, signature_version, unique_name):
    s3 = presigning_client(verifying, "path", signature_version)
    bucket = unique_name("exp")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.2)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "AccessDenied"
    assert fields["Message"] == "Request has expired"
    if signature_version == "s3v4":
        assert fields["X-Amz-Expires"] == "1"
    assert fields["Expires"].endswith("Z")
    assert fields["ServerTime"].endswith("Z")
    assert fields["ServerTime"] > fields["Expires"]


def test_requests_signed_with_s3s_signature_version_2_are_verified(verifying, unique_name):
    from conftest import make_client

    legacy = make_client(verifying.endpoint, "s3", config=Config(signature_version="s3"))
    bucket = unique_name("v2")
    legacy.create_bucket(Bucket=bucket)
    legacy.put_object(
        Bucket=bucket, Key="dir/a b.txt", Body=b"v2", ContentType="text/plain", Metadata={"k": "v"}
    )
    got = legacy.get_object(Bucket=bucket, Key="dir/a b.txt", ResponseContentType="text/x-v2")
    assert got["Body"].read() == b"v2"
    assert got["Metadata"] == {"k": "v"}
    wrong = make_client(
        verifying.endpoint,
        "s3",
        config=Config(signature_version="s3"),
        credentials={"AccessKeyId": "test", "SecretAccessKey": "wrong"},
    )
    from s3_helpers import error_of

    e = error_of(wrong.get_object, Bucket=bucket, Key="dir/a b.txt")
    assert e["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
