//! Amazon CloudWatch Logs: log groups and streams, events with AWS's acceptance rules,
//! filter patterns, retention on the emulated clock, tags, subscription filters that
//! deliver to Lambda, metric filters, and simple Logs Insights queries, in every
//! (account, region), durable when the store is.
//!
//! The provider below is the generated `LogsApi` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs` and its neighbours).

// Every operation answers ServiceError, the gateway's error type, whatever its size.
#![allow(clippy::result_large_err)]

pub mod generated;

mod errors;
mod events;
mod groups;
mod gzip;
mod insights;
mod insights_query;
mod pagination;
mod pattern;
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
    "CreateLogGroup",
    "CreateLogStream",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteMetricFilter",
    "DeleteRetentionPolicy",
    "DeleteSubscriptionFilter",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeSubscriptionFilters",
    "FilterLogEvents",
    "GetLogEvents",
    "GetQueryResults",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutLogEvents",
    "PutMetricFilter",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
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

    /// CloudWatch Logs reports malformed input as InvalidParameterException.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        let message = match error {
            ShapeError::Missing { member } => {
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(&member))
            }
            ShapeError::Invalid { member, detail } => {
                format!("1 validation error detected: Value at '{}' failed to satisfy constraint: {detail}", lower_first(&member))
            }
        };
        LogsError::InvalidParameterException(message).into()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
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
