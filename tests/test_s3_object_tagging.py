"""S3 object subresources: tags (PutObjectTagging, GetObjectTagging,
DeleteObjectTagging, the x-amz-tagging header and x-amz-tagging-count, S3's limits) and
object ACLs (canned ACLs, grant headers, AccessControlPolicy bodies, Object Ownership),
per version."""

from __future__ import annotations

import pytest

from s3_helpers import error_of

# Writes expected to fail send an empty body: kagami refuses them before reading the
# body, and a connection closed with request bytes unread can be reset before the client
# reads the error (the gateway does not drain unread bodies yet).

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OTHER_ID = "a" * 64


@pytest.fixture
def s3(aws_client):
    return aws_client("s3")


@pytest.fixture
def bucket(s3, unique_name):
    name = unique_name("tag")
    s3.create_bucket(Bucket=name)
    return name


def tags(*pairs: tuple[str, str]) -> dict:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


# ------------------------------------------------------------------ tagging


def test_tags_round_trip_and_are_replaced_as_a_whole(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tags(("env", "dev"), ("team", "s3")))
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == tags(("env", "dev"), ("team", "s3"))["TagSet"]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tags(("only", "one")))
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "only", "Value": "one"}]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 1
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")


def test_the_tagging_header_tags_the_new_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="project=kagami&owner=team%20s3&empty=")
    got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert got == [
        {"Key": "project", "Value": "kagami"},
        {"Key": "owner", "Value": "team s3"},
        {"Key": "empty", "Value": ""},
    ]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 3
    # An overwrite without the header has no tags.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


def test_the_tagging_header_rejects_duplicates_and_more_than_ten_tags(s3, bucket):
    err = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"", Tagging="a=1&a=2")
    assert err["Error"]["Code"] == "InvalidArgument"
    assert err["Error"]["ArgumentName"] == "x-amz-tagging"
    many = "&".join(f"k{i}=v" for i in range(11))
    err = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"", Tagging=many)
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("BadRequest", "Object tags cannot be greater than 10")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error_of(s3.head_object, Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    "tag_set, code, message",
    [
        ([(f"k{i}", "v") for i in range(11)], "BadRequest", "Object tags cannot be greater than 10"),
        ([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is too long, max 128"),
        ([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is too long, max 256"),
        ([("same", "1"), ("same", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key"),
        ([("aws:reserved", "v")], "InvalidTag", "Your TagKey cannot be prefixed with aws:"),
        ([("bad*key", "v")], "InvalidTag", "The TagKey you have provided is invalid"),
    ],
)
def test_put_object_tagging_enforces_s3_limits(s3, bucket, tag_set, code, message):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    err = error_of(s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=tags(*tag_set))
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (code, message)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_ten_tags_of_maximal_length_are_accepted(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    tag_set = [(f"{i}" + "k" * 127, "v" * 256) for i in range(10)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tags(*tag_set))
    assert len(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == 10


def test_tags_belong_to_one_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    answer = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging=tags(("v", "one")))
    assert answer["VersionId"] == v1
    old = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert (old["VersionId"], old["TagSet"]) == (v1, [{"Key": "v", "Value": "one"}])
    current = s3.get_object_tagging(Bucket=bucket, Key="k")
    assert (current["VersionId"], current["TagSet"]) == (v2, [])
    assert s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == []
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert error_of(s3.get_object_tagging, Bucket=bucket, Key="k")["Error"]["Code"] == "NoSuchKey"
    err = error_of(s3.put_object_tagging, Bucket=bucket, Key="k", VersionId=marker, Tagging=tags(("a", "b")))
    assert err["Error"]["Code"] == "MethodNotAllowed"
    assert err["Error"]["Method"] == "PUT"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 405


def test_tagging_a_missing_object_or_version_fails(s3, bucket):
    err = error_of(s3.get_object_tagging, Bucket=bucket, Key="missing")
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("NoSuchKey", 404)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    err = error_of(s3.put_object_tagging, Bucket=bucket, Key="k", VersionId="A" * 32, Tagging=tags(("a", "b")))
    assert err["Error"]["Code"] == "NoSuchVersion"


def test_the_cli_tags_an_object(aws_cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    aws_cli("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
            "--tagging", '{"TagSet":[{"Key":"cli","Value":"yes"}]}')
    assert aws_cli("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k")["TagSet"] == [
        {"Key": "cli", "Value": "yes"}
    ]


def test_another_account_cannot_read_or_set_tags(aws_client, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=b")
    other = aws_client("s3", account="222222222222")
    for call, kwargs in [
        (other.get_object_tagging, {}),
        (other.put_object_tagging, {"Tagging": tags(("x", "y"))}),
        (other.delete_object_tagging, {}),
        (other.get_object_acl, {}),
        (other.put_object_acl, {"ACL": "private"}),
    ]:
        err = error_of(call, Bucket=bucket, Key="k", **kwargs)
        assert err["Error"]["Code"] == "AccessDenied", call
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "a", "Value": "b"}]


# ------------------------------------------------------------------ ACLs


def owner_id(s3) -> str:
    return s3.list_buckets()["Owner"]["ID"]


def grants_of(answer: dict) -> list[tuple]:
    out = []
    for g in answer["Grants"]:
        grantee = g["Grantee"]
        out.append((grantee["Type"], grantee.get("ID") or grantee.get("URI"), g["Permission"]))
    return sorted(out)


@pytest.fixture
def acl_bucket(s3, bucket):
    """A bucket that accepts ACLs: Object Ownership ObjectWriter, public ACLs allowed."""
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.delete_public_access_block(Bucket=bucket)
    return bucket


def test_a_new_object_gives_its_owner_full_control(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    answer = s3.get_object_acl(Bucket=bucket, Key="k")
    me = owner_id(s3)
    assert answer["Owner"]["ID"] == me
    assert grants_of(answer) == [("CanonicalUser", me, "FULL_CONTROL")]


@pytest.mark.parametrize(
    "acl, extra",
    [
        ("private", []),
        ("public-read", [("Group", ALL_USERS, "READ")]),
        ("public-read-write", [("Group", ALL_USERS, "READ"), ("Group", ALL_USERS, "WRITE")]),
        ("authenticated-read", [("Group", AUTHENTICATED_USERS, "READ")]),
        ("bucket-owner-read", []),
        ("bucket-owner-full-control", []),
    ],
)
def test_canned_acls_grant_what_s3_documents(s3, acl_bucket, acl, extra):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=acl_bucket, Key="k", ACL=acl)
    me = owner_id(s3)
    assert grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k")) == sorted(
        [("CanonicalUser", me, "FULL_CONTROL"), *extra]
    )


def test_the_acl_header_of_put_object_sets_the_acl(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x", ACL="public-read")
    assert ("Group", ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k"))
    s3.put_object(Bucket=acl_bucket, Key="g", Body=b"x", GrantRead=f'id="{OTHER_ID}"')
    assert grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="g")) == [("CanonicalUser", OTHER_ID, "READ")]


def test_grant_headers_and_policies_set_explicit_grants(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    s3.put_object_acl(
        Bucket=acl_bucket, Key="k", GrantRead=f'uri="{ALL_USERS}", id="{OTHER_ID}"', GrantFullControl=f'id="{owner_id(s3)}"'
    )
    assert grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k")) == sorted(
        [("CanonicalUser", owner_id(s3), "FULL_CONTROL"), ("Group", ALL_USERS, "READ"), ("CanonicalUser", OTHER_ID, "READ")]
    )
    me = owner_id(s3)
    s3.put_object_acl(
        Bucket=acl_bucket,
        Key="k",
        AccessControlPolicy={
            "Owner": {"ID": me},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": me}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_ID}, "Permission": "READ_ACP"},
            ],
        },
    )
    assert grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k")) == sorted(
        [("CanonicalUser", me, "FULL_CONTROL"), ("CanonicalUser", OTHER_ID, "READ_ACP")]
    )


def test_invalid_acl_requests_are_refused(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    err = error_of(s3.put_object_acl, Bucket=acl_bucket, Key="k", ACL="public-read", GrantRead=f'id="{OTHER_ID}"')
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed",
    )
    err = error_of(s3.put_object_acl, Bucket=acl_bucket, Key="k", ACL="everyone-please")
    assert (err["Error"]["Code"], err["Error"]["ArgumentName"]) == ("InvalidArgument", "x-amz-acl")
    err = error_of(s3.put_object_acl, Bucket=acl_bucket, Key="k", GrantRead='id="not-a-canonical-id"')
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("InvalidArgument", "Invalid id")
    err = error_of(s3.put_object_acl, Bucket=acl_bucket, Key="k", GrantRead='uri="http://example.com/group"')
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("InvalidArgument", "Invalid group uri")
    err = error_of(s3.put_object_acl, Bucket=acl_bucket, Key="k")
    assert (err["Error"]["Code"], err["Error"]["MissingHeaderName"]) == ("MissingSecurityHeader", "x-amz-acl")
    me = owner_id(s3)
    assert grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k")) == [("CanonicalUser", me, "FULL_CONTROL")]


def test_acls_are_disabled_when_the_bucket_owner_is_enforced(s3, bucket):
    # New buckets are BucketOwnerEnforced: only the owner's full control is accepted.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    err = error_of(s3.put_object_acl, Bucket=bucket, Key="k", ACL="public-read")
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "AccessControlListNotSupported", "The bucket does not allow ACLs",
    )
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = error_of(s3.put_object, Bucket=bucket, Key="p", Body=b"", ACL="authenticated-read")
    assert err["Error"]["Code"] == "AccessControlListNotSupported"
    assert error_of(s3.head_object, Bucket=bucket, Key="p")["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Not even `private`: only bucket-owner-full-control or its equivalent grants.
    err = error_of(s3.put_object_acl, Bucket=bucket, Key="k", ACL="private")
    assert err["Error"]["Code"] == "AccessControlListNotSupported"
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f'id="{owner_id(s3)}"')
    s3.put_object(Bucket=bucket, Key="q", Body=b"x", ACL="bucket-owner-full-control")
    me = owner_id(s3)
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="q")) == [("CanonicalUser", me, "FULL_CONTROL")]


def test_block_public_acls_refuses_public_grants(s3, bucket):
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    err = error_of(s3.put_object_acl, Bucket=bucket, Key="k", ACL="public-read")
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'id="{OTHER_ID}"')
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k")) == [("CanonicalUser", OTHER_ID, "READ")]


def test_acls_belong_to_one_version(s3, acl_bucket):
    s3.put_bucket_versioning(Bucket=acl_bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=acl_bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"2")
    s3.put_object_acl(Bucket=acl_bucket, Key="k", VersionId=v1, ACL="public-read")
    assert ("Group", ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k", VersionId=v1))
    assert len(grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k"))) == 1
