//! Amazon EventBridge for kagami: event buses, rules, patterns and delivery to targets.

pub mod generated;

use crate::generated::*;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use std::sync::Arc;

/// The operations that behave as AWS documents; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[];

pub struct EventsProvider {}

impl EventsApi for EventsProvider {}

struct EventsService {
    provider: EventsProvider,
}

impl Service for EventsService {
    fn name(&self) -> &'static str {
        "events"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {}
}

pub fn new_service(_env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(EventsService { provider: EventsProvider {} }))
}
