"""S3 virtual-hosted addressing: the bucket in the Host name, as SDKs send by default.

`<bucket>.s3.localhost.localstack.cloud`, `<bucket>.s3.<region>.localhost.localstack.cloud`,
`<bucket>.localhost`, `<bucket>.s3.amazonaws.com` and `<bucket>.<external host>` name the
bucket; `s3.localhost.localstack.cloud` alone is path style. With --verify-sigv4 the
signature is checked over the path the client sent, not the path-style rewrite.
"""

from __future__ import annotations

import pytest
import requests
from botocore.config import Config

from s3_helpers import error_of
from s3_virtual_hosts import aws_cli_local_dns, patch_resolver

VIRTUAL = Config(s3={"addressing_style": "virtual"})


@pytest.fixture
def local_dns(monkeypatch):
    patch_resolver(monkeypatch)


def virtual_client(server, **kwargs):
    from conftest import make_client

    endpoint = f"http://s3.localhost.localstack.cloud:{server.port}"
    return make_client(endpoint, "s3", config=VIRTUAL, **kwargs)


def test_boto3_virtual_hosted_round_trip(kagami, local_dns, unique_name):
    s3 = virtual_client(kagami)
    bucket = unique_name("vh")
    s3.create_bucket(Bucket=bucket)
    put = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello virtual", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == b"hello virtual"
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "text/plain"
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert head["ContentLength"] == len(b"hello virtual")
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["dir/hello.txt"]
    assert listed["Name"] == bucket
    # The same object, path style: one bucket, whichever way it is addressed.
    path_style = kagami.client("s3")
    assert path_style.get_object(Bucket=bucket, Key="dir/hello.txt")["Body"].read() == b"hello virtual"
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
    assert error_of(path_style.get_object, Bucket=bucket, Key="dir/hello.txt")["Error"]["Code"] == "NoSuchKey"
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_virtual_hosted_errors_name_the_bucket(kagami, local_dns, unique_name):
    s3 = virtual_client(kagami)
    missing = unique_name("nope")
    e = error_of(s3.get_object, Bucket=missing, Key="k")
    assert e["Error"]["Code"] == "NoSuchBucket"
    assert e["Error"]["BucketName"] == missing
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    "host_template",
    [
        "{bucket}.s3.localhost.localstack.cloud:{port}",
        "{bucket}.s3.eu-west-1.localhost.localstack.cloud:{port}",
        "{bucket}.localhost.localstack.cloud:{port}",
        "{bucket}.localhost:{port}",
        "{bucket}.s3.amazonaws.com",
        "{bucket}.s3.us-west-2.amazonaws.com",
    ],
)
def test_raw_requests_with_a_bucket_host_reach_the_bucket(kagami, unique_name, host_template):
    bucket = unique_name("raw")
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="a b/c.txt", Body=b"payload")
    host = host_template.format(bucket=bucket, port=kagami.port)
    r = requests.get(f"{kagami.endpoint}/a%20b/c.txt", headers={"Host": host}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b"payload"
    # PUT through the virtual host, read back path style.
    r = requests.put(f"{kagami.endpoint}/new.txt", data=b"via host", headers={"Host": host}, timeout=10)
    assert r.status_code == 200, r.text
    assert kagami.client("s3").get_object(Bucket=bucket, Key="new.txt")["Body"].read() == b"via host"


def test_bucket_names_with_dots_are_addressed_virtually(kagami, unique_name):
    bucket = f"{unique_name('dots')}.example.com"
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="k", Body=b"dotted")
    for host in (f"{bucket}.s3.localhost.localstack.cloud:{kagami.port}", f"{bucket}.localhost:{kagami.port}"):
        r = requests.get(f"{kagami.endpoint}/k", headers={"Host": host}, timeout=10)
        assert r.status_code == 200, (host, r.text)
        assert r.content == b"dotted"


def test_the_plain_s3_host_is_path_style(kagami, unique_name):
    bucket = unique_name("plain")
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="k", Body=b"path style")
    r = requests.get(
        f"{kagami.endpoint}/{bucket}/k",
        headers={"Host": f"s3.localhost.localstack.cloud:{kagami.port}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.content == b"path style"


def test_other_services_keep_their_host_names(kagami):
    # `sqs.localhost` is SQS, not a bucket named "sqs".
    r = requests.post(
        kagami.endpoint + "/",
        data="Action=ListQueues&Version=2012-11-05",
        headers={"Host": f"sqs.localhost:{kagami.port}", "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert "ListQueuesResponse" in r.text


def test_the_external_host_names_buckets_too(kagami_process, unique_name):
    server = kagami_process(extra_args=["--external-host", "kagami.test"])
    bucket = unique_name("ext")
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_object(Bucket=bucket, Key="k", Body=b"external")
    r = requests.get(f"{server.endpoint}/k", headers={"Host": f"{bucket}.kagami.test:{server.port}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b"external"


def test_signatures_are_verified_over_the_path_the_client_sent(kagami_process, local_dns, unique_name):
    server = kagami_process(extra_args=["--verify-sigv4"])
    s3 = virtual_client(server)
    bucket = unique_name("sig")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"signed")
    assert s3.get_object(Bucket=bucket, Key="k.txt")["Body"].read() == b"signed"
    wrong = virtual_client(
        server, credentials={"AccessKeyId": "test", "SecretAccessKey": "wrong"}
    )
    e = error_of(wrong.get_object, Bucket=bucket, Key="k.txt")
    assert e["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_aws_cli_with_virtual_addressing(kagami, tmp_path, unique_name):
    bucket = unique_name("cli")
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="cli.txt", Body=b"from the cli")
    endpoint = f"http://s3.localhost.localstack.cloud:{kagami.port}"
    config = "[default]\ns3 =\n    addressing_style = virtual\n"
    proc = aws_cli_local_dns(endpoint, "s3", "cp", f"s3://{bucket}/cli.txt", "-", config_text=config, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from the cli"
    src = tmp_path / "up.txt"
    src.write_bytes(b"uploaded by the cli")
    proc = aws_cli_local_dns(
        endpoint, "s3", "cp", str(src), f"s3://{bucket}/up.txt", config_text=config, tmp_path=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert kagami.client("s3").get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded by the cli"
    proc = aws_cli_local_dns(endpoint, "s3", "ls", f"s3://{bucket}/", config_text=config, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = sorted(line.split()[-1] for line in proc.stdout.splitlines())
    assert listed == ["cli.txt", "up.txt"]
