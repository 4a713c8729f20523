"""S3 listings: ListObjectsV2, ListObjects (V1) and ListObjectVersions as AWS documents
them (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html): UTF-8
byte order, Prefix/Delimiter/CommonPrefixes, MaxKeys, markers and continuation tokens,
EncodingType=url, owners, delete markers, account isolation, and the AWS CLI's
`ls`, `sync` and `rm --recursive` on top of them."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from s3_helpers import aws_s3, error_of

# Keys whose order or encoding trips listings that are not byte-exact: spaces, `+`, `%`,
# non-ASCII of every UTF-8 length, and a pair that UTF-16 order would swap
# (U+FF5A sorts before U+1F600 in UTF-8, after it in UTF-16).
SPECIAL_KEYS = [
    "a b",
    "a+b",
    "a%2Bb",
    "100%.csv",
    "run books/x.txt",
    "한글/x.txt",
    "é/accent",
    "\uff5a-fullwidth",
    "\U0001f600-emoji",
    "~tilde",
    "A-upper",
    "a-lower",
    "dir/",
    "dir/sub dir/f+1",
]

# More than one default page (1000), so the cap and the pagination are both exercised.
MANY = 1010


def utf8_order(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def put_all(s3, bucket, keys, body=b"x"):
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys))


@pytest.fixture(scope="module")
def big_bucket(kagami):
    """A bucket of MANY keys, shared by the pagination tests (they only read it)."""
    s3 = kagami.client("s3")
    name = f"listing-big-{os.urandom(6).hex()}"
    s3.create_bucket(Bucket=name)
    keys = [f"k/{i % 7}/{i:05d}" for i in range(MANY - len(SPECIAL_KEYS))] + SPECIAL_KEYS
    put_all(s3, name, keys)
    return name, keys


@pytest.fixture
def bucket(aws_client, unique_name):
    name = unique_name("list")
    aws_client("s3").create_bucket(Bucket=name)
    return name


TREE = [
    "a.txt",
    "photos/2024/feb/2.jpg",
    "photos/2024/jan/1.jpg",
    "photos/2025/x.jpg",
    "photos/top.jpg",
    "videos/v.mp4",
    "zz",
]


@pytest.fixture
def tree_bucket(aws_client, bucket):
    put_all(aws_client("s3"), bucket, TREE)
    return bucket


def keys_of(page):
    return [o["Key"] for o in page.get("Contents", [])]


def prefixes_of(page):
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


# --------------------------------------------------------------------------- pagination


def test_v2_paginator_lists_every_key_once_in_utf8_byte_order(aws_client, big_bucket):
    name, keys = big_bucket
    pages = list(
        aws_client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=name, PaginationConfig={"PageSize": 7}
        )
    )
    listed = [k for p in pages for k in keys_of(p)]
    assert listed == utf8_order(keys)
    assert len(pages) == -(-MANY // 7)
    for p in pages[:-1]:
        assert p["IsTruncated"] is True and p["KeyCount"] == 7 and p["MaxKeys"] == 7
        assert p["NextContinuationToken"]
    assert pages[-1]["IsTruncated"] is False
    assert "NextContinuationToken" not in pages[-1]
    # The token of each page comes back as the next page's ContinuationToken.
    assert pages[1]["ContinuationToken"] == pages[0]["NextContinuationToken"]


def test_a_continuation_token_survives_changes_to_the_bucket_between_pages(aws_client, bucket):
    s3 = aws_client("s3")
    put_all(s3, bucket, [f"k{i:02d}" for i in range(10)])
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=4)
    assert keys_of(first) == ["k00", "k01", "k02", "k03"]
    # The key the page ended on goes away, one before it and one after it appear.
    s3.delete_object(Bucket=bucket, Key="k03")
    put_all(s3, bucket, ["k015", "k055"])
    rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert keys_of(rest) == ["k04", "k05", "k055", "k06", "k07", "k08", "k09"]


def test_v1_paginator_lists_every_key_once_in_utf8_byte_order(aws_client, big_bucket):
    name, keys = big_bucket
    pages = list(
        aws_client("s3").get_paginator("list_objects").paginate(
            Bucket=name, PaginationConfig={"PageSize": 9}
        )
    )
    assert [k for p in pages for k in keys_of(p)] == utf8_order(keys)
    # Without a delimiter there is no NextMarker: clients resume after the last key.
    assert all("NextMarker" not in p for p in pages)
    assert all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]


def test_default_page_is_1000_keys_and_max_keys_above_1000_is_capped(aws_client, big_bucket):
    name, keys = big_bucket
    s3 = aws_client("s3")
    first = s3.list_objects_v2(Bucket=name)
    assert first["MaxKeys"] == 1000 and first["KeyCount"] == 1000 and first["IsTruncated"]
    rest = s3.list_objects_v2(Bucket=name, ContinuationToken=first["NextContinuationToken"])
    assert keys_of(first) + keys_of(rest) == utf8_order(keys)
    assert rest["KeyCount"] == MANY - 1000 and rest["IsTruncated"] is False
    capped = s3.list_objects_v2(Bucket=name, MaxKeys=5000)
    assert capped["KeyCount"] == 1000 and capped["IsTruncated"] is True
    v1 = s3.list_objects(Bucket=name)
    assert len(v1["Contents"]) == 1000 and v1["IsTruncated"] is True


def test_max_keys_zero_returns_an_empty_page_that_is_not_truncated(aws_client, big_bucket):
    name, _ = big_bucket
    s3 = aws_client("s3")
    page = s3.list_objects_v2(Bucket=name, MaxKeys=0)
    assert page["KeyCount"] == 0 and page["IsTruncated"] is False and page["MaxKeys"] == 0
    assert "Contents" not in page and "NextContinuationToken" not in page
    v1 = s3.list_objects(Bucket=name, MaxKeys=0)
    assert "Contents" not in v1 and v1["IsTruncated"] is False


def test_empty_bucket_lists_nothing_with_prefix_echoed(aws_client, bucket):
    page = aws_client("s3").list_objects_v2(Bucket=bucket)
    assert page["KeyCount"] == 0 and page["IsTruncated"] is False
    assert "Contents" not in page and "CommonPrefixes" not in page
    assert page["Name"] == bucket and page["Prefix"] == "" and page["MaxKeys"] == 1000
    v1 = aws_client("s3").list_objects(Bucket=bucket)
    assert v1["Marker"] == "" and v1["Prefix"] == "" and "Contents" not in v1


# --------------------------------------------------------------------------- prefix & delimiter


def test_delimiter_rolls_keys_up_into_common_prefixes(aws_client, tree_bucket):
    s3 = aws_client("s3")
    top = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/")
    assert keys_of(top) == ["a.txt", "zz"]
    assert prefixes_of(top) == ["photos/", "videos/"]
    assert top["KeyCount"] == 4 and top["Delimiter"] == "/"
    photos = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/", Delimiter="/")
    assert keys_of(photos) == ["photos/top.jpg"]
    assert prefixes_of(photos) == ["photos/2024/", "photos/2025/"]
    assert photos["Prefix"] == "photos/"
    deep = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/2024/", Delimiter="/")
    assert keys_of(deep) == [] and prefixes_of(deep) == ["photos/2024/feb/", "photos/2024/jan/"]
    # A prefix alone filters, without rolling anything up.
    flat = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/2024")
    assert keys_of(flat) == ["photos/2024/feb/2.jpg", "photos/2024/jan/1.jpg"]
    assert "CommonPrefixes" not in flat and "Delimiter" not in flat
    # A delimiter other than "/" works the same way.
    by_dot = s3.list_objects_v2(Bucket=tree_bucket, Delimiter=".")
    assert prefixes_of(by_dot) == ["a.", "photos/2024/feb/2.", "photos/2024/jan/1.",
                                   "photos/2025/x.", "photos/top.", "videos/v."]
    assert keys_of(by_dot) == ["zz"]


def test_each_common_prefix_counts_toward_max_keys(aws_client, tree_bucket):
    pages = list(
        aws_client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=tree_bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    entries = [(keys_of(p), prefixes_of(p)) for p in pages]
    assert entries == [(["a.txt"], []), ([], ["photos/"]), ([], ["videos/"]), (["zz"], [])]
    assert [p["KeyCount"] for p in pages] == [1, 1, 1, 1]


def test_v1_next_marker_is_returned_only_with_a_delimiter(aws_client, tree_bucket):
    s3 = aws_client("s3")
    first = s3.list_objects(Bucket=tree_bucket, Delimiter="/", MaxKeys=2)
    assert keys_of(first) == ["a.txt"] and prefixes_of(first) == ["photos/"]
    assert first["IsTruncated"] is True and first["NextMarker"] == "photos/"
    # Resuming after a common prefix skips every key under it.
    second = s3.list_objects(Bucket=tree_bucket, Delimiter="/", MaxKeys=2, Marker="photos/")
    assert prefixes_of(second) == ["videos/"] and keys_of(second) == ["zz"]
    assert second["IsTruncated"] is False and "NextMarker" not in second
    assert second["Marker"] == "photos/"
    no_delimiter = s3.list_objects(Bucket=tree_bucket, MaxKeys=2)
    assert no_delimiter["IsTruncated"] is True and "NextMarker" not in no_delimiter
    after = s3.list_objects(Bucket=tree_bucket, Marker=keys_of(no_delimiter)[-1])
    assert keys_of(no_delimiter) + keys_of(after) == TREE


def test_v1_and_v2_paginators_agree_under_a_delimiter(aws_client, big_bucket):
    name, keys = big_bucket
    s3 = aws_client("s3")
    v2 = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 3}))
    v1 = list(s3.get_paginator("list_objects").paginate(
        Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 3}))
    expected_prefixes = utf8_order({k.split("/")[0] + "/" for k in keys if "/" in k})
    expected_keys = utf8_order([k for k in keys if "/" not in k])
    for pages in (v1, v2):
        assert [p for page in pages for p in prefixes_of(page)] == expected_prefixes
        assert [k for page in pages for k in keys_of(page)] == expected_keys


def test_start_after_lists_keys_after_it(aws_client, tree_bucket):
    s3 = aws_client("s3")
    page = s3.list_objects_v2(Bucket=tree_bucket, StartAfter="photos/2024/jan/1.jpg")
    assert keys_of(page) == ["photos/2025/x.jpg", "photos/top.jpg", "videos/v.mp4", "zz"]
    assert page["StartAfter"] == "photos/2024/jan/1.jpg"
    # StartAfter need not be a key that exists.
    assert keys_of(s3.list_objects_v2(Bucket=tree_bucket, StartAfter="q")) == ["videos/v.mp4", "zz"]
    beyond = s3.list_objects_v2(Bucket=tree_bucket, StartAfter="zzz")
    assert beyond["KeyCount"] == 0 and "Contents" not in beyond
    # With a prefix, a StartAfter before the prefix starts at the prefix.
    scoped = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/", StartAfter="b")
    assert keys_of(scoped)[0] == "photos/2024/feb/2.jpg"
    # With a delimiter, a StartAfter before a common prefix lists it.
    rolled = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/", StartAfter="photos")
    assert prefixes_of(rolled) == ["photos/", "videos/"] and keys_of(rolled) == ["zz"]


def test_delete_markers_hide_keys_from_object_listings(aws_client, bucket):
    s3 = aws_client("s3")
    put_all(s3, bucket, ["keep", "gone", "dir/gone"])
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_object(Bucket=bucket, Key="gone")
    s3.delete_object(Bucket=bucket, Key="dir/gone")
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == ["keep"]
    assert keys_of(s3.list_objects(Bucket=bucket)) == ["keep"]
    # A prefix whose every key is deleted is no common prefix.
    assert "CommonPrefixes" not in s3.list_objects_v2(Bucket=bucket, Delimiter="/")


def test_a_common_prefix_at_the_end_of_the_key_space_ends_the_listing(aws_client, bucket):
    # Nothing sorts after U+10FFFF: the walk past this common prefix has nowhere to go.
    s3 = aws_client("s3")
    last = "\U0010ffff"
    put_all(s3, bucket, ["a", last + last, last + "x" + last])
    page = s3.list_objects_v2(Bucket=bucket, Delimiter=last)
    assert keys_of(page) == ["a"] and prefixes_of(page) == [last]
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter=last, PaginationConfig={"PageSize": 1}))
    assert [(keys_of(p), prefixes_of(p)) for p in pages] == [(["a"], []), ([], [last])]


# --------------------------------------------------------------------------- entries


def test_contents_carry_etag_size_storage_class_and_last_modified(aws_client, bucket):
    s3 = aws_client("s3")
    body = b"listing body" * 10
    s3.put_object(Bucket=bucket, Key="plain", Body=body)
    s3.put_object(Bucket=bucket, Key="cold", Body=b"", StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="plain")
    entries = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    plain = entries["plain"]
    assert plain["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert plain["Size"] == len(body)
    assert plain["StorageClass"] == "STANDARD"
    assert plain["LastModified"] == head["LastModified"]
    assert entries["cold"]["StorageClass"] == "STANDARD_IA" and entries["cold"]["Size"] == 0


def test_contents_name_the_checksum_algorithm_of_the_object(aws_client, bucket):
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key="summed", Body=b"checked", ChecksumAlgorithm="SHA256")
    (entry,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert entry["ChecksumAlgorithm"] == ["SHA256"]
    assert entry["ChecksumType"] == "FULL_OBJECT"


def test_owner_only_with_fetch_owner_in_v2_and_always_in_v1(aws_client, bucket):
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    owner_id = s3.list_buckets()["Owner"]["ID"]
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    fetched = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert fetched["Owner"]["ID"] == owner_id
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"] == owner_id


# --------------------------------------------------------------------------- encoding-type


def test_encoding_type_url_encodes_keys_prefixes_and_echoes(aws_client, bucket):
    s3 = aws_client("s3")
    put_all(s3, bucket, ["sp ace/a+b%c", "sp ace/é", "plain", "한/x"])
    # Asked for explicitly, botocore hands the encoded values through untouched.
    page = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/",
                              StartAfter="a b")
    assert page["EncodingType"] == "url"
    assert keys_of(page) == ["plain"]
    assert prefixes_of(page) == ["sp%20ace/", "%ED%95%9C/"]
    assert page["StartAfter"] == "a%20b" and page["Delimiter"] == "/"
    nested = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="sp ace/")
    assert keys_of(nested) == ["sp%20ace/a%2Bb%25c", "sp%20ace/%C3%A9"]
    assert nested["Prefix"] == "sp%20ace/"
    versions = s3.list_object_versions(Bucket=bucket, EncodingType="url", Prefix="sp ace/")
    assert [v["Key"] for v in versions["Versions"]] == ["sp%20ace/a%2Bb%25c", "sp%20ace/%C3%A9"]
    v1 = s3.list_objects(Bucket=bucket, EncodingType="url", Marker="sp ace/a")
    assert v1["Marker"] == "sp%20ace/a"
    assert keys_of(v1) == ["sp%20ace/a%2Bb%25c", "sp%20ace/%C3%A9", "%ED%95%9C/x"]
    # By default botocore asks for url encoding itself and decodes the answer.
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == ["plain", "sp ace/a+b%c", "sp ace/é", "한/x"]
    without = s3.list_objects_v2(Bucket=bucket)
    assert "EncodingType" in without  # botocore set it


def test_an_unknown_encoding_type_is_invalid_argument(aws_client, bucket):
    s3 = aws_client("s3")
    for call in (s3.list_objects_v2, s3.list_objects, s3.list_object_versions):
        err = error_of(call, Bucket=bucket, EncodingType="base64")
        assert err["Error"]["Code"] == "InvalidArgument"
        assert err["Error"]["Message"] == "Invalid Encoding Method specified in Request"
        assert err["Error"]["ArgumentName"] == "encoding-type"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


# --------------------------------------------------------------------------- errors


def test_a_malformed_continuation_token_is_invalid_argument(aws_client, tree_bucket):
    s3 = aws_client("s3")
    for token in ("not a token!", "", "//79"):
        err = error_of(s3.list_objects_v2, Bucket=tree_bucket, ContinuationToken=token)
        assert err["Error"]["Code"] == "InvalidArgument", token
        assert err["Error"]["Message"] == "The continuation token provided is incorrect"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_negative_max_keys_is_invalid_argument(aws_client, bucket):
    s3 = aws_client("s3")
    for call in (s3.list_objects_v2, s3.list_objects):
        err = error_of(call, Bucket=bucket, MaxKeys=-1)
        assert err["Error"]["Code"] == "InvalidArgument"
        assert err["Error"]["Message"] == "Argument maxKeys must be an integer between 0 and 2147483647"
        assert err["Error"]["ArgumentName"] == "maxKeys"
        assert err["Error"]["ArgumentValue"] == "-1"
    err = error_of(s3.list_object_versions, Bucket=bucket, MaxKeys=-1)
    assert err["Error"]["Code"] == "InvalidArgument"
    assert err["Error"]["Message"] == "max-keys cannot be negative"


def test_missing_bucket_is_no_such_bucket(aws_client, unique_name):
    s3 = aws_client("s3")
    missing = unique_name("nobucket")
    for call in (s3.list_objects_v2, s3.list_objects, s3.list_object_versions):
        err = error_of(call, Bucket=missing)
        assert err["Error"]["Code"] == "NoSuchBucket"
        assert err["Error"]["BucketName"] == missing
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_another_accounts_bucket_is_access_denied_and_lists_stay_apart(aws_client, unique_name):
    alice = aws_client("s3", account="111111111111")
    bob = aws_client("s3", account="222222222222")
    alices, bobs = unique_name("alice"), unique_name("bob")
    alice.create_bucket(Bucket=alices)
    bob.create_bucket(Bucket=bobs)
    alice.put_object(Bucket=alices, Key="secret", Body=b"a")
    bob.put_object(Bucket=bobs, Key="mine", Body=b"b")
    for call in (bob.list_objects_v2, bob.list_objects, bob.list_object_versions):
        err = error_of(call, Bucket=alices)
        assert err["Error"]["Code"] == "AccessDenied"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert keys_of(bob.list_objects_v2(Bucket=bobs)) == ["mine"]
    assert keys_of(alice.list_objects_v2(Bucket=alices)) == ["secret"]
    # The owner an expected-bucket-owner check names must be the bucket's.
    err = error_of(alice.list_objects_v2, Bucket=alices, ExpectedBucketOwner="222222222222")
    assert err["Error"]["Code"] == "AccessDenied"
    assert keys_of(alice.list_objects_v2(Bucket=alices, ExpectedBucketOwner="111111111111")) == ["secret"]


# --------------------------------------------------------------------------- versions


def versioned_history(s3, bucket):
    """Builds a history and returns the (key, version id, is delete marker) that
    ListObjectVersions must report, in its order: key order, newest first."""
    s3.put_object(Bucket=bucket, Key="b/old", Body=b"null version")  # before versioning
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="a", Body=b"22")["VersionId"]
    dm = s3.delete_object(Bucket=bucket, Key="a")["VersionId"]
    v3 = s3.put_object(Bucket=bucket, Key="b/old", Body=b"333")["VersionId"]
    c1 = s3.put_object(Bucket=bucket, Key="c", Body=b"c")["VersionId"]
    return [("a", dm, True), ("a", v2, False), ("a", v1, False),
            ("b/old", v3, False), ("b/old", "null", False), ("c", c1, False)]


def flatten(page):
    """A page's versions and delete markers as (key, id, marker, latest), in S3's order."""
    items = [(v["Key"], v["VersionId"], False, v["IsLatest"]) for v in page.get("Versions", [])]
    items += [(d["Key"], d["VersionId"], True, d["IsLatest"]) for d in page.get("DeleteMarkers", [])]
    return items


def test_list_object_versions_reports_versions_and_delete_markers(aws_client, bucket):
    s3 = aws_client("s3")
    expected = versioned_history(s3, bucket)
    page = s3.list_object_versions(Bucket=bucket)
    owner_id = s3.list_buckets()["Owner"]["ID"]
    assert page["IsTruncated"] is False and page["KeyMarker"] == "" and page["VersionIdMarker"] == ""
    versions = page["Versions"]
    assert [(v["Key"], v["VersionId"]) for v in versions] == [
        (k, vid) for k, vid, marker in expected if not marker]
    latest = {(v["Key"], v["VersionId"]): v["IsLatest"] for v in versions}
    assert latest == {("a", expected[1][1]): False, ("a", expected[2][1]): False,
                      ("b/old", expected[3][1]): True, ("b/old", "null"): False,
                      ("c", expected[5][1]): True}
    (marker,) = page["DeleteMarkers"]
    assert marker["Key"] == "a" and marker["VersionId"] == expected[0][1]
    assert marker["IsLatest"] is True and marker["Owner"]["ID"] == owner_id
    first_a = versions[0]
    assert first_a["Size"] == 2 and first_a["ETag"] == f'"{hashlib.md5(b"22").hexdigest()}"'
    assert first_a["StorageClass"] == "STANDARD" and first_a["Owner"]["ID"] == owner_id
    # Pages of one entry show S3's order: key order, each key's newest version first,
    # delete markers in among the versions.
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}))
    order = [item for p in pages for item in flatten(p)]
    assert [(k, vid, m) for k, vid, m, _ in order] == expected
    for p in pages[:-1]:
        assert p["IsTruncated"] is True
        (key, vid, _, _) = flatten(p)[0]
        assert p["NextKeyMarker"] == key and p["NextVersionIdMarker"] == vid


def test_version_pages_resume_inside_a_key_and_count_every_version(aws_client, bucket):
    s3 = aws_client("s3")
    expected = versioned_history(s3, bucket)
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert len(flatten(first)) == 2 and first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextVersionIdMarker"]) == ("a", expected[1][1])
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker="a",
                                   VersionIdMarker=first["NextVersionIdMarker"])
    assert rest["KeyMarker"] == "a" and rest["VersionIdMarker"] == expected[1][1]
    assert sorted((k, v) for k, v, _, _ in flatten(rest)) == sorted(
        (k, v) for k, v, _ in expected[2:])
    # A KeyMarker alone resumes after every version of that key.
    after_a = s3.list_object_versions(Bucket=bucket, KeyMarker="a")
    assert {k for k, _, _, _ in flatten(after_a)} == {"b/old", "c"}


def test_version_listing_rolls_up_common_prefixes(aws_client, bucket):
    s3 = aws_client("s3")
    versioned_history(s3, bucket)
    page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert prefixes_of(page) == ["b/"]
    assert {k for k, _, _, _ in flatten(page)} == {"a", "c"}
    scoped = s3.list_object_versions(Bucket=bucket, Prefix="b/")
    assert [v["VersionId"] for v in scoped["Versions"]][-1] == "null"
    assert scoped["Prefix"] == "b/"
    # MaxKeys counts the common prefix like a version.
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
    shape = [(len(flatten(p)), prefixes_of(p)) for p in pages]
    assert shape == [(1, []), (1, []), (1, []), (0, ["b/"]), (1, [])]
    assert pages[3]["NextKeyMarker"] == "b/" and "NextVersionIdMarker" not in pages[3]


def test_unversioned_buckets_list_null_versions(aws_client, tree_bucket):
    page = aws_client("s3").list_object_versions(Bucket=tree_bucket)
    assert [v["Key"] for v in page["Versions"]] == TREE
    assert all(v["VersionId"] == "null" and v["IsLatest"] for v in page["Versions"])
    assert "DeleteMarkers" not in page


def test_version_id_marker_needs_a_key_marker(aws_client, bucket):
    err = error_of(aws_client("s3").list_object_versions, Bucket=bucket, VersionIdMarker="abc")
    assert err["Error"]["Code"] == "InvalidArgument"
    assert err["Error"]["Message"] == "A version-id marker cannot be specified without a key marker."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_listings_are_the_same_after_kill_9_and_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable-listing")
    expected = versioned_history(s3, "durable-listing")
    put_all(s3, "durable-listing", ["x/1", "x/2", "é"])
    before_versions = s3.list_object_versions(Bucket="durable-listing")
    before_objects = s3.list_objects_v2(Bucket="durable-listing", Delimiter="/")
    server.kill9()
    server.restart()
    s3 = server.client("s3")
    after_versions = s3.list_object_versions(Bucket="durable-listing")
    after_objects = s3.list_objects_v2(Bucket="durable-listing", Delimiter="/")
    # Every version keeps its place (newest first), its IsLatest and its LastModified.
    assert after_versions["Versions"] == before_versions["Versions"]
    assert after_versions["DeleteMarkers"] == before_versions["DeleteMarkers"]
    history = [(v["Key"], v["VersionId"]) for v in after_versions["Versions"] if v["Key"] in {"a", "b/old", "c"}]
    assert history == [(k, vid) for k, vid, marker in expected if not marker]
    assert after_objects["Contents"] == before_objects["Contents"]
    assert keys_of(after_objects) == ["c", "é"]
    assert prefixes_of(after_objects) == ["b/", "x/"]


# --------------------------------------------------------------------------- AWS CLI


def write_tree(root: Path, count: int) -> dict[str, bytes]:
    files = {}
    for i in range(count):
        rel = f"d{i % 4}/sub {i % 3}/file-{i:03d}.txt"
        if i % 50 == 0:
            rel = f"d{i % 4}/ünï cödé+{i}.txt"
        files[rel] = f"content {i}\n".encode() * (i % 7 + 1)
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }


def test_cli_ls_shows_prefixes_and_recursive_shows_every_key(kagami, aws_client, tree_bucket):
    out = aws_s3(kagami.endpoint, "s3", "ls", f"s3://{tree_bucket}").stdout.splitlines()
    pres = sorted(line.split()[-1] for line in out if line.strip().startswith("PRE"))
    files = sorted(line.split()[-1] for line in out if not line.strip().startswith("PRE"))
    assert pres == ["photos/", "videos/"] and files == ["a.txt", "zz"]
    nested = aws_s3(kagami.endpoint, "s3", "ls", f"s3://{tree_bucket}/photos/").stdout
    assert "PRE 2024/" in nested and "PRE 2025/" in nested and "top.jpg" in nested
    recursive = aws_s3(kagami.endpoint, "s3", "ls", "--recursive", f"s3://{tree_bucket}").stdout
    assert [line.split()[-1] for line in recursive.splitlines()] == TREE


def test_cli_s3api_max_items_and_starting_token_walk_the_listing(aws_cli, tree_bucket):
    seen, token = [], None
    while True:
        args = ["s3api", "list-objects-v2", "--bucket", tree_bucket, "--max-items", "3",
                "--page-size", "2"]
        out = aws_cli(*args, *(["--starting-token", token] if token else []))
        seen += [o["Key"] for o in out.get("Contents", [])]
        token = out.get("NextToken")
        if not token:
            break
    assert seen == TREE
    versions = aws_cli("s3api", "list-object-versions", "--bucket", tree_bucket,
                       "--prefix", "photos/", "--delimiter", "/")
    assert [v["Key"] for v in versions["Versions"]] == ["photos/top.jpg"]
    assert [p["Prefix"] for p in versions["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]


def test_cli_sync_up_and_back_then_nothing_to_sync_then_rm_recursive(kagami, aws_client, bucket):
    s3 = aws_client("s3")
    with tempfile.TemporaryDirectory() as up, tempfile.TemporaryDirectory() as down:
        files = write_tree(Path(up), 300)
        # S3 reports LastModified in whole seconds, and sync uploads a file whose local
        # time is later: files written in the second of their upload would go again.
        an_hour_ago = time.time() - 3600
        for path in Path(up).rglob("*"):
            os.utime(path, (an_hour_ago, an_hour_ago))
        aws_s3(kagami.endpoint, "s3", "sync", up, f"s3://{bucket}")
        listed = [k for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                  for k in keys_of(p)]
        assert listed == utf8_order(files)
        aws_s3(kagami.endpoint, "s3", "sync", f"s3://{bucket}", down)
        assert read_tree(Path(down)) == files
        again = aws_s3(kagami.endpoint, "s3", "sync", up, f"s3://{bucket}")
        assert "upload:" not in again.stdout, again.stdout
        back = aws_s3(kagami.endpoint, "s3", "sync", f"s3://{bucket}", down)
        assert "download:" not in back.stdout, back.stdout
        removed = aws_s3(kagami.endpoint, "s3", "rm", "--recursive", f"s3://{bucket}")
        assert removed.stdout.count("delete:") == 300
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("query", ["max-keys=abc", "list-type=2&max-keys=abc", "versions&max-keys=abc", "max-keys=99999999999", "max-keys=99999999999999999999"])
def test_a_max_keys_that_is_not_an_integer_is_an_invalid_argument_naming_it(http, bucket, query):
    r = http.signed("GET", f"/{bucket}?{query}", "s3")
    assert r.status_code == 400, r.text
    value = query.rsplit("=", 1)[1]
    assert "<Code>InvalidArgument</Code>" in r.text
    assert "<Message>Provided max-keys not an integer or within integer range</Message>" in r.text
    assert "<ArgumentName>max-keys</ArgumentName>" in r.text
    assert f"<ArgumentValue>{value}</ArgumentValue>" in r.text
