//! Amazon CloudWatch Logs: log groups and streams, events with AWS's acceptance rules,
//! filter patterns, retention on the emulated clock, tags, subscription filters that
//! deliver to Lambda, Kinesis, Firehose and cross-account destinations, metric filters,
//! Logs Insights queries and saved query definitions, resource and data protection
//! policies, and export tasks to S3, in every (account, region), durable when the store is.
//!
//! The provider below is the generated `LogsApi` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs` and its neighbours).

// Every operation answers ServiceError, the gateway's error type, whatever its size.
#![allow(clippy::result_large_err)]

pub mod generated;

mod delivery;
mod destinations;
mod errors;
mod events;
mod exports;
mod fields;
mod group_settings;
mod groups;
mod insights;
mod insights_query;
mod pagination;
mod pattern;
mod query_definitions;
mod resource_policies;
mod resources;
mod state;
mod streams;
mod subscriptions;

use crate::generated::*;
use crate::state::Logs;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that work; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "AssociateKmsKey",
    "CancelExportTask",
    "CreateExportTask",
    "CreateLogGroup",
    "CreateLogStream",
    "DeleteDataProtectionPolicy",
    "DeleteDestination",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteMetricFilter",
    "DeleteQueryDefinition",
    "DeleteResourcePolicy",
    "DeleteRetentionPolicy",
    "DeleteSubscriptionFilter",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "DisassociateKmsKey",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetLogEvents",
    "GetLogGroupFields",
    "GetLogRecord",
    "GetQueryResults",
    "ListLogGroups",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutDataProtectionPolicy",
    "PutDestination",
    "PutDestinationPolicy",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutMetricFilter",
    "PutQueryDefinition",
    "PutResourcePolicy",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "UntagLogGroup",
    "UntagResource",
];

/// The CloudWatch Logs provider.
pub struct LogsProvider {
    logs: Arc<Logs>,
}

impl LogsApi for LogsProvider {
    async fn create_log_group(&self, ctx: &RequestContext, input: CreateLogGroupRequest) -> Result<(), ServiceError> {
        self.logs.create_log_group(ctx, input).await
    }

    async fn create_log_stream(&self, ctx: &RequestContext, input: CreateLogStreamRequest) -> Result<(), ServiceError> {
        self.logs.create_log_stream(ctx, input).await
    }

    async fn delete_log_group(&self, ctx: &RequestContext, input: DeleteLogGroupRequest) -> Result<(), ServiceError> {
        self.logs.delete_log_group(ctx, input).await
    }

    async fn delete_log_stream(&self, ctx: &RequestContext, input: DeleteLogStreamRequest) -> Result<(), ServiceError> {
        self.logs.delete_log_stream(ctx, input).await
    }

    async fn delete_metric_filter(&self, ctx: &RequestContext, input: DeleteMetricFilterRequest) -> Result<(), ServiceError> {
        self.logs.delete_metric_filter(ctx, input).await
    }

    async fn delete_retention_policy(&self, ctx: &RequestContext, input: DeleteRetentionPolicyRequest) -> Result<(), ServiceError> {
        self.logs.delete_retention_policy(ctx, input).await
    }

    async fn delete_subscription_filter(&self, ctx: &RequestContext, input: DeleteSubscriptionFilterRequest) -> Result<(), ServiceError> {
        self.logs.delete_subscription_filter(ctx, input).await
    }

    async fn describe_log_groups(&self, ctx: &RequestContext, input: DescribeLogGroupsRequest) -> Result<DescribeLogGroupsResponse, ServiceError> {
        self.logs.describe_log_groups(ctx, input).await
    }

    async fn describe_log_streams(&self, ctx: &RequestContext, input: DescribeLogStreamsRequest) -> Result<DescribeLogStreamsResponse, ServiceError> {
        self.logs.describe_log_streams(ctx, input).await
    }

    async fn describe_metric_filters(
        &self,
        ctx: &RequestContext,
        input: DescribeMetricFiltersRequest,
    ) -> Result<DescribeMetricFiltersResponse, ServiceError> {
        self.logs.describe_metric_filters(ctx, input)
    }

    async fn describe_subscription_filters(
        &self,
        ctx: &RequestContext,
        input: DescribeSubscriptionFiltersRequest,
    ) -> Result<DescribeSubscriptionFiltersResponse, ServiceError> {
        self.logs.describe_subscription_filters(ctx, input)
    }

    async fn describe_queries(&self, ctx: &RequestContext, input: DescribeQueriesRequest) -> Result<DescribeQueriesResponse, ServiceError> {
        self.logs.describe_queries(ctx, input)
    }

    async fn get_query_results(&self, ctx: &RequestContext, input: GetQueryResultsRequest) -> Result<GetQueryResultsResponse, ServiceError> {
        self.logs.get_query_results(ctx, input)
    }

    async fn start_query(&self, ctx: &RequestContext, input: StartQueryRequest) -> Result<StartQueryResponse, ServiceError> {
        self.logs.start_query(ctx, input)
    }

    async fn stop_query(&self, ctx: &RequestContext, input: StopQueryRequest) -> Result<StopQueryResponse, ServiceError> {
        self.logs.stop_query(ctx, input)
    }

    async fn filter_log_events(&self, ctx: &RequestContext, input: FilterLogEventsRequest) -> Result<FilterLogEventsResponse, ServiceError> {
        self.logs.filter_log_events(ctx, input).await
    }

    async fn get_log_events(&self, ctx: &RequestContext, input: GetLogEventsRequest) -> Result<GetLogEventsResponse, ServiceError> {
        self.logs.get_log_events(ctx, input).await
    }

    async fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, ServiceError> {
        self.logs.list_tags_for_resource(ctx, input)
    }

    async fn list_tags_log_group(&self, ctx: &RequestContext, input: ListTagsLogGroupRequest) -> Result<ListTagsLogGroupResponse, ServiceError> {
        self.logs.list_tags_log_group(ctx, input)
    }

    async fn put_log_events(&self, ctx: &RequestContext, input: PutLogEventsRequest) -> Result<PutLogEventsResponse, ServiceError> {
        self.logs.put_log_events(ctx, input).await
    }

    async fn put_metric_filter(&self, ctx: &RequestContext, input: PutMetricFilterRequest) -> Result<(), ServiceError> {
        self.logs.put_metric_filter(ctx, input).await
    }

    async fn put_retention_policy(&self, ctx: &RequestContext, input: PutRetentionPolicyRequest) -> Result<(), ServiceError> {
        self.logs.put_retention_policy(ctx, input).await
    }

    async fn put_subscription_filter(&self, ctx: &RequestContext, input: PutSubscriptionFilterRequest) -> Result<(), ServiceError> {
        self.logs.put_subscription_filter(ctx, input).await
    }

    async fn tag_log_group(&self, ctx: &RequestContext, input: TagLogGroupRequest) -> Result<(), ServiceError> {
        self.logs.tag_log_group(ctx, input).await
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<(), ServiceError> {
        self.logs.tag_resource(ctx, input).await
    }

    async fn untag_log_group(&self, ctx: &RequestContext, input: UntagLogGroupRequest) -> Result<(), ServiceError> {
        self.logs.untag_log_group(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<(), ServiceError> {
        self.logs.untag_resource(ctx, input).await
    }

    async fn put_query_definition(&self, ctx: &RequestContext, input: PutQueryDefinitionRequest) -> Result<PutQueryDefinitionResponse, ServiceError> {
        self.logs.put_query_definition(ctx, input).await
    }

    async fn describe_query_definitions(
        &self,
        ctx: &RequestContext,
        input: DescribeQueryDefinitionsRequest,
    ) -> Result<DescribeQueryDefinitionsResponse, ServiceError> {
        self.logs.describe_query_definitions(ctx, input)
    }

    async fn delete_query_definition(&self, ctx: &RequestContext, input: DeleteQueryDefinitionRequest) -> Result<DeleteQueryDefinitionResponse, ServiceError> {
        self.logs.delete_query_definition(ctx, input).await
    }

    async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyRequest) -> Result<PutResourcePolicyResponse, ServiceError> {
        self.logs.put_resource_policy(ctx, input).await
    }

    async fn describe_resource_policies(
        &self,
        ctx: &RequestContext,
        input: DescribeResourcePoliciesRequest,
    ) -> Result<DescribeResourcePoliciesResponse, ServiceError> {
        self.logs.describe_resource_policies(ctx, input)
    }

    async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyRequest) -> Result<(), ServiceError> {
        self.logs.delete_resource_policy(ctx, input).await
    }

    async fn put_destination(&self, ctx: &RequestContext, input: PutDestinationRequest) -> Result<PutDestinationResponse, ServiceError> {
        self.logs.put_destination(ctx, input).await
    }

    async fn put_destination_policy(&self, ctx: &RequestContext, input: PutDestinationPolicyRequest) -> Result<(), ServiceError> {
        self.logs.put_destination_policy(ctx, input).await
    }

    async fn describe_destinations(&self, ctx: &RequestContext, input: DescribeDestinationsRequest) -> Result<DescribeDestinationsResponse, ServiceError> {
        self.logs.describe_destinations(ctx, input)
    }

    async fn delete_destination(&self, ctx: &RequestContext, input: DeleteDestinationRequest) -> Result<(), ServiceError> {
        self.logs.delete_destination(ctx, input).await
    }

    async fn create_export_task(&self, ctx: &RequestContext, input: CreateExportTaskRequest) -> Result<CreateExportTaskResponse, ServiceError> {
        self.logs.create_export_task(ctx, input).await
    }

    async fn describe_export_tasks(&self, ctx: &RequestContext, input: DescribeExportTasksRequest) -> Result<DescribeExportTasksResponse, ServiceError> {
        self.logs.describe_export_tasks(ctx, input)
    }

    async fn cancel_export_task(&self, ctx: &RequestContext, input: CancelExportTaskRequest) -> Result<(), ServiceError> {
        self.logs.cancel_export_task(ctx, input)
    }

    async fn put_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: PutDataProtectionPolicyRequest,
    ) -> Result<PutDataProtectionPolicyResponse, ServiceError> {
        self.logs.put_data_protection_policy(ctx, input).await
    }

    async fn get_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: GetDataProtectionPolicyRequest,
    ) -> Result<GetDataProtectionPolicyResponse, ServiceError> {
        self.logs.get_data_protection_policy(ctx, input)
    }

    async fn delete_data_protection_policy(&self, ctx: &RequestContext, input: DeleteDataProtectionPolicyRequest) -> Result<(), ServiceError> {
        self.logs.delete_data_protection_policy(ctx, input).await
    }

    async fn associate_kms_key(&self, ctx: &RequestContext, input: AssociateKmsKeyRequest) -> Result<(), ServiceError> {
        self.logs.associate_kms_key(ctx, input).await
    }

    async fn disassociate_kms_key(&self, ctx: &RequestContext, input: DisassociateKmsKeyRequest) -> Result<(), ServiceError> {
        self.logs.disassociate_kms_key(ctx, input).await
    }

    async fn put_log_group_deletion_protection(&self, ctx: &RequestContext, input: PutLogGroupDeletionProtectionRequest) -> Result<(), ServiceError> {
        self.logs.put_log_group_deletion_protection(ctx, input).await
    }

    async fn list_log_groups(&self, ctx: &RequestContext, input: ListLogGroupsRequest) -> Result<ListLogGroupsResponse, ServiceError> {
        self.logs.list_log_groups(ctx, input)
    }

    async fn get_log_group_fields(&self, ctx: &RequestContext, input: GetLogGroupFieldsRequest) -> Result<GetLogGroupFieldsResponse, ServiceError> {
        self.logs.get_log_group_fields(ctx, input)
    }

    async fn get_log_record(&self, ctx: &RequestContext, input: GetLogRecordRequest) -> Result<GetLogRecordResponse, ServiceError> {
        self.logs.get_log_record(ctx, input)
    }

    async fn test_metric_filter(&self, _ctx: &RequestContext, input: TestMetricFilterRequest) -> Result<TestMetricFilterResponse, ServiceError> {
        self.logs.test_metric_filter(input)
    }

    /// CloudWatch Logs reports malformed input as InvalidParameterException.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        let message = error.validation_message();
        LogsError::InvalidParameterException(message).into()
    }
}


/// The CloudWatch Logs service as the gateway sees it.
pub struct LogsService {
    provider: LogsProvider,
}

impl Service for LogsService {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.logs.reset();
    }
}

/// Builds the CloudWatch Logs service, loading its groups, streams and events from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(LogsService { provider: LogsProvider { logs: Arc::new(Logs::new(env)?) } }))
}
