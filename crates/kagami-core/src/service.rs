//! The trait the gateway dispatches parsed requests to.

use crate::RequestContext;
use kagami_protocol::{ServiceError, Value};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request to a service's own internal endpoint (`/_kagami/<service>/...`).
#[derive(Debug)]
pub struct InternalRequest {
    pub method: String,
    /// Path below `/_kagami/<service>`, e.g. `/messages`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub host: String,
}

#[derive(Debug)]
pub struct InternalResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

/// One AWS service. Implementations are usually a generated `dispatch` over typed
/// shapes plus a provider that holds the service's state.
pub trait Service: Send + Sync + 'static {
    /// botocore name, e.g. `sqs`.
    fn name(&self) -> &'static str;

    /// Operations that do something; every other operation answers NotImplemented.
    fn implemented_operations(&self) -> &'static [&'static str];

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>>;

    /// Forget all state (all accounts and regions), in memory and in the store.
    fn reset(&self);

    /// Internal, non-AWS endpoints for tests (`GET /_kagami/sqs/messages`).
    fn internal(&self, _req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        Box::pin(async { None })
    }
}

/// What a service is built with.
#[derive(Clone)]
pub struct ServiceEnv {
    pub store: crate::Store,
    pub identities: crate::identity::Identities,
    /// `LOCALSTACK_HOST` / `KAGAMI_HOST`: the host[:port] to put in URLs the service
    /// hands out (queue URLs) instead of the Host the client called.
    pub external_host: Option<String>,
}

impl ServiceEnv {
    pub fn ephemeral() -> Self {
        ServiceEnv {
            store: crate::Store::ephemeral(),
            identities: crate::identity::Identities::ephemeral(),
            external_host: None,
        }
    }
}
