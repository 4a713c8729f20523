//! Services built on their first request, for the ephemeral mode.
//!
//! Building a service runs its constructor and starts its background tasks, and each
//! one maps a few hundred KiB of the binary's code into the process: with ten services
//! that was most of an idle server's resident memory. An ephemeral server has no state
//! to load or resume, so nothing is lost by building a service only when a client (or
//! another service, through `Peers`) first calls it. A durable server builds every
//! service at startup: their stored work (retries, pollers, schedules) must resume
//! without waiting for a request.

use kagami_core::service::HttpSurfaceRequest;
use kagami_core::{
    BoxFuture, EndpointRequest, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv,
    ServiceError, StoreError, Value,
};
use kagami_protocol::HttpResponse;
use std::sync::{Arc, OnceLock};

type Build = Box<dyn Fn(&ServiceEnv) -> Result<Vec<Arc<dyn Service>>, StoreError> + Send + Sync>;

/// Services one constructor builds together (DynamoDB and DynamoDB Streams share state).
pub struct Group {
    env: ServiceEnv,
    build: Build,
    built: OnceLock<Result<Vec<Arc<dyn Service>>, String>>,
}

impl Group {
    pub fn shared(
        env: &ServiceEnv,
        build: impl Fn(&ServiceEnv) -> Result<Vec<Arc<dyn Service>>, StoreError> + Send + Sync + 'static,
    ) -> Arc<Group> {
        Arc::new(Group { env: env.clone(), build: Box::new(build), built: OnceLock::new() })
    }

    /// The built member, or why it could not be built (an internal error for the client).
    fn member(&self, index: usize) -> Result<&Arc<dyn Service>, String> {
        let built = self.built.get_or_init(|| (self.build)(&self.env).map_err(|e| e.to_string()));
        match built {
            Ok(services) => services.get(index).ok_or_else(|| format!("service group has no member {index}")),
            Err(e) => Err(format!("building the service: {e}")),
        }
    }
}

/// One member of a [`Group`], standing in for it until it is built. Its name and
/// operations are known up front, so the gateway routes to it without building it.
pub struct LazyService {
    name: &'static str,
    implemented: &'static [&'static str],
    group: Arc<Group>,
    index: usize,
}

impl LazyService {
    pub fn shared(
        name: &'static str,
        implemented: &'static [&'static str],
        group: &Arc<Group>,
        index: usize,
    ) -> Arc<dyn Service> {
        Arc::new(LazyService { name, implemented, group: Arc::clone(group), index })
    }

    fn built(&self) -> Option<&Arc<dyn Service>> {
        match self.group.built.get() {
            Some(Ok(services)) => services.get(self.index),
            _ => None,
        }
    }
}

impl Service for LazyService {
    fn name(&self) -> &'static str {
        self.name
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        self.implemented
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        match self.group.member(self.index) {
            Ok(service) => service.handle(ctx, operation, input),
            Err(e) => Box::pin(async move { Err(ServiceError::internal(e)) }),
        }
    }

    /// A service never built holds nothing to forget.
    fn reset(&self) {
        if let Some(service) = self.built() {
            service.reset();
        }
    }

    fn http_surface<'a>(
        &'a self,
        ctx: &'a RequestContext,
        req: HttpSurfaceRequest,
    ) -> BoxFuture<'a, Option<Result<HttpResponse, ServiceError>>> {
        match self.group.member(self.index) {
            Ok(service) => service.http_surface(ctx, req),
            Err(e) => Box::pin(async move { Some(Err(ServiceError::internal(e))) }),
        }
    }

    fn endpoint(&self, req: EndpointRequest) -> BoxFuture<'_, Option<HttpResponse>> {
        match self.group.member(self.index) {
            Ok(service) => service.endpoint(req),
            Err(_) => Box::pin(async { None }),
        }
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        match self.group.member(self.index) {
            Ok(service) => service.internal(req),
            Err(_) => Box::pin(async { None }),
        }
    }
}
