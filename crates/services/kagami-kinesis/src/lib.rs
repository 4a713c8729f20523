//! Amazon Kinesis Data Streams for kagami: streams, shards, records and iterators.

pub mod generated;

use crate::generated::*;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use std::sync::Arc;

/// The operations that behave as AWS documents; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[];

pub struct KinesisProvider {}

impl KinesisApi for KinesisProvider {}

struct KinesisService {
    provider: KinesisProvider,
}

impl Service for KinesisService {
    fn name(&self) -> &'static str {
        "kinesis"
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
    Ok(Arc::new(KinesisService { provider: KinesisProvider {} }))
}
