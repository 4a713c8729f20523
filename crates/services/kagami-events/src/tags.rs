//! Tags on rules and event buses.

use crate::buses::finish;
use crate::generated::*;
use crate::state::Events;
use crate::validate;
use kagami_core::{RequestContext, ServiceError};

/// A resource has at most 50 tags.
/// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TagResource.html
const MAX_TAGS: usize = 50;

impl Events {
    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<TagResourceResponse, ServiceError> {
        let new = validate::tags(Some(input.tags))?;
        let (result, commit) = self.with_tags(ctx, &input.resource_arn, true, |tags| {
            let mut merged = tags.clone();
            merged.extend(new);
            if merged.len() > MAX_TAGS {
                return Err(EventsError::LimitExceededException("The number of tags exceeds the limit of 50.".into()));
            }
            *tags = merged;
            Ok(())
        })?;
        if let Some(c) = commit {
            finish(c).await?;
        }
        result?;
        Ok(TagResourceResponse {})
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<UntagResourceResponse, ServiceError> {
        let ((), commit) = self.with_tags(ctx, &input.resource_arn, true, |tags| {
            for key in &input.tag_keys {
                tags.remove(key);
            }
        })?;
        if let Some(c) = commit {
            finish(c).await?;
        }
        Ok(UntagResourceResponse {})
    }

    pub async fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, ServiceError> {
        let (tags, _) = self.with_tags(ctx, &input.resource_arn, false, |tags| validate::tag_list(tags))?;
        Ok(ListTagsForResourceResponse { tags: Some(tags) })
    }
}
