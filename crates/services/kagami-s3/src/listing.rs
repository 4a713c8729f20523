//! ListObjectsV2, ListObjects (V1) and ListObjectVersions: pages of a bucket's keys in
//! UTF-8 byte order, with Prefix, Delimiter (CommonPrefixes), MaxKeys, markers and
//! continuation tokens as AWS documents them
//! (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
//! A page walks the bucket's key map from its marker on (`walk.rs`); it never copies
//! the bucket.

mod encoding;
mod walk;

use crate::errors::*;
use crate::generated::*;
use crate::persistence::ObjectRecord;
use crate::state::{Bucket, S3, canonical_user_id};
use crate::versions::{ObjectVersions, is_version, reported_id};
use encoding::{KeyEncoding, URL, continuation_token, decode_continuation_token};
use kagami_core::{RequestContext, ServiceError, Timestamp};
use walk::{Entry, Start, Walk, page};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["ListObjectVersions", "ListObjects", "ListObjectsV2"];

/// A page holds at most this many keys and common prefixes, which is also the default
/// (API_ListObjectsV2: "returns up to 1,000 key names").
const MAX_KEYS: i32 = 1000;

/// What S3 reports for an object stored without a storage class.
const STANDARD: &str = "STANDARD";

/// MaxKeys as echoed in the response, and the page size it makes.
fn page_size(
    requested: Option<i32>,
    negative: impl FnOnce(i32) -> ServiceError,
) -> Result<(i32, usize), ServiceError> {
    let echoed = requested.unwrap_or(MAX_KEYS);
    if echoed < 0 {
        return Err(negative(echoed));
    }
    let size = usize::try_from(echoed.min(MAX_KEYS)).unwrap_or(0);
    Ok((echoed, size))
}

fn key_encoding(requested: Option<&str>) -> Result<KeyEncoding, ServiceError> {
    match requested {
        None => Ok(KeyEncoding { url: false }),
        Some(e) if e.eq_ignore_ascii_case(URL) => Ok(KeyEncoding { url: true }),
        Some(e) => Err(invalid_encoding_type(e)),
    }
}

/// An empty query parameter means the parameter was not given.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// `x-amz-expected-bucket-owner` names an account other than the bucket's.
fn check_expected_owner(bucket: &Bucket, expected: Option<&str>) -> Result<(), ServiceError> {
    match expected {
        Some(account) if account != bucket.record.account => Err(access_denied()),
        _ => Ok(()),
    }
}

/// Keys ListObjects shows: those whose newest version is not a delete marker.
fn has_current(versions: &ObjectVersions) -> bool {
    versions.current().is_some()
}

fn any_version(_: &ObjectVersions) -> bool {
    true
}

fn owner(bucket: &Bucket, record: &ObjectRecord) -> Owner {
    // Records written before owners were kept belong to the bucket's account.
    let account = if record.owner.is_empty() {
        &bucket.record.account
    } else {
        &record.owner
    };
    Owner {
        display_name: None,
        id: Some(canonical_user_id(account)),
    }
}

/// Listings show LastModified to the second (`...:28.000Z`), as HeadObject's header does.
fn last_modified(record: &ObjectRecord) -> Timestamp {
    Timestamp::from_millis(record.last_modified - record.last_modified.rem_euclid(1000))
}

fn checksum_algorithm(record: &ObjectRecord) -> Option<Vec<String>> {
    record.checksum.as_ref().map(|(algorithm, _)| vec![algorithm.clone()])
}

fn checksum_type(record: &ObjectRecord) -> Option<String> {
    record.checksum.as_ref().map(|_| {
        record
            .checksum_type
            .clone()
            .unwrap_or_else(|| "FULL_OBJECT".into())
    })
}

fn storage_class(record: &ObjectRecord) -> String {
    record
        .storage_class
        .clone()
        .unwrap_or_else(|| STANDARD.into())
}

fn object(record: &ObjectRecord, encoding: KeyEncoding, owner: Option<Owner>) -> Object {
    Object {
        key: Some(encoding.apply(&record.key)),
        last_modified: Some(last_modified(record)),
        e_tag: Some(record.etag.clone()),
        checksum_algorithm: checksum_algorithm(record),
        checksum_type: checksum_type(record),
        size: i64::try_from(record.size).ok(),
        storage_class: Some(storage_class(record)),
        owner,
        restore_status: None,
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// A page of current objects as ListObjects and ListObjectsV2 report it.
struct ObjectPage {
    contents: Vec<Object>,
    common_prefixes: Vec<CommonPrefix>,
    /// Where the page ended (a key or a common prefix), when more follow.
    resume_after: Option<String>,
}

struct ObjectQuery<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    after: Option<&'a str>,
    size: usize,
    encoding: KeyEncoding,
    fetch_owner: bool,
}

fn object_page(bucket: &Bucket, q: &ObjectQuery<'_>) -> ObjectPage {
    // MaxKeys=0 asks for nothing, and S3 says nothing is left out.
    if q.size == 0 {
        return ObjectPage {
            contents: Vec::new(),
            common_prefixes: Vec::new(),
            resume_after: None,
        };
    }
    let start = q.after.map_or(Start::First, Start::After);
    let walk = Walk::new(&bucket.objects, q.prefix, q.delimiter, start, has_current);
    let (entries, truncated) = page(walk, q.size);
    let resume_after = if truncated {
        entries.last().map(|e| e.position().to_string())
    } else {
        None
    };
    let mut contents = Vec::new();
    let mut common_prefixes = Vec::new();
    for entry in entries {
        match entry {
            Entry::Key(_, versions) => {
                if let Some(record) = versions.current() {
                    let owner = q.fetch_owner.then(|| owner(bucket, record));
                    contents.push(object(record, q.encoding, owner));
                }
            }
            Entry::Prefix(prefix) => common_prefixes.push(CommonPrefix {
                prefix: Some(q.encoding.apply(&prefix)),
            }),
        }
    }
    ObjectPage {
        contents,
        common_prefixes,
        resume_after,
    }
}

impl S3 {
    pub fn list_objects_v2(
        &self,
        ctx: &RequestContext,
        input: &ListObjectsV2Request,
    ) -> Result<ListObjectsV2Output, ServiceError> {
        let (max_keys, size) = page_size(input.max_keys, invalid_max_keys)?;
        let encoding = key_encoding(input.encoding_type.as_deref())?;
        let token = input
            .continuation_token
            .as_deref()
            .map(decode_continuation_token)
            .transpose()?;
        let start_after = given(input.start_after.as_deref());
        // The token resumes after the previous page; StartAfter never lets it go back.
        let after = match (token.as_deref(), start_after) {
            (Some(t), Some(s)) => Some(t.max(s)),
            (t, s) => t.or(s),
        };
        let prefix = input.prefix.as_deref().unwrap_or_default();
        let delimiter = given(input.delimiter.as_deref());
        self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(b, input.expected_bucket_owner.as_deref())?;
            let query = ObjectQuery {
                prefix,
                delimiter,
                after,
                size,
                encoding,
                fetch_owner: input.fetch_owner == Some(true),
            };
            let page = object_page(b, &query);
            let key_count = page.contents.len() + page.common_prefixes.len();
            Ok(ListObjectsV2Output {
                is_truncated: Some(page.resume_after.is_some()),
                next_continuation_token: page.resume_after.as_deref().map(continuation_token),
                contents: non_empty(page.contents),
                common_prefixes: non_empty(page.common_prefixes),
                key_count: Some(i32::try_from(key_count).unwrap_or(MAX_KEYS)),
                name: Some(input.bucket.clone()),
                prefix: Some(encoding.apply(prefix)),
                delimiter: encoding.apply_opt(delimiter),
                max_keys: Some(max_keys),
                encoding_type: encoding.echo(),
                continuation_token: input.continuation_token.clone(),
                start_after: encoding.apply_opt(start_after),
                request_charged: None,
            })
        })
    }

    pub fn list_objects(
        &self,
        ctx: &RequestContext,
        input: &ListObjectsRequest,
    ) -> Result<ListObjectsOutput, ServiceError> {
        let (max_keys, size) = page_size(input.max_keys, invalid_max_keys)?;
        let encoding = key_encoding(input.encoding_type.as_deref())?;
        let marker = given(input.marker.as_deref());
        let prefix = input.prefix.as_deref().unwrap_or_default();
        let delimiter = given(input.delimiter.as_deref());
        self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(b, input.expected_bucket_owner.as_deref())?;
            let query = ObjectQuery {
                prefix,
                delimiter,
                after: marker,
                size,
                encoding,
                // Version 1 always names each object's owner.
                fetch_owner: true,
            };
            let page = object_page(b, &query);
            // "This element is returned only if you have the delimiter request parameter
            // specified"; without one, clients resume after the last key.
            let next_marker = page
                .resume_after
                .as_deref()
                .filter(|_| delimiter.is_some())
                .map(|m| encoding.apply(m));
            Ok(ListObjectsOutput {
                is_truncated: Some(page.resume_after.is_some()),
                marker: Some(encoding.apply(marker.unwrap_or_default())),
                next_marker,
                contents: non_empty(page.contents),
                common_prefixes: non_empty(page.common_prefixes),
                name: Some(input.bucket.clone()),
                prefix: Some(encoding.apply(prefix)),
                delimiter: encoding.apply_opt(delimiter),
                max_keys: Some(max_keys),
                encoding_type: encoding.echo(),
                request_charged: None,
            })
        })
    }

    pub fn list_object_versions(
        &self,
        ctx: &RequestContext,
        input: &ListObjectVersionsRequest,
    ) -> Result<ListObjectVersionsOutput, ServiceError> {
        self.list_object_versions_in_order(ctx, input).map(|(output, _)| output)
    }

    /// ListObjectVersions with the order of its `Versions` and `DeleteMarkers` items:
    /// AWS interleaves `<Version>` and `<DeleteMarker>` in listing order (key, then
    /// newest first), which the two typed lists alone cannot say.
    pub fn list_object_versions_in_order(
        &self,
        ctx: &RequestContext,
        input: &ListObjectVersionsRequest,
    ) -> Result<(ListObjectVersionsOutput, Vec<&'static str>), ServiceError> {
        let (max_keys, size) = page_size(input.max_keys, |_| negative_version_max_keys())?;
        let key_marker = given(input.key_marker.as_deref());
        let version_marker = match (input.version_id_marker.as_deref(), key_marker) {
            (None, _) => None,
            (Some(v), None) => return Err(version_id_marker_without_key_marker(v)),
            (Some(""), Some(_)) => return Err(empty_version_id_marker()),
            (Some(v), Some(_)) => Some(v),
        };
        let encoding = key_encoding(input.encoding_type.as_deref())?;
        let prefix = input.prefix.as_deref().unwrap_or_default();
        let delimiter = given(input.delimiter.as_deref());
        self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(b, input.expected_bucket_owner.as_deref())?;
            let query = VersionQuery {
                prefix,
                delimiter,
                key_marker,
                version_marker,
                size,
            };
            let (items, truncated) = version_page(b, &query);
            let last = items.last().filter(|_| truncated);
            let next_key_marker = last.map(|item| match item {
                VersionItem::Version { record, .. } => encoding.apply(&record.key),
                VersionItem::Prefix(prefix) => encoding.apply(prefix),
            });
            let next_version_id_marker = last.and_then(|item| match item {
                VersionItem::Version { record, .. } => Some(reported_id(record)),
                VersionItem::Prefix(_) => None,
            });
            let mut versions = Vec::new();
            let mut delete_markers = Vec::new();
            let mut common_prefixes = Vec::new();
            let mut order = Vec::new();
            for item in items {
                match item {
                    VersionItem::Version { record, is_latest } if record.delete_marker => {
                        order.push("DeleteMarkers");
                        delete_markers.push(DeleteMarkerEntry {
                            owner: Some(owner(b, record)),
                            key: Some(encoding.apply(&record.key)),
                            version_id: Some(reported_id(record)),
                            is_latest: Some(is_latest),
                            last_modified: Some(last_modified(record)),
                        });
                    }
                    VersionItem::Version { record, is_latest } => {
                        order.push("Versions");
                        versions.push(ObjectVersion {
                        e_tag: Some(record.etag.clone()),
                        checksum_algorithm: checksum_algorithm(record),
                        checksum_type: checksum_type(record),
                        size: i64::try_from(record.size).ok(),
                        storage_class: Some(storage_class(record)),
                        key: Some(encoding.apply(&record.key)),
                        version_id: Some(reported_id(record)),
                        is_latest: Some(is_latest),
                        last_modified: Some(last_modified(record)),
                        owner: Some(owner(b, record)),
                        restore_status: None,
                        });
                    }
                    VersionItem::Prefix(prefix) => common_prefixes.push(CommonPrefix {
                        prefix: Some(encoding.apply(&prefix)),
                    }),
                }
            }
            let output = ListObjectVersionsOutput {
                is_truncated: Some(truncated),
                key_marker: Some(encoding.apply(key_marker.unwrap_or_default())),
                version_id_marker: Some(version_marker.unwrap_or_default().to_string()),
                next_key_marker,
                next_version_id_marker,
                versions: non_empty(versions),
                delete_markers: non_empty(delete_markers),
                name: Some(input.bucket.clone()),
                prefix: Some(encoding.apply(prefix)),
                delimiter: encoding.apply_opt(delimiter),
                max_keys: Some(max_keys),
                common_prefixes: non_empty(common_prefixes),
                encoding_type: encoding.echo(),
                request_charged: None,
            };
            Ok((output, order))
        })
    }
}

/// One entry of a ListObjectVersions page: MaxKeys counts versions, delete markers and
/// common prefixes alike.
enum VersionItem<'a> {
    Version {
        record: &'a ObjectRecord,
        is_latest: bool,
    },
    Prefix(String),
}

struct VersionQuery<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    key_marker: Option<&'a str>,
    version_marker: Option<&'a str>,
    size: usize,
}

/// Versions in key order, each key's newest first; resumes after the KeyMarker, or
/// inside it after the VersionIdMarker.
fn version_page<'a>(bucket: &'a Bucket, q: &VersionQuery<'a>) -> (Vec<VersionItem<'a>>, bool) {
    if q.size == 0 {
        return (Vec::new(), false);
    }
    let start = match (q.key_marker, q.version_marker) {
        (Some(key), Some(_)) => Start::AtKey(key),
        (Some(key), None) => Start::After(key),
        (None, _) => Start::First,
    };
    let walk = Walk::new(&bucket.objects, q.prefix, q.delimiter, start, any_version);
    let mut items = Vec::new();
    for entry in walk {
        let more: Box<dyn Iterator<Item = VersionItem<'a>>> = match entry {
            Entry::Prefix(prefix) => Box::new(std::iter::once(VersionItem::Prefix(prefix))),
            Entry::Key(key, versions) => {
                let mut newest = versions
                    .newest_first()
                    .enumerate()
                    .map(|(i, record)| VersionItem::Version {
                        record,
                        is_latest: i == 0,
                    })
                    .peekable();
                if Some(key) == q.key_marker
                    && let Some(marker) = q.version_marker
                {
                    // A marker version that is gone (deleted since the last page) leaves
                    // no place to resume inside the key: go on with the next one.
                    if versions.find(marker).is_none() {
                        continue;
                    }
                    for item in newest.by_ref() {
                        if matches!(item, VersionItem::Version { record, .. } if is_version(record, marker)) {
                            break;
                        }
                    }
                }
                Box::new(newest)
            }
        };
        for item in more {
            if items.len() == q.size {
                return (items, true);
            }
            items.push(item);
        }
    }
    (items, false)
}
