"""Bucket CORS: Put/Get/DeleteBucketCors, preflights answered from the bucket's rules
(path style and virtual-hosted), and the rule's headers on actual requests.

kagami's default for buckets *without* a CORS configuration is LocalStack's: the
gateway's permissive CORS answers. `KAGAMI_S3_CORS=aws` makes them answer as AWS does
(preflight refused with "CORS is not enabled for this bucket.", no CORS headers).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from s3_helpers import error_of

ORIGIN = "http://app.example.com"
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
    "are not whitelisted by the resource's CORS spec."
)
RULES = [
    {
        "ID": "uploads",
        "AllowedOrigins": ["http://*.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["Content-Type", "x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"],
        "MaxAgeSeconds": 3000,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def error_fields(response: requests.Response) -> dict[str, str]:
    root = ET.fromstring(response.content)
    return {child.tag: (child.text or "") for child in root}


@pytest.fixture
def cors_bucket(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("cors")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    return bucket


def preflight(endpoint, path, origin=ORIGIN, method="PUT", headers=None, host=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    if host:
        h["Host"] = host
    return requests.options(f"{endpoint}{path}", headers=h, timeout=10)


def test_put_get_delete_bucket_cors(kagami, cors_bucket):
    s3 = kagami.client("s3")
    rules = s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]
    assert rules == RULES
    s3.delete_bucket_cors(Bucket=cors_bucket)
    e = error_of(s3.get_bucket_cors, Bucket=cors_bucket)
    assert e["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert e["Error"]["Message"] == "The CORS configuration does not exist"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_unsupported_methods_and_too_many_rules_are_refused(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("corsbad")
    s3.create_bucket(Bucket=bucket)
    e = error_of(
        s3.put_bucket_cors,
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PATCH"]}]},
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
    many = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101
    e = error_of(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={"CORSRules": many})
    assert e["Error"]["Code"] == "MalformedXML"
    e = error_of(s3.get_bucket_cors, Bucket=bucket)
    assert e["Error"]["Code"] == "NoSuchCORSConfiguration", "a refused configuration is not stored"


def test_preflight_matching_a_rule_gets_its_headers(kagami, cors_bucket):
    r = preflight(kagami.endpoint, f"/{cors_bucket}/photo.jpg", headers="content-type, x-amz-date")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert r.headers["Access-Control-Max-Age"] == "3000"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in r.headers["Vary"]
    # The second rule allows any origin, for HEAD only: answered with "*".
    r = preflight(kagami.endpoint, f"/{cors_bucket}/photo.jpg", origin="http://other.test", method="HEAD")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "HEAD"


def test_preflight_on_a_virtual_hosted_bucket(kagami, cors_bucket):
    host = f"{cors_bucket}.s3.localhost.localstack.cloud:{kagami.port}"
    r = preflight(kagami.endpoint, "/photo.jpg", host=host, method="GET")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = preflight(kagami.endpoint, "/photo.jpg", host=host, method="DELETE")
    assert r.status_code == 403


@pytest.mark.parametrize(
    "origin,method,headers",
    [
        ("http://evil.test", "PUT", None),
        (ORIGIN, "DELETE", None),
        (ORIGIN, "PUT", "authorization"),
    ],
)
def test_preflight_no_rule_allows_is_forbidden(kagami, cors_bucket, origin, method, headers):
    r = preflight(kagami.endpoint, f"/{cors_bucket}/photo.jpg", origin=origin, method=method, headers=headers)
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "AccessForbidden"
    assert fields["Message"] == NOT_ALLOWED
    assert fields["Method"] == method
    assert fields["ResourceType"] == "OBJECT"
    assert "Access-Control-Allow-Origin" not in r.headers


def test_preflight_to_a_missing_virtual_hosted_bucket_is_no_such_bucket(kagami, unique_name):
    missing = unique_name("gone")
    r = preflight(kagami.endpoint, "/k", host=f"{missing}.s3.localhost.localstack.cloud:{kagami.port}")
    assert r.status_code == 404
    fields = error_fields(r)
    assert fields["Code"] == "NoSuchBucket"
    assert fields["BucketName"] == missing


def test_actual_requests_get_the_matching_rules_headers(kagami, cors_bucket):
    r = requests.get(f"{kagami.endpoint}/{cors_bucket}/photo.jpg", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    # Errors are decorated the same way.
    r = requests.get(f"{kagami.endpoint}/{cors_bucket}/missing", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    # An origin no rule allows gets no CORS headers at all: not even the gateway's.
    r = requests.get(f"{kagami.endpoint}/{cors_bucket}/photo.jpg", headers={"Origin": "http://evil.test"}, timeout=10)
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_buckets_without_cors_are_permissive_by_default(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("open")
    s3.create_bucket(Bucket=bucket)
    r = preflight(kagami.endpoint, f"/{bucket}/k", origin="http://anything.test", method="PUT")
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://anything.test"
    r = requests.get(f"{kagami.endpoint}/{bucket}/k", headers={"Origin": "http://anything.test"}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == "http://anything.test"


def test_strict_mode_answers_buckets_without_cors_as_aws_does(kagami_process, unique_name):
    server = kagami_process(env={"KAGAMI_S3_CORS": "aws"})
    s3 = server.client("s3")
    bucket = unique_name("strict")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    r = preflight(server.endpoint, f"/{bucket}", method="GET")
    assert r.status_code == 403
    fields = error_fields(r)
    assert fields["Code"] == "AccessForbidden"
    assert fields["Message"] == "CORSResponse: CORS is not enabled for this bucket."
    assert fields["ResourceType"] == "BUCKET"
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    missing = unique_name("gone")
    r = preflight(server.endpoint, f"/{missing}/k")
    assert r.status_code == 404
    assert error_fields(r)["Code"] == "NoSuchBucket"
    # Other services keep the gateway's CORS.
    r = requests.post(
        f"{server.endpoint}/",
        data="Action=ListQueues&Version=2012-11-05",
        headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_form_uploads_and_website_pages_get_the_rules_headers(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("corsweb")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET", "POST"]}]},
    )
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"home", ContentType="text/html")
    site = f"{bucket}.s3-website.localhost.localstack.cloud:{kagami.port}"
    r = requests.get(f"{kagami.endpoint}/", headers={"Host": site, "Origin": ORIGIN}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = preflight(kagami.endpoint, f"/{bucket}", method="POST", headers="content-type")
    assert r.status_code == 403, "the rule allows no request headers"
    r = preflight(kagami.endpoint, f"/{bucket}", method="POST")
    assert r.status_code == 200
    presigned = s3.generate_presigned_post(bucket, "form.txt")
    r = requests.post(
        presigned["url"], data=presigned["fields"], files={"file": ("form.txt", b"x")}, headers={"Origin": ORIGIN}, timeout=10
    )
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Methods"] == "GET, POST"


def test_cors_with_the_aws_cli(kagami, aws_cli, unique_name):
    import json

    bucket = unique_name("corscli")
    kagami.client("s3").create_bucket(Bucket=bucket)
    config = {"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"], "MaxAgeSeconds": 60}]}
    aws_cli("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", json.dumps(config))
    assert aws_cli("s3api", "get-bucket-cors", "--bucket", bucket) == config
    r = preflight(kagami.endpoint, f"/{bucket}/x", method="GET")
    assert r.status_code == 200
    assert r.headers["Access-Control-Max-Age"] == "60"
    aws_cli("s3api", "delete-bucket-cors", "--bucket", bucket)
    code, stderr = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket, expect_error=True)
    assert "NoSuchCORSConfiguration" in stderr
