//! Object tags: PutObjectTagging, GetObjectTagging and DeleteObjectTagging on one
//! version, and the `x-amz-tagging` header of a write (tags as URL query parameters).
//! Limits: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html

use crate::errors::*;
use crate::generated::*;
use crate::objects::reported_version;
use crate::state::{Bucket, S3};
use crate::versioning::{target, target_mut};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["DeleteObjectTagging", "GetObjectTagging", "PutObjectTagging"];

/// At most 10 tags per object.
const MAX_TAGS: usize = 10;
/// Tag keys up to 128 Unicode characters.
const MAX_KEY_CHARS: usize = 128;
/// Tag values up to 256 Unicode characters.
const MAX_VALUE_CHARS: usize = 256;

const HEADER: &str = "x-amz-tagging";

/// Letters, digits, spaces and `+ - = . _ : / @` (S3's tag character set).
fn allowed_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
}

/// Checks a tag set as S3 does, in S3's order: count, then each tag.
pub fn check_tags<'a>(
    tags: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
) -> Result<(), ServiceError> {
    if tags.len() > MAX_TAGS {
        return Err(bad_request("Object tags cannot be greater than 10"));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, value) in tags {
        let with_key = |e: ServiceError| e.with_field("TagKey", key);
        if !seen.insert(key) {
            return Err(with_key(invalid_tag("Cannot provide multiple Tags with the same key")));
        }
        if key.starts_with("aws:") {
            return Err(with_key(invalid_tag("Your TagKey cannot be prefixed with aws:")));
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return Err(with_key(invalid_tag("The TagKey you have provided is too long, max 128")));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(with_key(invalid_tag("The TagValue you have provided is too long, max 256"))
                .with_field("TagValue", value));
        }
        if key.is_empty() || !key.chars().all(allowed_char) {
            return Err(with_key(invalid_tag("The TagKey you have provided is invalid")));
        }
        if !value.chars().all(allowed_char) {
            return Err(with_key(invalid_tag("The TagValue you have provided is invalid"))
                .with_field("TagValue", value));
        }
    }
    Ok(())
}

/// The tags of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded UTF-8).
pub fn parse_tagging_header(raw: &str) -> Result<IndexMap<String, String>, ServiceError> {
    let malformed = || {
        invalid_argument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
            HEADER,
            raw,
        )
    };
    let mut tags = IndexMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(k).ok_or_else(malformed)?;
        let value = decode_component(v).ok_or_else(malformed)?;
        if tags.insert(key, value).is_some() {
            return Err(malformed());
        }
    }
    check_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(tags)
}

/// Form-style decoding: `+` is a space, `%XX` a byte; `None` for bad escapes or UTF-8.
fn decode_component(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn tag_set(tags: &IndexMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

impl S3 {
    /// Replaces the tag set of a version (the current one without `versionId`).
    pub async fn put_object_tagging(
        &self,
        ctx: &RequestContext,
        input: PutObjectTaggingRequest,
    ) -> Result<PutObjectTaggingOutput, ServiceError> {
        let pairs = input.tagging.tag_set;
        check_tags(pairs.iter().map(|t| (t.key.as_str(), t.value.as_str())))?;
        let tags: IndexMap<String, String> = pairs.into_iter().map(|t| (t.key, t.value)).collect();
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "PUT")?;
            record.tags = tags;
            let record = record.clone();
            let op = Bucket::update_version_op(&record);
            let version_id = reported_version(bucket, &record);
            Ok((PutObjectTaggingOutput { version_id }, vec![op], Vec::new()))
        })
        .await
    }

    pub fn get_object_tagging(
        &self,
        ctx: &RequestContext,
        input: &GetObjectTaggingRequest,
    ) -> Result<GetObjectTaggingOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |bucket| {
            let record = target(bucket, &input.key, input.version_id.as_deref(), "GET")?;
            Ok(GetObjectTaggingOutput {
                version_id: reported_version(bucket, record),
                tag_set: tag_set(&record.tags),
            })
        })
    }

    pub async fn delete_object_tagging(
        &self,
        ctx: &RequestContext,
        input: &DeleteObjectTaggingRequest,
    ) -> Result<DeleteObjectTaggingOutput, ServiceError> {
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "DELETE")?;
            record.tags.clear();
            let record = record.clone();
            let op = Bucket::update_version_op(&record);
            let version_id = reported_version(bucket, &record);
            Ok((DeleteObjectTaggingOutput { version_id }, vec![op], Vec::new()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tagging_header_is_url_query_encoded_utf8() {
        let tags = parse_tagging_header("project=kagami&team=s3%20core&note=a+b&empty=").unwrap();
        let pairs: Vec<_> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("project", "kagami"), ("team", "s3 core"), ("note", "a b"), ("empty", "")]
        );
        assert_eq!(parse_tagging_header("k=%E6%97%A5").unwrap()["k"], "日");
    }

    #[test]
    fn the_tagging_header_rejects_duplicates_and_bad_encoding() {
        for raw in ["a=1&a=2", "a=%zz", "a=%FF", "a=%4"] {
            let e = parse_tagging_header(raw).unwrap_err();
            assert_eq!(e.code, "InvalidArgument", "{raw}");
        }
    }

    #[test]
    fn tag_limits_follow_s3() {
        let many: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        let e = check_tags(many.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("BadRequest", 400));
        let long_key = "k".repeat(129);
        let e = check_tags([(long_key.as_str(), "v")].into_iter()).unwrap_err();
        assert_eq!(e.message, "The TagKey you have provided is too long, max 128");
        let long_value = "v".repeat(257);
        let e = check_tags([("k", long_value.as_str())].into_iter()).unwrap_err();
        assert_eq!(e.message, "The TagValue you have provided is too long, max 256");
        let e = check_tags([("aws:x", "v")].into_iter()).unwrap_err();
        assert_eq!(e.code, "InvalidTag");
        let ok_key = "k".repeat(128);
        let ok_value = "v".repeat(256);
        assert!(check_tags([(ok_key.as_str(), ok_value.as_str())].into_iter()).is_ok());
    }
}
