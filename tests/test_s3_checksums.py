"""S3 additional checksums: what PutObject and UploadPart compute, verify and store for
each algorithm, BadDigest on a mismatch (header or aws-chunked trailer), AWS's default
CRC64NVME, and the COMPOSITE and FULL_OBJECT checksums of multipart objects. Expected
values are computed here with zlib, hashlib and awscrt (botocore's own CRC library)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import zlib
from pathlib import Path

import botocore.config
import pytest
from awscrt import checksums as crt

from conftest import sign_request
from s3_helpers import aws_s3, error_of

MiB = 1024 * 1024
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
# Clients that add no checksum of their own, so that what S3 does by itself shows.
NO_SDK_CHECKSUMS = botocore.config.Config(
    request_checksum_calculation="when_required", response_checksum_validation="when_required"
)


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crt.crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return crt.crc64nvme(data).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    return hashlib.sha256(data).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(algorithm: str, data: bytes) -> str:
    return b64(digest(algorithm, data))


def member(algorithm: str) -> str:
    """The response member of an algorithm: ChecksumCRC32C, ChecksumCRC64NVME, ..."""
    return f"Checksum{algorithm}"


@pytest.fixture
def bucket(aws_client, unique_name):
    name = unique_name("sum")
    aws_client("s3").create_bucket(Bucket=name)
    return name


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_object_with_a_checksum_algorithm_stores_and_reports_it(aws_client, bucket, algorithm):
    s3 = aws_client("s3")
    body = os.urandom(70_000)
    expected = checksum(algorithm, body)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm=algorithm)
    assert put[member(algorithm)] == expected
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[member(algorithm)] == expected
    assert head["ChecksumType"] == "FULL_OBJECT"
    # Without ChecksumMode the checksum stays out of the answer, as in AWS.
    assert member(algorithm) not in s3.head_object(Bucket=bucket, Key="k")
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got[member(algorithm)] == expected
    assert got["Body"].read() == body


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_precomputed_checksum_header_is_verified(aws_client, bucket, algorithm):
    s3 = aws_client("s3", config=NO_SDK_CHECKSUMS)
    body = b"checked on arrival"
    put = s3.put_object(Bucket=bucket, Key="ok", Body=body, **{member(algorithm): checksum(algorithm, body)})
    assert put[member(algorithm)] == checksum(algorithm, body)
    wrong = checksum(algorithm, b"other bytes")
    e = error_of(s3.put_object, Bucket=bucket, Key="bad", Body=body, **{member(algorithm): wrong})
    assert e["Error"]["Code"] == "BadDigest"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Message"] == f"The {algorithm} you specified did not match the calculated checksum."
    # Nothing was stored.
    assert error_of(s3.head_object, Bucket=bucket, Key="bad")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_wrong_sha256_header_leaves_the_previous_object(aws_client, bucket):
    s3 = aws_client("s3", config=NO_SDK_CHECKSUMS)
    s3.put_object(Bucket=bucket, Key="k", Body=b"previous")
    e = error_of(
        s3.put_object, Bucket=bucket, Key="k", Body=b"replacement", ChecksumSHA256=checksum("SHA256", b"nope")
    )
    assert e["Error"]["Code"] == "BadDigest"
    assert e["Error"]["Message"] == "The SHA256 you specified did not match the calculated checksum."
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"previous"


def test_a_checksum_value_that_is_not_a_digest_is_an_invalid_request(aws_client, bucket):
    s3 = aws_client("s3", config=NO_SDK_CHECKSUMS)
    e = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ChecksumCRC32="AAAAAAAAAAA=")
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == "Value for x-amz-checksum-crc32 header is invalid."


def test_without_a_client_checksum_s3_stores_a_crc64nvme(aws_client, bucket):
    s3 = aws_client("s3", config=NO_SDK_CHECKSUMS)
    body = os.urandom(12345)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body)
    assert put["ChecksumCRC64NVME"] == checksum("CRC64NVME", body)
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == checksum("CRC64NVME", body)
    assert head["ChecksumType"] == "FULL_OBJECT"


def raw_put(kagami, path: str, data: bytes, trailer: tuple[str, str], extra: dict | None = None):
    """A PUT whose body is aws-chunked with a checksum trailer, as SDKs send over TLS."""
    import requests

    name, value = trailer
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + f"{name}:{value}\r\n\r\n".encode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": name,
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(len(body)),
        **(extra or {}),
    }
    url = f"{kagami.endpoint}{path}"
    return requests.put(url, data=body, headers=sign_request("PUT", url, "s3", headers=headers), timeout=30)


def test_trailer_checksums_are_verified_on_put_object(kagami, aws_client, bucket):
    data = b"trailing checksum body" * 100
    ok = raw_put(kagami, f"/{bucket}/trailed", data, ("x-amz-checksum-crc32c", checksum("CRC32C", data)))
    assert ok.status_code == 200, ok.text
    assert ok.headers["x-amz-checksum-crc32c"] == checksum("CRC32C", data)
    s3 = aws_client("s3")
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == data
    bad = raw_put(kagami, f"/{bucket}/bad", data, ("x-amz-checksum-sha1", checksum("SHA1", b"x")))
    assert bad.status_code == 400
    assert "<Code>BadDigest</Code>" in bad.text
    assert "The SHA1 you specified did not match the calculated checksum." in bad.text
    assert error_of(s3.head_object, Bucket=bucket, Key="bad")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_trailer_checksums_are_verified_on_upload_part(kagami, aws_client, bucket):
    s3 = aws_client("s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    data = os.urandom(5000)
    path = f"/{bucket}/k?partNumber=1&uploadId={upload_id}"
    sdk = {"x-amz-sdk-checksum-algorithm": "CRC32"}
    bad = raw_put(kagami, path, data, ("x-amz-checksum-crc32", checksum("CRC32", b"x")), sdk)
    assert bad.status_code == 400
    assert "<Code>BadDigest</Code>" in bad.text
    ok = raw_put(kagami, path, data, ("x-amz-checksum-crc32", checksum("CRC32", data)), sdk)
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ChecksumCRC32"], p["Size"]) for p in parts] == [(1, checksum("CRC32", data), 5000)]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_multipart_composite_checksum_is_the_checksum_of_part_checksums(aws_client, bucket, algorithm):
    s3 = aws_client("s3")
    bodies = [os.urandom(5 * MiB), os.urandom(1000)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm)
    assert created["ChecksumAlgorithm"] == algorithm
    assert created["ChecksumType"] == "COMPOSITE"
    upload_id = created["UploadId"]
    parts = []
    for n, body in enumerate(bodies, start=1):
        r = s3.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=body, ChecksumAlgorithm=algorithm
        )
        assert r[member(algorithm)] == checksum(algorithm, body)
        parts.append({"PartNumber": n, "ETag": r["ETag"], member(algorithm): r[member(algorithm)]})
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == algorithm
    assert [p[member(algorithm)] for p in listed["Parts"]] == [checksum(algorithm, b) for b in bodies]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    part_digests = b"".join(digest(algorithm, b) for b in bodies)
    expected = f"{b64(digest(algorithm, part_digests))}-2"
    assert done[member(algorithm)] == expected
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[member(algorithm)] == expected
    assert head["ChecksumType"] == "COMPOSITE"
    # A part read answers that part's checksum, which botocore checks against the bytes.
    part = s3.get_object(Bucket=bucket, Key="k", PartNumber=2, ChecksumMode="ENABLED")
    assert part[member(algorithm)] == checksum(algorithm, bodies[1])
    assert part["Body"].read() == bodies[1]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_multipart_full_object_checksum_is_the_crc_of_the_whole(aws_client, bucket, algorithm):
    s3 = aws_client("s3")
    bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB + 1), b"tail"]
    whole = b"".join(bodies)
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT"
    )
    assert created["ChecksumType"] == "FULL_OBJECT"
    upload_id = created["UploadId"]
    parts = []
    for n, body in enumerate(bodies, start=1):
        r = s3.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=body, ChecksumAlgorithm=algorithm
        )
        parts.append({"PartNumber": n, "ETag": r["ETag"], member(algorithm): r[member(algorithm)]})
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
        ChecksumType="FULL_OBJECT",
        **{member(algorithm): checksum(algorithm, whole)},
    )
    assert done[member(algorithm)] == checksum(algorithm, whole)
    assert done["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[member(algorithm)] == checksum(algorithm, whole)


def test_a_wrong_full_object_checksum_fails_the_completion(aws_client, bucket):
    s3 = aws_client("s3")
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part", ChecksumAlgorithm="CRC32")
    e = error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]},
        ChecksumType="FULL_OBJECT",
        ChecksumCRC32=checksum("CRC32", b"not the object"),
    )
    assert e["Error"]["Code"] == "BadDigest"
    assert e["Error"]["Message"] == "The CRC32 you specified did not match the calculated checksum."
    # The upload is still there to complete correctly.
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"][0]["PartNumber"] == 1


def test_multipart_without_an_algorithm_gets_a_full_object_crc64nvme(aws_client, bucket):
    s3 = aws_client("s3", config=NO_SDK_CHECKSUMS)
    bodies = [os.urandom(5 * MiB), b"end"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    parts = []
    for n, body in enumerate(bodies, start=1):
        r = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=body)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    whole = b"".join(bodies)
    assert done["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)
    assert done["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)


def test_part_checksum_errors(aws_client, bucket):
    s3 = aws_client("s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    e = error_of(
        s3.upload_part, Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32"
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == (
        "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32"
    )
    e = error_of(
        s3.upload_part,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        PartNumber=1,
        Body=b"x",
        ChecksumSHA256=checksum("SHA256", b"y"),
    )
    assert e["Error"]["Code"] == "BadDigest"
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    r = s3.upload_part(
        Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="SHA256"
    )
    # A composite completion needs every part's checksum, and the right one.
    e = error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]},
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == (
        "The upload was created using a sha256 checksum. The complete request must include the checksum "
        "for each part. It was missing for part 1 in the request."
    )
    e = error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumSHA256": checksum("SHA256", b"z")}]},
    )
    assert e["Error"]["Code"] == "InvalidPart"


def test_create_refuses_checksum_types_aws_refuses(aws_client, bucket):
    s3 = aws_client("s3")
    e = error_of(
        s3.create_multipart_upload, Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."
    e = error_of(
        s3.create_multipart_upload, Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE"
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME")
    assert created["ChecksumType"] == "FULL_OBJECT"


JS_MODULES = Path(__file__).parent / "js" / "node_modules"
# UploadPart with stream bodies: the JS SDK sends them aws-chunked with a CRC32 trailer.
JS_MULTIPART = r"""
const { S3Client, CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand,
        CompleteMultipartUploadCommand, GetObjectCommand } = require("@aws-sdk/client-s3");
const { Readable } = require("node:stream");
const { createHash } = require("node:crypto");
const client = new S3Client({ endpoint: process.env.KAGAMI_ENDPOINT, region: "us-east-1",
  forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
const bucket = process.argv[2];
const sha256 = (b) => createHash("sha256").update(b).digest("hex");
(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "k" }));
  const bodies = [Buffer.alloc(5 * 1024 * 1024, 97), Buffer.from("the last part")];
  const parts = [];
  for (const [i, body] of bodies.entries()) {
    const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: "k", UploadId,
      PartNumber: i + 1, Body: Readable.from([body]), ContentLength: body.length }));
    parts.push({ PartNumber: i + 1, ETag: r.ETag, crc32: r.ChecksumCRC32 });
  }
  const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "k",
    UploadId, MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } }));
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "k" }));
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  console.log(JSON.stringify({ etag: done.ETag, partCrc32: parts.map((p) => p.crc32),
    sha256: sha256(bytes), expected: sha256(Buffer.concat(bodies)) }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(
    (shutil.which("node") is None or not (JS_MODULES / "@aws-sdk" / "client-s3").is_dir())
    and not os.environ.get("CI"),
    reason="node or tests/js/node_modules missing (scripts/test.sh runs npm ci)",
)
def test_js_sdk_parts_sent_aws_chunked_with_trailers(kagami, unique_name, tmp_path):
    script = tmp_path / "multipart.cjs"
    script.write_text(JS_MULTIPART)
    run = subprocess.run(
        ["node", str(script), unique_name("js-mpu")],
        env={**os.environ, "KAGAMI_ENDPOINT": kagami.endpoint, "NODE_PATH": str(JS_MODULES)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["sha256"] == seen["expected"], "the aws-chunked framing must not reach the object"
    bodies = [b"a" * (5 * MiB), b"the last part"]
    assert seen["partCrc32"] == [checksum("CRC32", b) for b in bodies]
    joined = b"".join(hashlib.md5(b).digest() for b in bodies)
    assert seen["etag"] == f'"{hashlib.md5(joined).hexdigest()}-2"'


def test_aws_cli_cp_with_a_checksum_algorithm_uploads_a_composite_checksum(kagami, bucket, tmp_path):
    data = os.urandom(9 * MiB + 5)
    source = tmp_path / "cli.bin"
    source.write_bytes(data)
    aws_s3(kagami.endpoint, "s3", "cp", str(source), f"s3://{bucket}/cli.bin", "--checksum-algorithm", "CRC32C")
    head = kagami.client("s3").head_object(Bucket=bucket, Key="cli.bin", ChecksumMode="ENABLED")
    # The CLI sends 8 MiB parts, each with its CRC32C.
    parts = [data[: 8 * MiB], data[8 * MiB :]]
    assert head["ChecksumCRC32C"] == f"{b64(digest('CRC32C', b''.join(digest('CRC32C', p) for p in parts)))}-2"
    assert head["ChecksumType"] == "COMPOSITE"
    target = tmp_path / "cli.out"
    aws_s3(kagami.endpoint, "s3", "cp", f"s3://{bucket}/cli.bin", str(target))
    assert target.read_bytes() == data
