//! Amazon EventBridge: event buses with resource policies, rules with event patterns or
//! schedules, targets (SQS, SNS, Lambda, Kinesis, CloudWatch Logs, other buses) reached
//! through `Peers` with retries and dead-letter queues, and PutEvents, in every
//! (account, region), durable when the store is.
//!
//! The provider below is the generated `EventsApi` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs` and its neighbours).

// Every operation answers ServiceError, the gateway's error type, whatever its size.
#![allow(clippy::result_large_err)]

pub mod generated;

mod buses;
mod delivery;
mod errors;
mod json;
mod pattern;
mod pending;
mod put_events;
mod rules;
mod schedule;
mod scheduler;
mod state;
mod tags;
mod targets;
mod transform;
mod validate;

use crate::generated::*;
use crate::state::Events;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that behave as AWS documents; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "CreateEventBus",
    "DeleteEventBus",
    "DeleteRule",
    "DescribeEventBus",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListEventBuses",
    "ListRuleNamesByTarget",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "TagResource",
    "TestEventPattern",
    "UntagResource",
    "UpdateEventBus",
];

/// The EventBridge provider.
pub struct EventsProvider {
    events: Arc<Events>,
}

impl EventsApi for EventsProvider {
    async fn create_event_bus(&self, ctx: &RequestContext, input: CreateEventBusRequest) -> Result<CreateEventBusResponse, ServiceError> {
        self.events.create_event_bus(ctx, input).await
    }

    async fn delete_event_bus(&self, ctx: &RequestContext, input: DeleteEventBusRequest) -> Result<(), ServiceError> {
        self.events.delete_event_bus(ctx, input).await
    }

    async fn delete_rule(&self, ctx: &RequestContext, input: DeleteRuleRequest) -> Result<(), ServiceError> {
        self.events.delete_rule(ctx, input).await
    }

    async fn describe_event_bus(&self, ctx: &RequestContext, input: DescribeEventBusRequest) -> Result<DescribeEventBusResponse, ServiceError> {
        self.events.describe_event_bus(ctx, input).await
    }

    async fn describe_rule(&self, ctx: &RequestContext, input: DescribeRuleRequest) -> Result<DescribeRuleResponse, ServiceError> {
        self.events.describe_rule(ctx, input).await
    }

    async fn disable_rule(&self, ctx: &RequestContext, input: DisableRuleRequest) -> Result<(), ServiceError> {
        self.events.disable_rule(ctx, input).await
    }

    async fn enable_rule(&self, ctx: &RequestContext, input: EnableRuleRequest) -> Result<(), ServiceError> {
        self.events.enable_rule(ctx, input).await
    }

    async fn list_event_buses(&self, ctx: &RequestContext, input: ListEventBusesRequest) -> Result<ListEventBusesResponse, ServiceError> {
        self.events.list_event_buses(ctx, input).await
    }

    async fn list_rule_names_by_target(&self, ctx: &RequestContext, input: ListRuleNamesByTargetRequest) -> Result<ListRuleNamesByTargetResponse, ServiceError> {
        self.events.list_rule_names_by_target(ctx, input).await
    }

    async fn list_rules(&self, ctx: &RequestContext, input: ListRulesRequest) -> Result<ListRulesResponse, ServiceError> {
        self.events.list_rules(ctx, input).await
    }

    async fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, ServiceError> {
        self.events.list_tags_for_resource(ctx, input).await
    }

    async fn list_targets_by_rule(&self, ctx: &RequestContext, input: ListTargetsByRuleRequest) -> Result<ListTargetsByRuleResponse, ServiceError> {
        self.events.list_targets_by_rule(ctx, input).await
    }

    async fn put_events(&self, ctx: &RequestContext, input: PutEventsRequest) -> Result<PutEventsResponse, ServiceError> {
        self.events.put_events(ctx, input).await
    }

    async fn put_permission(&self, ctx: &RequestContext, input: PutPermissionRequest) -> Result<(), ServiceError> {
        self.events.put_permission(ctx, input).await
    }

    async fn put_rule(&self, ctx: &RequestContext, input: PutRuleRequest) -> Result<PutRuleResponse, ServiceError> {
        self.events.put_rule(ctx, input).await
    }

    async fn put_targets(&self, ctx: &RequestContext, input: PutTargetsRequest) -> Result<PutTargetsResponse, ServiceError> {
        self.events.put_targets(ctx, input).await
    }

    async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionRequest) -> Result<(), ServiceError> {
        self.events.remove_permission(ctx, input).await
    }

    async fn remove_targets(&self, ctx: &RequestContext, input: RemoveTargetsRequest) -> Result<RemoveTargetsResponse, ServiceError> {
        self.events.remove_targets(ctx, input).await
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<TagResourceResponse, ServiceError> {
        self.events.tag_resource(ctx, input).await
    }

    async fn test_event_pattern(&self, ctx: &RequestContext, input: TestEventPatternRequest) -> Result<TestEventPatternResponse, ServiceError> {
        self.events.test_event_pattern(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<UntagResourceResponse, ServiceError> {
        self.events.untag_resource(ctx, input).await
    }

    async fn update_event_bus(&self, ctx: &RequestContext, input: UpdateEventBusRequest) -> Result<UpdateEventBusResponse, ServiceError> {
        self.events.update_event_bus(ctx, input).await
    }

    /// EventBridge reports malformed input as ValidationException, naming the member.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        let message = error.validation_message();
        EventsError::ValidationException(message).into()
    }
}


/// The EventBridge service as the gateway sees it.
pub struct EventsService {
    provider: EventsProvider,
}

impl Service for EventsService {
    fn name(&self) -> &'static str {
        "events"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.events.reset();
    }
}

/// Builds the EventBridge service, loading its buses and rules from a durable store and
/// starting the task that fires scheduled rules and resuming unfinished deliveries.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    let events = Arc::new(Events::new(env)?);
    scheduler::start(&events);
    events.resume_pending();
    Ok(Arc::new(EventsService { provider: EventsProvider { events } }))
}
