"""S3 buckets: naming rules, LocationConstraint rules, global names, listing, deletion."""

from __future__ import annotations

import pytest

from s3_helpers import aws_s3, error_of


def test_create_head_and_location_of_a_us_east_1_bucket(aws_client, unique_name):
    s3 = aws_client("s3")
    name = unique_name("b")
    assert s3.create_bucket(Bucket=name)["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    # Buckets in us-east-1 report no LocationConstraint.
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") is None


def test_head_bucket_of_a_missing_bucket_is_404(aws_client, unique_name):
    err = error_of(aws_client("s3").head_bucket, Bucket=unique_name("missing"))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["Error"]["Code"] == "404"


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Upper-case", "under_score", "-leading", "trailing-",
                                  "two..dots", "192.168.1.1", "xn--punycode", "bucket-s3alias"])
def test_invalid_bucket_names_are_refused(aws_client, name):
    err = error_of(aws_client("s3").create_bucket, Bucket=name)
    assert err["Error"]["Code"] == "InvalidBucketName"
    assert err["Error"]["Message"] == "The specified bucket is not valid."
    assert err["Error"]["BucketName"] == name
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_location_constraint_must_match_the_region_outside_us_east_1(aws_client, unique_name):
    s3 = aws_client("s3", region="eu-west-1")
    name = unique_name("eu")
    err = error_of(s3.create_bucket, Bucket=name)
    assert err["Error"]["Code"] == "IllegalLocationConstraintException"
    assert "unspecified location constraint is incompatible" in err["Error"]["Message"]
    err = error_of(s3.create_bucket, Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert err["Error"]["Code"] == "IllegalLocationConstraintException"
    assert "us-west-2 location constraint is incompatible" in err["Error"]["Message"]
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"


def test_us_east_1_takes_no_explicit_location_constraint(aws_client, unique_name):
    err = error_of(aws_client("s3").create_bucket, Bucket=unique_name("b"),
                   CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert err["Error"]["Code"] == "InvalidLocationConstraint"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bucket_names_are_global_across_accounts(aws_client, unique_name):
    name = unique_name("g")
    owner = aws_client("s3", region="eu-west-1", account="111111111111")
    config = {"LocationConstraint": "eu-west-1"}
    owner.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    again = error_of(owner.create_bucket, Bucket=name, CreateBucketConfiguration=config)
    assert again["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    assert again["Error"]["BucketName"] == name
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 409
    other = aws_client("s3", region="eu-west-1", account="222222222222")
    taken = error_of(other.create_bucket, Bucket=name, CreateBucketConfiguration=config)
    assert taken["Error"]["Code"] == "BucketAlreadyExists"
    assert taken["ResponseMetadata"]["HTTPStatusCode"] == 409
    # The other account neither sees nor may delete it.
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]
    assert error_of(other.delete_bucket, Bucket=name)["Error"]["Code"] == "AccessDenied"
    assert name in [b["Name"] for b in owner.list_buckets()["Buckets"]]


def test_list_buckets_shows_only_the_callers_buckets_with_region(aws_client, unique_name):
    s3 = aws_client("s3", account="333333333333")
    names = sorted(unique_name("l") for _ in range(3))
    for n in names:
        s3.create_bucket(Bucket=n)
    listed = s3.list_buckets()
    mine = [b for b in listed["Buckets"] if b["Name"] in names]
    assert [b["Name"] for b in mine] == names
    assert all(b["BucketRegion"] == "us-east-1" and b["CreationDate"] for b in mine)
    assert len(listed["Owner"]["ID"]) == 64
    assert not [b for b in aws_client("s3", account="444444444444").list_buckets()["Buckets"] if b["Name"] in names]


def test_delete_bucket_refuses_a_non_empty_bucket_and_forgets_an_empty_one(aws_client, unique_name):
    s3 = aws_client("s3")
    name = unique_name("d")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    err = error_of(s3.delete_bucket, Bucket=name)
    assert err["Error"]["Code"] == "BucketNotEmpty"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3.delete_object(Bucket=name, Key="k")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    err = error_of(s3.delete_bucket, Bucket=name)
    assert err["Error"]["Code"] == "NoSuchBucket"
    assert err["Error"]["BucketName"] == name
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_cli_makes_and_removes_a_bucket(kagami, aws_client, unique_name):
    name = unique_name("cli")
    assert f"make_bucket: {name}" in aws_s3(kagami.endpoint, "s3", "mb", f"s3://{name}").stdout
    assert aws_client("s3").head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert f"remove_bucket: {name}" in aws_s3(kagami.endpoint, "s3", "rb", f"s3://{name}").stdout
    assert error_of(aws_client("s3").head_bucket, Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 404
