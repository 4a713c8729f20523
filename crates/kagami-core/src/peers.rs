//! In-process calls from one service into another (an S3 notification into SQS, a
//! Lambda event-source mapping reading a queue, DynamoDB exporting to S3).
//!
//! A call goes through the callee's `Service::handle` with an operation name and an
//! input `Value`, exactly as a parsed wire request would, so the callee applies the
//! same validation and side effects. Callers hold no crate dependency on the callee
//! (S3 notifies Lambda while Lambda reads S3): they build the input with the callee's
//! shape names or with small typed structs of their own that implement `IntoValue`.

use crate::{RequestContext, Service, ServiceError, Value};
use kagami_protocol::shapes::{FromValue, IntoValue};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

/// The services of this process, by botocore name; installed once after they are built.
#[derive(Clone)]
pub struct Peers {
    services: Arc<OnceLock<HashMap<&'static str, Weak<dyn Service>>>>,
    /// host[:port] at which this process answers (the external host when one is set),
    /// for in-process calls whose answers or functions name an endpoint.
    address: Arc<str>,
}

impl Default for Peers {
    fn default() -> Self {
        Peers::new("localhost:4566")
    }
}

impl Peers {
    pub fn new(address: &str) -> Self {
        Peers { services: Arc::default(), address: Arc::from(address) }
    }

    /// host[:port] of this process's gateway: what a function's `AWS_ENDPOINT_URL` names.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A context for a call one service makes into another: it names the gateway's real
    /// address, not whichever Host some earlier client used (pollers outlive requests).
    pub fn system_context(&self, account_id: &str, region: &str, service: &'static str) -> RequestContext {
        let mut ctx = RequestContext::system(account_id, region, service);
        ctx.host = self.address.to_string();
        ctx
    }

    /// Makes `services` reachable. Weak references: services hold their `Peers`.
    pub fn install(&self, services: &[Arc<dyn Service>]) {
        let map = services.iter().map(|s| (s.name(), Arc::downgrade(s))).collect();
        let _ = self.services.set(map);
    }

    /// Calls `operation` of `service` in the account and region of `ctx`.
    pub async fn call(&self, ctx: &RequestContext, service: &str, operation: &str, input: Value) -> Result<Value, ServiceError> {
        let callee = self
            .services
            .get()
            .and_then(|m| m.get(service))
            .and_then(Weak::upgrade)
            .ok_or_else(|| ServiceError::internal(format!("service {service} is not running in this process")))?;
        let mut ctx = ctx.clone();
        ctx.service = callee.name();
        ctx.operation = operation.to_string();
        callee.handle(&ctx, operation, input).await
    }

    /// [`Peers::call`] with typed input and output shapes.
    pub async fn call_typed<I: IntoValue, O: FromValue>(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: I,
    ) -> Result<O, ServiceError> {
        let out = self.call(ctx, service, operation, input.into_value()).await?;
        O::from_value(out).map_err(|e| ServiceError::internal(format!("{service} {operation} answered an unexpected shape: {e}")))
    }
}
