//! Amazon Simple Queue Service: standard and FIFO queues with visibility timeouts,
//! delays, long polling, retention, dead-letter queues and message move tasks, tags and
//! queue policies, in every (account, region), durable when the store is.
//!
//! The provider below is the generated `SqsApi` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs` and its neighbours).

pub mod generated;

mod attributes;
mod batch;
mod errors;
mod fifo;
mod internal;
mod md5;
mod message;
mod move_tasks;
mod persistence;
mod policy;
mod queue;
mod queues;
mod receipt;
mod receive;
mod redrive;
mod send;
mod state;
mod sweep;
#[cfg(test)]
mod tests;
mod url;

use crate::errors::missing_parameter;
use crate::generated::*;
use crate::state::Sqs;
use kagami_core::{BoxFuture, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// Every SQS operation behaves as AWS documents.
pub const IMPLEMENTED: &[&str] = generated::OPERATIONS;

/// The SQS provider.
pub struct SqsProvider {
    sqs: Arc<Sqs>,
}

impl SqsProvider {
    /// Loads the service state; inside a Tokio runtime it also resumes the message move
    /// tasks that were running and starts the sweep of expired records.
    pub fn new(env: &ServiceEnv) -> Result<Self, StoreError> {
        let sqs = Arc::new(Sqs::new(env)?);
        sqs.resume_move_tasks();
        sweep::start(&sqs);
        Ok(SqsProvider { sqs })
    }
}

impl SqsApi for SqsProvider {
    async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionRequest) -> Result<(), ServiceError> {
        self.sqs.add_permission(ctx, input).await
    }

    async fn cancel_message_move_task(
        &self,
        ctx: &RequestContext,
        input: CancelMessageMoveTaskRequest,
    ) -> Result<CancelMessageMoveTaskResult, ServiceError> {
        self.sqs.cancel_message_move_task(ctx, input).map_err(Into::into)
    }

    async fn change_message_visibility(&self, ctx: &RequestContext, input: ChangeMessageVisibilityRequest) -> Result<(), ServiceError> {
        self.sqs.change_message_visibility(ctx, input).await
    }

    async fn change_message_visibility_batch(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityBatchRequest,
    ) -> Result<ChangeMessageVisibilityBatchResult, ServiceError> {
        self.sqs.change_message_visibility_batch(ctx, input).await
    }

    async fn create_queue(&self, ctx: &RequestContext, input: CreateQueueRequest) -> Result<CreateQueueResult, ServiceError> {
        self.sqs.create_queue(ctx, input).await
    }

    async fn delete_message(&self, ctx: &RequestContext, input: DeleteMessageRequest) -> Result<(), ServiceError> {
        self.sqs.delete_message(ctx, input).await
    }

    async fn delete_message_batch(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageBatchRequest,
    ) -> Result<DeleteMessageBatchResult, ServiceError> {
        self.sqs.delete_message_batch(ctx, input).await
    }

    async fn delete_queue(&self, ctx: &RequestContext, input: DeleteQueueRequest) -> Result<(), ServiceError> {
        self.sqs.delete_queue(ctx, input).await
    }

    async fn get_queue_attributes(
        &self,
        ctx: &RequestContext,
        input: GetQueueAttributesRequest,
    ) -> Result<GetQueueAttributesResult, ServiceError> {
        self.sqs.get_queue_attributes(ctx, input).await
    }

    async fn get_queue_url(&self, ctx: &RequestContext, input: GetQueueUrlRequest) -> Result<GetQueueUrlResult, ServiceError> {
        self.sqs.get_queue_url(ctx, input).map_err(Into::into)
    }

    async fn list_dead_letter_source_queues(
        &self,
        ctx: &RequestContext,
        input: ListDeadLetterSourceQueuesRequest,
    ) -> Result<ListDeadLetterSourceQueuesResult, ServiceError> {
        self.sqs.list_dead_letter_source_queues(ctx, input).map_err(Into::into)
    }

    async fn list_message_move_tasks(
        &self,
        ctx: &RequestContext,
        input: ListMessageMoveTasksRequest,
    ) -> Result<ListMessageMoveTasksResult, ServiceError> {
        self.sqs.list_message_move_tasks(ctx, input).map_err(Into::into)
    }

    async fn list_queue_tags(&self, ctx: &RequestContext, input: ListQueueTagsRequest) -> Result<ListQueueTagsResult, ServiceError> {
        self.sqs.list_queue_tags(ctx, input).map_err(Into::into)
    }

    async fn list_queues(&self, ctx: &RequestContext, input: ListQueuesRequest) -> Result<ListQueuesResult, ServiceError> {
        self.sqs.list_queues(ctx, input).map_err(Into::into)
    }

    async fn purge_queue(&self, ctx: &RequestContext, input: PurgeQueueRequest) -> Result<(), ServiceError> {
        self.sqs.purge_queue(ctx, input).await
    }

    async fn receive_message(&self, ctx: &RequestContext, input: ReceiveMessageRequest) -> Result<ReceiveMessageResult, ServiceError> {
        self.sqs.receive_message(ctx, input).await
    }

    async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionRequest) -> Result<(), ServiceError> {
        self.sqs.remove_permission(ctx, input).await
    }

    async fn send_message(&self, ctx: &RequestContext, input: SendMessageRequest) -> Result<SendMessageResult, ServiceError> {
        self.sqs.send_message(ctx, input).await
    }

    async fn send_message_batch(&self, ctx: &RequestContext, input: SendMessageBatchRequest) -> Result<SendMessageBatchResult, ServiceError> {
        self.sqs.send_message_batch(ctx, input).await
    }

    async fn set_queue_attributes(&self, ctx: &RequestContext, input: SetQueueAttributesRequest) -> Result<(), ServiceError> {
        self.sqs.set_queue_attributes(ctx, input).await
    }

    async fn start_message_move_task(
        &self,
        ctx: &RequestContext,
        input: StartMessageMoveTaskRequest,
    ) -> Result<StartMessageMoveTaskResult, ServiceError> {
        self.sqs.start_message_move_task(ctx, input).await
    }

    async fn tag_queue(&self, ctx: &RequestContext, input: TagQueueRequest) -> Result<(), ServiceError> {
        self.sqs.tag_queue(ctx, input).await
    }

    async fn untag_queue(&self, ctx: &RequestContext, input: UntagQueueRequest) -> Result<(), ServiceError> {
        self.sqs.untag_queue(ctx, input).await
    }

    /// SQS reports a missing member as MissingParameter and a malformed one as
    /// InvalidParameterValue, whatever the protocol.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        match error {
            ShapeError::Missing { member } => missing_parameter(&member).into(),
            ShapeError::Invalid { member, detail } => {
                SqsError::InvalidParameterValue(format!("Value for parameter {member} is invalid. Reason: {detail}.")).into()
            }
        }
    }
}

/// The SQS service as the gateway sees it.
pub struct SqsService {
    provider: SqsProvider,
}

impl Service for SqsService {
    fn name(&self) -> &'static str {
        "sqs"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.sqs.reset();
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        let response = self.provider.sqs.internal(&req);
        Box::pin(async move { response })
    }
}

/// Builds the SQS service, loading its queues and messages from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(SqsService { provider: SqsProvider::new(env)? }))
}
