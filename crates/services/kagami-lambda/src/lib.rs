//! AWS Lambda: functions from zip packages, run as local processes (no Docker) through
//! a Lambda Runtime API that kagami serves to each execution environment. Python and
//! Node.js run through bootstrap programs kagami ships; `provided.*` through the
//! package's own `bootstrap`.
//!
//! The provider below is the generated `LambdaApi` trait: one method per operation,
//! each handing the typed request to the domain model (`state.rs`, `invoke.rs`).

// Every operation answers ServiceError, the gateway's error type, whatever its size.
#![allow(clippy::result_large_err)]

pub mod generated;

mod code;
mod code_server;
mod environment;
mod errors;
mod function;
mod internal;
mod invoke;
mod runtime_api;
mod runtimes;
mod state;
mod validate;
mod zip;

use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{BoxFuture, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that work; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "CreateFunction",
    "DeleteFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "Invoke",
    "ListFunctions",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
];

/// The Lambda provider.
pub struct LambdaProvider {
    lambda: Arc<Lambda>,
}

impl LambdaApi for LambdaProvider {
    async fn create_function(&self, ctx: &RequestContext, input: CreateFunctionRequest) -> Result<FunctionConfiguration, ServiceError> {
        self.lambda.create_function(ctx, input).await
    }

    async fn delete_function(&self, ctx: &RequestContext, input: DeleteFunctionRequest) -> Result<DeleteFunctionResponse, ServiceError> {
        self.lambda.delete_function(ctx, input).await?;
        Ok(DeleteFunctionResponse { status_code: Some(204) })
    }

    async fn get_function(&self, ctx: &RequestContext, input: GetFunctionRequest) -> Result<GetFunctionResponse, ServiceError> {
        self.lambda.get_function(ctx, input).await
    }

    async fn get_function_configuration(
        &self,
        ctx: &RequestContext,
        input: GetFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ServiceError> {
        self.lambda.get_function_configuration(ctx, input)
    }

    async fn invoke(&self, ctx: &RequestContext, input: InvocationRequest) -> Result<InvocationResponse, ServiceError> {
        self.lambda.invoke(ctx, input).await
    }

    async fn list_functions(&self, ctx: &RequestContext, input: ListFunctionsRequest) -> Result<ListFunctionsResponse, ServiceError> {
        self.lambda.list_functions(ctx, input)
    }

    async fn update_function_code(&self, ctx: &RequestContext, input: UpdateFunctionCodeRequest) -> Result<FunctionConfiguration, ServiceError> {
        self.lambda.update_function_code(ctx, input).await
    }

    async fn update_function_configuration(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ServiceError> {
        self.lambda.update_function_configuration(ctx, input).await
    }

    /// Lambda's front end reports malformed input as ValidationException.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        match error {
            ShapeError::Missing { member } => {
                errors::validation(&format!("Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(&member)))
            }
            ShapeError::Invalid { member, detail } => {
                errors::validation(&format!("Value at '{}' failed to satisfy constraint: {detail}", lower_first(&member)))
            }
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

/// The Lambda service as the gateway sees it.
pub struct LambdaService {
    provider: LambdaProvider,
}

impl Service for LambdaService {
    fn name(&self) -> &'static str {
        "lambda"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.lambda.reset();
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        let response = self.provider.lambda.internal(&req);
        Box::pin(async move { response })
    }
}

/// Builds the Lambda service, loading its functions from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(LambdaService { provider: LambdaProvider { lambda: Arc::new(Lambda::new(env)?) } }))
}
