//! Stream tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream and the newer
//! ARN-based TagResource, UntagResource and ListTagsForResource (streams and consumers).

use crate::errors::{constraint, invalid, limit};
use crate::generated::*;
use crate::state::{Kinesis, parse_stream_arn, resolve_name};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};
use std::collections::BTreeMap;

/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_AddTagsToStream.html
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const LIST_TAGS_DEFAULT: i32 = 50;
const LIST_TAGS_MAX: i32 = 50;

pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), KinesisError> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY {
            return Err(invalid(format!("Tag key {k} must be between 1 and {MAX_TAG_KEY} characters long.")));
        }
        if v.chars().count() > MAX_TAG_VALUE {
            return Err(invalid(format!("Tag value {v} must be at most {MAX_TAG_VALUE} characters long.")));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("Failed to add tags. A resource cannot have more than {MAX_TAGS} tags.")));
    }
    Ok(())
}

fn merge(current: &BTreeMap<String, String>, add: IndexMap<String, String>) -> Result<BTreeMap<String, String>, KinesisError> {
    if add.is_empty() {
        return Err(constraint("{}", "tags", "Member must have length greater than or equal to 1"));
    }
    let mut next = current.clone();
    next.extend(add);
    check_tags(&next)?;
    Ok(next)
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag { key: k.clone(), value: Some(v.clone()) }).collect()
}

/// Where an ARN's tags live: the stream, or one of its consumers.
enum Target {
    Stream(String),
    Consumer(String, String),
}

fn target(ctx: &RequestContext, arn: &str) -> Result<Target, KinesisError> {
    let (_, _, stream) = parse_stream_arn(arn)?;
    resolve_name(ctx, None, Some(arn))?;
    if arn.contains("/consumer/") {
        Ok(Target::Consumer(stream, arn.to_string()))
    } else {
        Ok(Target::Stream(stream))
    }
}

fn consumer_not_found(arn: &str) -> KinesisError {
    KinesisError::ResourceNotFoundException(format!("Consumer {arn} not found."))
}

impl Kinesis {
    pub async fn add_tags_to_stream(&self, ctx: &RequestContext, input: AddTagsToStreamInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        self.with_stream(ctx, &name, |stream, ops| {
            stream.rec.tags = merge(&stream.rec.tags, input.tags)?;
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }

    pub async fn remove_tags_from_stream(&self, ctx: &RequestContext, input: RemoveTagsFromStreamInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        if input.tag_keys.is_empty() {
            return Err(constraint("[]", "tagKeys", "Member must have length greater than or equal to 1").into());
        }
        self.with_stream(ctx, &name, |stream, ops| {
            for k in &input.tag_keys {
                stream.rec.tags.remove(k);
            }
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }

    pub async fn list_tags_for_stream(&self, ctx: &RequestContext, input: ListTagsForStreamInput) -> Result<ListTagsForStreamOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let limit = limit(input.limit, "limit", LIST_TAGS_MAX, LIST_TAGS_DEFAULT)?;
        let after = input.exclusive_start_tag_key;
        self.with_stream(ctx, &name, |stream, _| {
            let tags: Vec<Tag> = tag_list(&stream.rec.tags).into_iter().filter(|t| after.as_deref().is_none_or(|a| t.key.as_str() > a)).collect();
            let has_more_tags = tags.len() > limit;
            Ok(ListTagsForStreamOutput { tags: tags.into_iter().take(limit).collect(), has_more_tags })
        })
        .await
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceInput) -> Result<(), ServiceError> {
        match target(ctx, &input.resource_arn)? {
            Target::Stream(name) => {
                self.with_stream(ctx, &name, |stream, ops| {
                    stream.rec.tags = merge(&stream.rec.tags, input.tags)?;
                    ops.push(stream.record_op());
                    Ok(())
                })
                .await
            }
            Target::Consumer(name, arn) => {
                self.with_stream(ctx, &name, |stream, ops| {
                    let consumer = stream.rec.consumers.iter_mut().find(|c| c.arn == arn).ok_or_else(|| consumer_not_found(&arn))?;
                    consumer.tags = merge(&consumer.tags, input.tags)?;
                    ops.push(stream.record_op());
                    Ok(())
                })
                .await
            }
        }
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceInput) -> Result<(), ServiceError> {
        if input.tag_keys.is_empty() {
            return Err(constraint("[]", "tagKeys", "Member must have length greater than or equal to 1").into());
        }
        let keys = input.tag_keys;
        match target(ctx, &input.resource_arn)? {
            Target::Stream(name) => {
                self.with_stream(ctx, &name, |stream, ops| {
                    stream.rec.tags.retain(|k, _| !keys.contains(k));
                    ops.push(stream.record_op());
                    Ok(())
                })
                .await
            }
            Target::Consumer(name, arn) => {
                self.with_stream(ctx, &name, |stream, ops| {
                    let consumer = stream.rec.consumers.iter_mut().find(|c| c.arn == arn).ok_or_else(|| consumer_not_found(&arn))?;
                    consumer.tags.retain(|k, _| !keys.contains(k));
                    ops.push(stream.record_op());
                    Ok(())
                })
                .await
            }
        }
    }

    pub async fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceInput) -> Result<ListTagsForResourceOutput, ServiceError> {
        let tags = match target(ctx, &input.resource_arn)? {
            Target::Stream(name) => self.with_stream(ctx, &name, |stream, _| Ok(tag_list(&stream.rec.tags))).await?,
            Target::Consumer(name, arn) => {
                self.with_stream(ctx, &name, |stream, _| {
                    let consumer = stream.rec.consumers.iter().find(|c| c.arn == arn).ok_or_else(|| consumer_not_found(&arn))?;
                    Ok(tag_list(&consumer.tags))
                })
                .await?
            }
        };
        Ok(ListTagsForResourceOutput { tags: Some(tags) })
    }
}
