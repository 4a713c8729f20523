//! Amazon Kinesis Data Streams for kagami: streams and their shards, records put by
//! partition key (MD5 hash key ranges) or explicit hash key, shard iterators of every
//! type with AWS's five-minute expiry, retention on the emulated clock, resharding,
//! tags, encryption and monitoring settings, and registered consumers, in every
//! (account, region), durable when the store is.
//!
//! The provider below is the generated `KinesisApi` trait: one method per operation,
//! each handing the typed request to the domain model (`state.rs` and its neighbours).

// Every operation answers ServiceError, the gateway's error type, whatever its size.
#![allow(clippy::result_large_err)]

pub mod generated;

mod consumers;
mod errors;
mod iterator;
mod keys;
mod records;
mod reshard;
mod state;
mod streams;
mod tags;

use crate::generated::*;
use crate::state::Kinesis;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that behave as AWS documents; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteStream",
    "DeregisterStreamConsumer",
    "DescribeLimits",
    "DescribeStream",
    "DescribeStreamConsumer",
    "DescribeStreamSummary",
    "DisableEnhancedMonitoring",
    "EnableEnhancedMonitoring",
    "GetRecords",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreamConsumers",
    "ListStreams",
    "ListTagsForResource",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "RegisterStreamConsumer",
    "RemoveTagsFromStream",
    "SplitShard",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "TagResource",
    "UntagResource",
    "UpdateShardCount",
    "UpdateStreamMode",
];

/// The Kinesis provider.
pub struct KinesisProvider {
    kinesis: Arc<Kinesis>,
}

impl KinesisApi for KinesisProvider {
    async fn add_tags_to_stream(&self, ctx: &RequestContext, input: AddTagsToStreamInput) -> Result<(), ServiceError> {
        self.kinesis.add_tags_to_stream(ctx, input).await
    }

    async fn create_stream(&self, ctx: &RequestContext, input: CreateStreamInput) -> Result<(), ServiceError> {
        self.kinesis.create_stream(ctx, input).await
    }

    async fn decrease_stream_retention_period(&self, ctx: &RequestContext, input: DecreaseStreamRetentionPeriodInput) -> Result<(), ServiceError> {
        let DecreaseStreamRetentionPeriodInput { stream_name, retention_period_hours, stream_arn, .. } = input;
        self.kinesis.change_retention(ctx, stream_name.as_deref(), stream_arn.as_deref(), retention_period_hours, false).await
    }

    async fn delete_stream(&self, ctx: &RequestContext, input: DeleteStreamInput) -> Result<(), ServiceError> {
        self.kinesis.delete_stream(ctx, input).await
    }

    async fn deregister_stream_consumer(&self, ctx: &RequestContext, input: DeregisterStreamConsumerInput) -> Result<(), ServiceError> {
        self.kinesis.deregister_stream_consumer(ctx, input).await
    }

    async fn describe_limits(&self, ctx: &RequestContext, _input: DescribeLimitsInput) -> Result<DescribeLimitsOutput, ServiceError> {
        self.kinesis.describe_limits(ctx).await
    }

    async fn describe_stream(&self, ctx: &RequestContext, input: DescribeStreamInput) -> Result<DescribeStreamOutput, ServiceError> {
        self.kinesis.describe_stream(ctx, input).await
    }

    async fn describe_stream_consumer(&self, ctx: &RequestContext, input: DescribeStreamConsumerInput) -> Result<DescribeStreamConsumerOutput, ServiceError> {
        self.kinesis.describe_stream_consumer(ctx, input).await
    }

    async fn describe_stream_summary(&self, ctx: &RequestContext, input: DescribeStreamSummaryInput) -> Result<DescribeStreamSummaryOutput, ServiceError> {
        self.kinesis.describe_stream_summary(ctx, input).await
    }

    async fn disable_enhanced_monitoring(&self, ctx: &RequestContext, input: DisableEnhancedMonitoringInput) -> Result<EnhancedMonitoringOutput, ServiceError> {
        self.kinesis.set_monitoring(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref(), input.shard_level_metrics, false).await
    }

    async fn enable_enhanced_monitoring(&self, ctx: &RequestContext, input: EnableEnhancedMonitoringInput) -> Result<EnhancedMonitoringOutput, ServiceError> {
        self.kinesis.set_monitoring(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref(), input.shard_level_metrics, true).await
    }

    async fn get_records(&self, ctx: &RequestContext, input: GetRecordsInput) -> Result<GetRecordsOutput, ServiceError> {
        self.kinesis.get_records(ctx, input).await
    }

    async fn get_shard_iterator(&self, ctx: &RequestContext, input: GetShardIteratorInput) -> Result<GetShardIteratorOutput, ServiceError> {
        self.kinesis.get_shard_iterator(ctx, input).await
    }

    async fn increase_stream_retention_period(&self, ctx: &RequestContext, input: IncreaseStreamRetentionPeriodInput) -> Result<(), ServiceError> {
        let IncreaseStreamRetentionPeriodInput { stream_name, retention_period_hours, stream_arn, .. } = input;
        self.kinesis.change_retention(ctx, stream_name.as_deref(), stream_arn.as_deref(), retention_period_hours, true).await
    }

    async fn list_shards(&self, ctx: &RequestContext, input: ListShardsInput) -> Result<ListShardsOutput, ServiceError> {
        self.kinesis.list_shards(ctx, input).await
    }

    async fn list_stream_consumers(&self, ctx: &RequestContext, input: ListStreamConsumersInput) -> Result<ListStreamConsumersOutput, ServiceError> {
        self.kinesis.list_stream_consumers(ctx, input).await
    }

    async fn list_streams(&self, ctx: &RequestContext, input: ListStreamsInput) -> Result<ListStreamsOutput, ServiceError> {
        self.kinesis.list_streams(ctx, input).await
    }

    async fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceInput) -> Result<ListTagsForResourceOutput, ServiceError> {
        self.kinesis.list_tags_for_resource(ctx, input).await
    }

    async fn list_tags_for_stream(&self, ctx: &RequestContext, input: ListTagsForStreamInput) -> Result<ListTagsForStreamOutput, ServiceError> {
        self.kinesis.list_tags_for_stream(ctx, input).await
    }

    async fn merge_shards(&self, ctx: &RequestContext, input: MergeShardsInput) -> Result<(), ServiceError> {
        self.kinesis.merge_shards(ctx, input).await
    }

    async fn put_record(&self, ctx: &RequestContext, input: PutRecordInput) -> Result<PutRecordOutput, ServiceError> {
        self.kinesis.put_record(ctx, input).await
    }

    async fn put_records(&self, ctx: &RequestContext, input: PutRecordsInput) -> Result<PutRecordsOutput, ServiceError> {
        self.kinesis.put_records(ctx, input).await
    }

    async fn register_stream_consumer(&self, ctx: &RequestContext, input: RegisterStreamConsumerInput) -> Result<RegisterStreamConsumerOutput, ServiceError> {
        self.kinesis.register_stream_consumer(ctx, input).await
    }

    async fn remove_tags_from_stream(&self, ctx: &RequestContext, input: RemoveTagsFromStreamInput) -> Result<(), ServiceError> {
        self.kinesis.remove_tags_from_stream(ctx, input).await
    }

    async fn split_shard(&self, ctx: &RequestContext, input: SplitShardInput) -> Result<(), ServiceError> {
        self.kinesis.split_shard(ctx, input).await
    }

    async fn start_stream_encryption(&self, ctx: &RequestContext, input: StartStreamEncryptionInput) -> Result<(), ServiceError> {
        let StartStreamEncryptionInput { stream_name, encryption_type, key_id, stream_arn, .. } = input;
        self.kinesis.set_encryption(ctx, stream_name.as_deref(), stream_arn.as_deref(), &encryption_type, &key_id, true).await
    }

    async fn stop_stream_encryption(&self, ctx: &RequestContext, input: StopStreamEncryptionInput) -> Result<(), ServiceError> {
        let StopStreamEncryptionInput { stream_name, encryption_type, key_id, stream_arn, .. } = input;
        self.kinesis.set_encryption(ctx, stream_name.as_deref(), stream_arn.as_deref(), &encryption_type, &key_id, false).await
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceInput) -> Result<(), ServiceError> {
        self.kinesis.tag_resource(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceInput) -> Result<(), ServiceError> {
        self.kinesis.untag_resource(ctx, input).await
    }

    async fn update_shard_count(&self, ctx: &RequestContext, input: UpdateShardCountInput) -> Result<UpdateShardCountOutput, ServiceError> {
        self.kinesis.update_shard_count(ctx, input).await
    }

    async fn update_stream_mode(&self, ctx: &RequestContext, input: UpdateStreamModeInput) -> Result<(), ServiceError> {
        self.kinesis.update_stream_mode(ctx, input).await
    }

    /// Kinesis reports malformed input as ValidationException, naming the member in camel case.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        let message = error.validation_message();
        KinesisError::ValidationException(message).into()
    }
}


/// The Kinesis service as the gateway sees it.
pub struct KinesisService {
    provider: KinesisProvider,
}

impl Service for KinesisService {
    fn name(&self) -> &'static str {
        "kinesis"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.kinesis.reset();
    }
}

/// Builds the Kinesis service, loading its streams, shards and records from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(KinesisService { provider: KinesisProvider { kinesis: Arc::new(Kinesis::new(env)?) } }))
}
