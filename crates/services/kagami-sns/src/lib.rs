//! Amazon Simple Notification Service: standard and FIFO topics, subscriptions with
//! confirmation, filter policies on attributes or body, Publish and PublishBatch with
//! delivery to SQS queues, Lambda functions and HTTP endpoints, dead-letter queues,
//! topic policies and tags, in every (account, region), durable when the store is.
//!
//! The provider below is the generated `SnsApi` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs` and its neighbours).

pub mod generated;

mod arn;
mod delivery;
mod errors;
mod filter;
mod http;
mod internal;
mod message;
mod outbox;
mod policy;
mod publish;
mod retry;
mod state;
mod subscriptions;
#[cfg(test)]
mod tests;
mod topics;

use crate::generated::*;
use crate::state::Sns;
use kagami_core::{BoxFuture, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that behave as AWS documents; every other one (SMS, phone numbers,
/// platform applications and endpoints) answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "AddPermission",
    "ConfirmSubscription",
    "CreateTopic",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "Publish",
    "PublishBatch",
    "PutDataProtectionPolicy",
    "RemovePermission",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
];

pub struct SnsProvider {
    sns: Arc<Sns>,
}

impl SnsApi for SnsProvider {
    async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionInput) -> Result<(), ServiceError> {
        self.sns.add_permission(ctx, input).await
    }

    async fn confirm_subscription(&self, ctx: &RequestContext, input: ConfirmSubscriptionInput) -> Result<ConfirmSubscriptionResponse, ServiceError> {
        self.sns.confirm_subscription(ctx, input).await
    }

    async fn create_topic(&self, ctx: &RequestContext, input: CreateTopicInput) -> Result<CreateTopicResponse, ServiceError> {
        self.sns.create_topic(ctx, input).await
    }

    async fn delete_topic(&self, ctx: &RequestContext, input: DeleteTopicInput) -> Result<(), ServiceError> {
        self.sns.delete_topic(ctx, input).await
    }

    async fn get_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: GetDataProtectionPolicyInput,
    ) -> Result<GetDataProtectionPolicyResponse, ServiceError> {
        self.sns.get_data_protection_policy(ctx, input).map_err(Into::into)
    }

    async fn get_subscription_attributes(
        &self,
        ctx: &RequestContext,
        input: GetSubscriptionAttributesInput,
    ) -> Result<GetSubscriptionAttributesResponse, ServiceError> {
        self.sns.get_subscription_attributes(ctx, input).map_err(Into::into)
    }

    async fn get_topic_attributes(&self, ctx: &RequestContext, input: GetTopicAttributesInput) -> Result<GetTopicAttributesResponse, ServiceError> {
        self.sns.get_topic_attributes(ctx, input).map_err(Into::into)
    }

    async fn list_subscriptions(&self, ctx: &RequestContext, input: ListSubscriptionsInput) -> Result<ListSubscriptionsResponse, ServiceError> {
        self.sns.list_subscriptions(ctx, input).map_err(Into::into)
    }

    async fn list_subscriptions_by_topic(
        &self,
        ctx: &RequestContext,
        input: ListSubscriptionsByTopicInput,
    ) -> Result<ListSubscriptionsByTopicResponse, ServiceError> {
        self.sns.list_subscriptions_by_topic(ctx, input).map_err(Into::into)
    }

    async fn list_tags_for_resource(
        &self,
        ctx: &RequestContext,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ServiceError> {
        self.sns.list_tags_for_resource(ctx, input).map_err(Into::into)
    }

    async fn list_topics(&self, ctx: &RequestContext, input: ListTopicsInput) -> Result<ListTopicsResponse, ServiceError> {
        self.sns.list_topics(ctx, input).map_err(Into::into)
    }

    async fn publish(&self, ctx: &RequestContext, input: PublishInput) -> Result<PublishResponse, ServiceError> {
        self.sns.publish(ctx, input).await
    }

    async fn publish_batch(&self, ctx: &RequestContext, input: PublishBatchInput) -> Result<PublishBatchResponse, ServiceError> {
        self.sns.publish_batch(ctx, input).await
    }

    async fn put_data_protection_policy(&self, ctx: &RequestContext, input: PutDataProtectionPolicyInput) -> Result<(), ServiceError> {
        self.sns.put_data_protection_policy(ctx, input).await
    }

    async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionInput) -> Result<(), ServiceError> {
        self.sns.remove_permission(ctx, input).await
    }

    async fn set_subscription_attributes(&self, ctx: &RequestContext, input: SetSubscriptionAttributesInput) -> Result<(), ServiceError> {
        self.sns.set_subscription_attributes(ctx, input).await
    }

    async fn set_topic_attributes(&self, ctx: &RequestContext, input: SetTopicAttributesInput) -> Result<(), ServiceError> {
        self.sns.set_topic_attributes(ctx, input).await
    }

    async fn subscribe(&self, ctx: &RequestContext, input: SubscribeInput) -> Result<SubscribeResponse, ServiceError> {
        self.sns.subscribe(ctx, input).await
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<TagResourceResponse, ServiceError> {
        self.sns.tag_resource(ctx, input).await
    }

    async fn unsubscribe(&self, ctx: &RequestContext, input: UnsubscribeInput) -> Result<(), ServiceError> {
        self.sns.unsubscribe(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<UntagResourceResponse, ServiceError> {
        self.sns.untag_resource(ctx, input).await
    }

    /// SNS words a missing or malformed member as a validation error naming it.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        let message = match &error {
            ShapeError::Missing { .. } => error.validation_message(),
            ShapeError::Invalid { member, detail } => format!("Invalid parameter: {member} Reason: {detail}"),
        };
        ServiceError::new("ValidationError", 400, message)
    }
}


struct SnsService {
    provider: SnsProvider,
}

impl Service for SnsService {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.sns.reset();
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        let response = self.provider.sns.internal(&req);
        Box::pin(async move { response })
    }
}

/// Builds the SNS service, loading topics and subscriptions from a durable store and
/// resuming the HTTP deliveries a previous process left unfinished.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    let sns = Sns::new(env)?;
    sns.resume_http_deliveries();
    Ok(Arc::new(SnsService { provider: SnsProvider { sns } }))
}
