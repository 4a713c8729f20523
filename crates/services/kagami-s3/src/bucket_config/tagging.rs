//! PutBucketTagging, GetBucketTagging, DeleteBucketTagging: the bucket's tag set,
//! checked as AWS checks it (at most 50 tags, unique keys, no `aws:` keys, lengths).

use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError};
use std::collections::HashSet;

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketTagging",
    "GetBucketTagging",
    "PutBucketTagging",
];

const CONFIG: &str = "Tagging";

/// User-defined tags per bucket (S3 User Guide, "Using cost allocation S3 bucket tags").
const MAX_BUCKET_TAGS: usize = 50;
/// Tag key and value limits (AWS tagging rules).
const MAX_KEY_LENGTH: usize = 128;
const MAX_VALUE_LENGTH: usize = 256;

/// AWS's tagging checks shared by buckets and objects; `max_tags` differs between them.
pub fn validate_tags(tags: &[Tag], max_tags: usize, too_many: &str) -> Result<(), ServiceError> {
    if tags.len() > max_tags {
        return Err(invalid_tag(too_many));
    }
    let mut keys = HashSet::with_capacity(tags.len());
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > MAX_KEY_LENGTH {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if tag.value.chars().count() > MAX_VALUE_LENGTH {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_tag(
                "System tags cannot be added/updated by requester",
            ));
        }
        if !keys.insert(tag.key.as_str()) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

impl S3 {
    pub async fn put_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: PutBucketTaggingRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        validate_tags(
            &input.tagging.tag_set,
            MAX_BUCKET_TAGS,
            "Bucket tag count cannot be greater than 50",
        )?;
        if input.tagging.tag_set.is_empty() {
            // An empty tag set leaves the bucket without tags, as DeleteBucketTagging does.
            return self.delete_config(ctx, &input.bucket, CONFIG).await;
        }
        self.put_config(ctx, &input.bucket, CONFIG, input.tagging)
            .await
    }

    pub fn get_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: &GetBucketTaggingRequest,
    ) -> Result<GetBucketTaggingOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let tagging: Tagging = self.config_of(ctx, &input.bucket, CONFIG)?.ok_or_else(|| {
            configuration_not_found("NoSuchTagSet", "The TagSet does not exist", &input.bucket)
        })?;
        Ok(GetBucketTaggingOutput {
            tag_set: tagging.tag_set,
        })
    }

    pub async fn delete_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketTaggingRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_config(ctx, &input.bucket, CONFIG).await
    }
}
