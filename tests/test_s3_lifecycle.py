"""S3 lifecycle configuration: PutBucketLifecycleConfiguration / Get / Delete (and the
legacy PutBucketLifecycle / GetBucketLifecycle) with AWS's validation, and the rules
acted on as the emulated clock moves (POST /_kagami/clock): current versions expire at
the first midnight UTC after creation + Days (a delete marker in versioned buckets),
noncurrent versions expire NoncurrentDays after they became noncurrent, lone delete
markers go with ExpiredObjectDeleteMarker, incomplete multipart uploads are aborted,
transitions change the storage class. Clock tests run their own server."""

from __future__ import annotations

import datetime
import json
import time

import pytest
import requests

from s3_helpers import error_of

DAY = 24 * 3600
# Creation + Days, rounded up to the next midnight UTC, is at most a day later.
PAST_DUE = 2 * DAY + 60


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture
def bucket(s3, unique_name):
    name = unique_name("lc")
    s3.create_bucket(Bucket=name)
    return name


def code_of(err: dict) -> tuple[str, int]:
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def lifecycle(*rules: dict) -> dict:
    return {"Rules": list(rules)}


def expire_rule(rule_id: str = "expire", prefix: str = "", days: int = 1, **extra) -> dict:
    return {"ID": rule_id, "Status": "Enabled", "Prefix": prefix, "Expiration": {"Days": days}, **extra}


def advance(server, seconds: float) -> None:
    response = server.advance_clock(seconds)
    assert response.status_code == 200, response.text


def wait_for(condition, timeout: float = 10.0) -> None:
    """Polls until the lifecycle runner (woken by the clock advance) has done its pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the lifecycle runner did not act in time")


def keys_of(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def versions_of(s3, bucket: str) -> list[tuple[str, bool]]:
    """(version id, is delete marker) of every version, newest first."""
    listed = s3.list_object_versions(Bucket=bucket)
    entries = [(v["VersionId"], False, v["LastModified"]) for v in listed.get("Versions", [])]
    entries += [(m["VersionId"], True, m["LastModified"]) for m in listed.get("DeleteMarkers", [])]
    entries.sort(key=lambda e: e[2], reverse=True)
    return [(v, marker) for v, marker, _ in entries]


# ------------------------------------------------------------------ configuration


def test_lifecycle_round_trip(s3, bucket):
    err = error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    assert code_of(err) == ("NoSuchLifecycleConfiguration", 404)
    assert err["Error"]["Message"] == "The lifecycle configuration does not exist"
    assert err["Error"]["BucketName"] == bucket
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=lifecycle(
        expire_rule("logs", "logs/", 30),
        {"Status": "Enabled", "Prefix": "tmp/",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2}},
        {"ID": "uploads", "Status": "Disabled", "Prefix": "",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
    ))
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0] == expire_rule("logs", "logs/", 30)
    # A rule put without an ID gets one.
    assert rules[1]["ID"]
    assert rules[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2}
    assert rules[2]["Status"] == "Disabled"
    assert rules[2]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert code_of(error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)) == (
        "NoSuchLifecycleConfiguration", 404)


def test_filters_and_the_transition_default_minimum_object_size_round_trip(s3, bucket):
    put = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=lifecycle(
        {"ID": "tagged", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "t", "Value": "1"}]}},
         "Expiration": {"Days": 3}}))
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    assert got["Rules"][0]["Filter"] == {"And": {"Prefix": "tmp/", "Tags": [{"Key": "t", "Value": "1"}]}}
    put = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration=lifecycle(expire_rule()))
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"


def test_expiration_date_at_midnight_utc_is_accepted(s3, bucket):
    date = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=lifecycle(
        {"ID": "d", "Status": "Enabled", "Prefix": "", "Expiration": {"Date": date}}))
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"]["Date"] == date


NOT_MIDNIGHT = datetime.datetime(2031, 1, 1, 12, 30, tzinfo=datetime.timezone.utc)

INVALID = [
    ("no-filter-or-prefix", {"ID": "r", "Status": "Enabled", "Expiration": {"Days": 1}}, "MalformedXML", None),
    ("filter-and-prefix", {"ID": "r", "Status": "Enabled", "Prefix": "a", "Filter": {"Prefix": "a"},
                           "Expiration": {"Days": 1}}, "MalformedXML", None),
    ("two-filter-kinds", {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}},
                          "Expiration": {"Days": 1}}, "MalformedXML", None),
    ("bad-status", {"ID": "r", "Status": "On", "Prefix": "", "Expiration": {"Days": 1}}, "MalformedXML", None),
    ("zero-days", expire_rule(days=0), "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
    ("date-not-midnight", {"ID": "r", "Status": "Enabled", "Prefix": "", "Expiration": {"Date": NOT_MIDNIGHT}},
     "InvalidArgument", "'Date' must be at midnight GMT"),
    ("days-and-marker", {"ID": "r", "Status": "Enabled", "Prefix": "",
                         "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}}, "MalformedXML", None),
    ("long-id", expire_rule("x" * 256), "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    ("no-action", {"ID": "r", "Status": "Enabled", "Prefix": ""}, "InvalidRequest",
     "At least one action needs to be specified in a rule"),
    ("zero-noncurrent-days", {"ID": "r", "Status": "Enabled", "Prefix": "",
                              "NoncurrentVersionExpiration": {"NoncurrentDays": 0}}, "InvalidArgument",
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    ("zero-days-after-initiation", {"ID": "r", "Status": "Enabled", "Prefix": "",
                                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}}, "InvalidArgument",
     "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"),
    ("abort-with-tags", {"ID": "r", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
                         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, "InvalidRequest",
     "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    ("duplicate-tag-keys", {"ID": "r", "Status": "Enabled",
                            "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "k", "Value": "1"},
                                                                      {"Key": "k", "Value": "2"}]}},
                            "Expiration": {"Days": 1}}, "InvalidRequest", "Duplicate Tag Keys are not allowed."),
    ("ia-too-early", {"ID": "r", "Status": "Enabled", "Prefix": "",
                      "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ("unknown-storage-class", {"ID": "r", "Status": "Enabled", "Prefix": "",
                               "Transitions": [{"Days": 10, "StorageClass": "TAPE"}]}, "MalformedXML", None),
]


@pytest.mark.parametrize("rule,code,message", [
    pytest.param(*i[1:], id=i[0])
    for i in INVALID])
def test_invalid_lifecycle_rules_are_refused(s3, bucket, rule, code, message):
    err = error_of(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration=lifecycle(rule))
    assert code_of(err) == (code, 400)
    if message is not None:
        assert err["Error"]["Message"] == message
    assert code_of(error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)) == (
        "NoSuchLifecycleConfiguration", 404)


def test_rule_ids_must_be_unique_and_rules_at_most_1000(s3, bucket):
    err = error_of(s3.put_bucket_lifecycle_configuration, Bucket=bucket,
                   LifecycleConfiguration=lifecycle(expire_rule("same"), expire_rule("same", "other/")))
    assert code_of(err) == ("InvalidArgument", 400)
    assert err["Error"]["Message"] == "Rule ID must be unique. Found same ID for more than one rule"
    rules = [expire_rule(f"r{i}", f"p{i}/") for i in range(1001)]
    err = error_of(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration=lifecycle(*rules))
    assert code_of(err) == ("MalformedXML", 400)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=lifecycle(*rules[:1000]))
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 1000


def test_legacy_lifecycle_operations(s3, bucket):
    s3.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 5}}]})
    assert s3.get_bucket_lifecycle(Bucket=bucket)["Rules"] == [
        {"ID": "old", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 5}}]
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["Prefix"] == "logs/" and rule["Expiration"] == {"Days": 5}


def test_cli_puts_and_gets_a_lifecycle_configuration(aws_cli, bucket):
    config = {"Rules": [{"ID": "cli", "Status": "Enabled", "Prefix": "tmp/",
                         "Expiration": {"Days": 7}}]}
    aws_cli("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
            "--lifecycle-configuration", json.dumps(config))
    got = aws_cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert got["Rules"] == config["Rules"]
    aws_cli("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    code, stderr = aws_cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, expect_error=True)
    assert code != 0 and "NoSuchLifecycleConfiguration" in stderr


# ------------------------------------------------------------------ expiration on the emulated clock


@pytest.fixture
def server(kagami_process):
    return kagami_process()


def test_current_objects_expire_after_days_rounded_to_midnight(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="expiring")
    s3.put_object(Bucket="expiring", Key="logs/old.txt", Body=b"old")
    s3.put_object(Bucket="expiring", Key="keep/data.txt", Body=b"keep")
    s3.put_bucket_lifecycle_configuration(Bucket="expiring", LifecycleConfiguration=lifecycle(
        expire_rule("logs", "logs/", 1)))
    # Less than a day later nothing is due.
    advance(server, DAY - 120)
    time.sleep(1.5)
    assert sorted(keys_of(s3, "expiring")) == ["keep/data.txt", "logs/old.txt"]
    advance(server, PAST_DUE - (DAY - 120))
    wait_for(lambda: keys_of(s3, "expiring") == ["keep/data.txt"])
    err = error_of(s3.get_object, Bucket="expiring", Key="logs/old.txt")
    assert code_of(err) == ("NoSuchKey", 404)
    assert s3.get_object(Bucket="expiring", Key="keep/data.txt")["Body"].read() == b"keep"


def test_objects_expire_on_the_expiration_date(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="dated")
    s3.put_object(Bucket="dated", Key="k", Body=b"x")
    now_ms = requests.get(server.url("/_kagami/clock"), timeout=10).json()["epoch_millis"]
    day_ms = DAY * 1000
    date = datetime.datetime.fromtimestamp((now_ms // day_ms + 2) * day_ms / 1000, tz=datetime.timezone.utc)
    s3.put_bucket_lifecycle_configuration(Bucket="dated", LifecycleConfiguration=lifecycle(
        {"ID": "d", "Status": "Enabled", "Prefix": "", "Expiration": {"Date": date}}))
    advance(server, DAY)
    time.sleep(1.5)
    assert keys_of(s3, "dated") == ["k"]
    advance(server, 2 * DAY)
    wait_for(lambda: keys_of(s3, "dated") == [])


def test_disabled_rules_expire_nothing(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="disabled")
    s3.put_object(Bucket="disabled", Key="k", Body=b"x")
    rule = expire_rule()
    rule["Status"] = "Disabled"
    s3.put_bucket_lifecycle_configuration(Bucket="disabled", LifecycleConfiguration=lifecycle(rule))
    advance(server, 10 * DAY)
    time.sleep(1.5)
    assert keys_of(s3, "disabled") == ["k"]


def test_tag_filters_expire_only_tagged_objects(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="tagged")
    s3.put_object(Bucket="tagged", Key="scratch", Body=b"x", Tagging="temporary=yes")
    s3.put_object(Bucket="tagged", Key="precious", Body=b"y")
    s3.put_bucket_lifecycle_configuration(Bucket="tagged", LifecycleConfiguration=lifecycle(
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Tag": {"Key": "temporary", "Value": "yes"}},
         "Expiration": {"Days": 1}}))
    advance(server, PAST_DUE)
    wait_for(lambda: keys_of(s3, "tagged") == ["precious"])


def test_versioned_buckets_get_a_delete_marker_and_lose_noncurrent_versions(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="versioned", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned", Key="doc", Body=b"two")["VersionId"]
    s3.put_bucket_lifecycle_configuration(Bucket="versioned", LifecycleConfiguration=lifecycle(
        expire_rule("current", "", 1, NoncurrentVersionExpiration={"NoncurrentDays": 1}),
        {"ID": "markers", "Status": "Enabled", "Prefix": "", "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ))
    advance(server, PAST_DUE)
    # v2 expires into a delete marker; v1, noncurrent since v2 was written, is removed.
    wait_for(lambda: len(versions_of(s3, "versioned")) == 2 and versions_of(s3, "versioned")[0][1])
    versions = versions_of(s3, "versioned")
    assert versions[1] == (v2, False)
    assert v1 not in [v for v, _ in versions]
    err = error_of(s3.get_object, Bucket="versioned", Key="doc")
    assert code_of(err) == ("NoSuchKey", 404)
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket="versioned", Key="doc", VersionId=v2)["Body"].read() == b"two"
    assert keys_of(s3, "versioned") == []
    # A day after the marker, v2 (now noncurrent) goes, then the lone marker with it.
    advance(server, PAST_DUE)
    wait_for(lambda: versions_of(s3, "versioned") == [])


def test_newer_noncurrent_versions_are_kept(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="keep-two")
    s3.put_bucket_versioning(Bucket="keep-two", VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket="keep-two", Key="k", Body=str(i).encode())["VersionId"] for i in range(4)]
    s3.put_bucket_lifecycle_configuration(Bucket="keep-two", LifecycleConfiguration=lifecycle(
        {"ID": "nc", "Status": "Enabled", "Prefix": "",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}))
    advance(server, PAST_DUE)
    # The current version and the two newest noncurrent ones stay; the oldest goes.
    wait_for(lambda: len(versions_of(s3, "keep-two")) == 3)
    assert [v for v, _ in versions_of(s3, "keep-two")] == ids[:0:-1]


def test_incomplete_multipart_uploads_are_aborted(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="uploads")
    s3.create_multipart_upload(Bucket="uploads", Key="big/file")
    s3.create_multipart_upload(Bucket="uploads", Key="other/file")
    s3.put_bucket_lifecycle_configuration(Bucket="uploads", LifecycleConfiguration=lifecycle(
        {"ID": "abort", "Status": "Enabled", "Prefix": "big/",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}))
    advance(server, PAST_DUE)

    def remaining():
        return [u["Key"] for u in s3.list_multipart_uploads(Bucket="uploads").get("Uploads", [])]

    wait_for(lambda: remaining() == ["other/file"])


def test_transitions_change_the_storage_class_of_large_objects(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="cold")
    s3.put_object(Bucket="cold", Key="archive/big", Body=b"x" * (128 * 1024))
    s3.put_object(Bucket="cold", Key="archive/small", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket="cold", LifecycleConfiguration=lifecycle(
        {"ID": "glacier", "Status": "Enabled", "Prefix": "archive/",
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}))
    advance(server, PAST_DUE)
    wait_for(lambda: s3.head_object(Bucket="cold", Key="archive/big").get("StorageClass") == "GLACIER")
    # Objects under 128 KiB stay where they are by default.
    assert "StorageClass" not in s3.head_object(Bucket="cold", Key="archive/small")


def test_expiration_survives_kill_9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable")
    s3.put_bucket_lifecycle_configuration(Bucket="durable", LifecycleConfiguration=lifecycle(expire_rule()))
    s3.put_object(Bucket="durable", Key="a", Body=b"a")
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    # The configuration came back from disk, and the runner acts on it after a restart.
    advance(server, PAST_DUE)
    wait_for(lambda: keys_of(s3, "durable") == [])
    # The runner's deletion reaches the disk in the order it was made, before any write
    # acknowledged after it; without this write a kill could land between the two.
    s3.put_object(Bucket="durable", Key="later", Body=b"b")
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    # The expiration was persisted: the object stays gone.
    assert keys_of(s3, "durable") == ["later"]
    assert code_of(error_of(s3.head_object, Bucket="durable", Key="a"))[1] == 404


# ------------------------------------------------------------------ x-amz-expiration


def test_put_get_and_head_report_when_an_expiration_rule_expires_the_object(s3, bucket):
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration=lifecycle(
            expire_rule("picture-deletion-rule", prefix="pictures/", days=2),
            {"ID": "dated", "Filter": {"Prefix": "docs/"}, "Status": "Enabled",
             "Expiration": {"Date": datetime.datetime(2040, 1, 1, tzinfo=datetime.timezone.utc)}},
        ),
    )
    put = s3.put_object(Bucket=bucket, Key="pictures/cat.jpg", Body=b"meow")
    modified = s3.head_object(Bucket=bucket, Key="pictures/cat.jpg")["LastModified"]
    due = datetime.datetime.combine(
        (modified + datetime.timedelta(days=2)).date() + datetime.timedelta(days=1), datetime.time()
    )
    expected = f'expiry-date="{due:%a, %d %b %Y} 00:00:00 GMT", rule-id="picture-deletion-rule"'
    assert put["Expiration"] == expected
    assert s3.get_object(Bucket=bucket, Key="pictures/cat.jpg")["Expiration"] == expected
    assert s3.head_object(Bucket=bucket, Key="pictures/cat.jpg")["Expiration"] == expected

    dated = s3.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"a")
    assert dated["Expiration"] == 'expiry-date="Sun, 01 Jan 2040 00:00:00 GMT", rule-id="dated"'
    # Objects no rule selects carry no header.
    other = s3.put_object(Bucket=bucket, Key="music/song.mp3", Body=b"la")
    assert "Expiration" not in other
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="music/song.mp3")
    # A copy into a selected key reports it too.
    copied = s3.copy_object(Bucket=bucket, Key="pictures/dog.jpg", CopySource={"Bucket": bucket, "Key": "music/song.mp3"})
    assert copied["Expiration"].endswith('rule-id="picture-deletion-rule"')
