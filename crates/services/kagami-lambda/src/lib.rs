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

mod alias;
mod aliases;
mod code;
mod code_server;
mod code_signing;
mod concurrency;
mod control;
mod destinations;
mod environment;
mod errors;
mod esm;
mod function;
mod function_list;
mod function_settings;
mod internal;
mod interpreters;
mod invoke;
mod invoke_stream;
mod layer_opt;
mod layer_policy;
mod layers;
mod logs;
mod paging;
mod policy;
mod records;
mod resource_policy;
mod runtime_api;
mod runtimes;
mod s3_code;
mod async_invoke;
mod event_invoke_config;
mod state;
mod tags;
mod url_config;
mod url_invoke;
mod validate;
mod versions;
mod zip;

use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{BoxFuture, EndpointRequest, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::HttpResponse;
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that work; every other one answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "AddPermission",
    "CreateCodeSigningConfig",
    "DeleteCodeSigningConfig",
    "DeleteFunctionCodeSigningConfig",
    "DeleteFunctionConcurrency",
    "DeleteProvisionedConcurrencyConfig",
    "GetAccountSettings",
    "GetCodeSigningConfig",
    "GetFunctionCodeSigningConfig",
    "GetFunctionConcurrency",
    "GetFunctionRecursionConfig",
    "GetPolicy",
    "GetProvisionedConcurrencyConfig",
    "GetRuntimeManagementConfig",
    "ListCodeSigningConfigs",
    "ListFunctionsByCodeSigningConfig",
    "ListProvisionedConcurrencyConfigs",
    "ListTags",
    "PutFunctionCodeSigningConfig",
    "PutFunctionConcurrency",
    "PutFunctionRecursionConfig",
    "PutProvisionedConcurrencyConfig",
    "PutRuntimeManagementConfig",
    "RemovePermission",
    "TagResource",
    "UntagResource",
    "UpdateCodeSigningConfig",
    "AddLayerVersionPermission",
    "CreateAlias",
    "CreateEventSourceMapping",
    "CreateFunction",
    "CreateFunctionUrlConfig",
    "DeleteAlias",
    "DeleteEventSourceMapping",
    "DeleteFunction",
    "DeleteFunctionUrlConfig",
    "DeleteLayerVersion",
    "GetAlias",
    "GetEventSourceMapping",
    "GetFunction",
    "GetFunctionConfiguration",
    "GetFunctionUrlConfig",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "GetLayerVersionPolicy",
    "Invoke",
    "InvokeAsync",
    "InvokeWithResponseStream",
    "ListAliases",
    "ListEventSourceMappings",
    "ListFunctionUrlConfigs",
    "ListFunctions",
    "ListLayerVersions",
    "ListLayers",
    "PublishLayerVersion",
    "ListVersionsByFunction",
    "PublishVersion",
    "RemoveLayerVersionPermission",
    "UpdateAlias",
    "UpdateEventSourceMapping",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionUrlConfig",
    "DeleteFunctionEventInvokeConfig",
    "GetFunctionEventInvokeConfig",
    "ListFunctionEventInvokeConfigs",
    "PutFunctionEventInvokeConfig",
    "UpdateFunctionEventInvokeConfig",
    "DeleteResourcePolicy",
    "GetResourcePolicy",
    "PutResourcePolicy",
];

/// The Lambda provider.
pub struct LambdaProvider {
    lambda: Arc<Lambda>,
    urls: Arc<url_config::FunctionUrls>,
    esm: Arc<esm::EventSourceMappings>,
}

impl LambdaApi for LambdaProvider {
    async fn create_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: CreateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        self.esm.create(ctx, input).await
    }

    async fn get_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: GetEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        self.esm.get_mapping(ctx, &input.uuid)
    }

    async fn update_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: UpdateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        self.esm.update(ctx, input).await
    }

    async fn delete_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: DeleteEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        self.esm.delete(ctx, &input.uuid).await
    }

    async fn list_event_source_mappings(
        &self,
        ctx: &RequestContext,
        input: ListEventSourceMappingsRequest,
    ) -> Result<ListEventSourceMappingsResponse, ServiceError> {
        self.esm.list(ctx, input)
    }

    async fn create_function(&self, ctx: &RequestContext, input: CreateFunctionRequest) -> Result<FunctionConfiguration, ServiceError> {
        tags::check(input.tags.as_ref().unwrap_or(&indexmap::IndexMap::new()))?;
        self.lambda.create_function(ctx, input).await
    }

    async fn delete_function(&self, ctx: &RequestContext, input: DeleteFunctionRequest) -> Result<DeleteFunctionResponse, ServiceError> {
        let unqualified = input.qualifier.is_none() && validate::function_name(&input.function_name).is_ok_and(|(_, q)| q.is_none());
        let name = validate::function_name(&input.function_name).map(|(n, _)| n.to_string()).unwrap_or_default();
        let key = crate::function::record_key(&ctx.account_id, &ctx.region, &name);
        let qualifier = input.qualifier.clone().or_else(|| validate::function_name(&input.function_name).ok().and_then(|(_, q)| q.map(str::to_string)));
        self.lambda.delete_function(ctx, input).await?;
        self.lambda.control.forget(&key, qualifier.as_deref()).await?;
        self.lambda.asynchronous.forget(&key, qualifier.as_deref()).await?;
        if unqualified {
            self.urls.forget_function(&ctx.account_id, &ctx.region, &name).await;
        }
        Ok(DeleteFunctionResponse { status_code: Some(204) })
    }

    async fn get_function(&self, ctx: &RequestContext, input: GetFunctionRequest) -> Result<GetFunctionResponse, ServiceError> {
        let name = input.function_name.clone();
        let mut out = self.lambda.get_function(ctx, input).await?;
        let reserved = self.lambda.latest(ctx, &name).ok().and_then(|f| self.lambda.reserved_concurrency(&f));
        out.concurrency = reserved.map(|n| Concurrency { reserved_concurrent_executions: Some(n) });
        Ok(out)
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

    async fn invoke_with_response_stream(
        &self,
        ctx: &RequestContext,
        input: InvokeWithResponseStreamRequest,
    ) -> Result<InvokeWithResponseStreamResponse, ServiceError> {
        self.lambda.invoke_with_response_stream(ctx, input).await
    }

    async fn invoke_async(&self, ctx: &RequestContext, input: InvokeAsyncRequest) -> Result<InvokeAsyncResponse, ServiceError> {
        self.lambda.invoke_async(ctx, input).await
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

    async fn publish_version(&self, ctx: &RequestContext, input: PublishVersionRequest) -> Result<FunctionConfiguration, ServiceError> {
        self.lambda.publish_version(ctx, input).await
    }

    async fn list_versions_by_function(
        &self,
        ctx: &RequestContext,
        input: ListVersionsByFunctionRequest,
    ) -> Result<ListVersionsByFunctionResponse, ServiceError> {
        self.lambda.list_versions_by_function(ctx, input)
    }

    async fn create_alias(&self, ctx: &RequestContext, input: CreateAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        self.lambda.create_alias(ctx, input).await
    }

    async fn get_alias(&self, ctx: &RequestContext, input: GetAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        self.lambda.get_alias(ctx, input)
    }

    async fn update_alias(&self, ctx: &RequestContext, input: UpdateAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        self.lambda.update_alias(ctx, input).await
    }

    async fn delete_alias(&self, ctx: &RequestContext, input: DeleteAliasRequest) -> Result<(), ServiceError> {
        let (name, alias) = (validate::function_name(&input.function_name).map(|(n, _)| n.to_string()), input.name.clone());
        self.lambda.delete_alias(ctx, input).await?;
        // The alias's own policy and provisioned concurrency go with it.
        if let Ok(name) = name {
            self.lambda.control.forget(&crate::function::record_key(&ctx.account_id, &ctx.region, &name), Some(&alias)).await?;
            self.lambda.asynchronous.forget(&crate::function::record_key(&ctx.account_id, &ctx.region, &name), Some(&alias)).await?;
            self.urls.forget_alias(&ctx.account_id, &ctx.region, &name, &alias).await;
        }
        Ok(())
    }

    async fn list_aliases(&self, ctx: &RequestContext, input: ListAliasesRequest) -> Result<ListAliasesResponse, ServiceError> {
        self.lambda.list_aliases(ctx, input)
    }

    async fn publish_layer_version(&self, ctx: &RequestContext, input: PublishLayerVersionRequest) -> Result<PublishLayerVersionResponse, ServiceError> {
        self.lambda.publish_layer_version(ctx, input).await
    }

    async fn get_layer_version(&self, ctx: &RequestContext, input: GetLayerVersionRequest) -> Result<GetLayerVersionResponse, ServiceError> {
        self.lambda.get_layer_version(ctx, input).await
    }

    async fn get_layer_version_by_arn(&self, ctx: &RequestContext, input: GetLayerVersionByArnRequest) -> Result<GetLayerVersionResponse, ServiceError> {
        self.lambda.get_layer_version_by_arn(ctx, input).await
    }

    async fn list_layers(&self, ctx: &RequestContext, input: ListLayersRequest) -> Result<ListLayersResponse, ServiceError> {
        self.lambda.list_layers(ctx, input)
    }

    async fn list_layer_versions(&self, ctx: &RequestContext, input: ListLayerVersionsRequest) -> Result<ListLayerVersionsResponse, ServiceError> {
        self.lambda.list_layer_versions(ctx, input)
    }

    async fn delete_layer_version(&self, ctx: &RequestContext, input: DeleteLayerVersionRequest) -> Result<(), ServiceError> {
        self.lambda.delete_layer_version(ctx, input).await
    }

    async fn add_layer_version_permission(
        &self,
        ctx: &RequestContext,
        input: AddLayerVersionPermissionRequest,
    ) -> Result<AddLayerVersionPermissionResponse, ServiceError> {
        self.lambda.add_layer_version_permission(ctx, input).await
    }

    async fn remove_layer_version_permission(&self, ctx: &RequestContext, input: RemoveLayerVersionPermissionRequest) -> Result<(), ServiceError> {
        self.lambda.remove_layer_version_permission(ctx, input).await
    }

    async fn get_layer_version_policy(&self, ctx: &RequestContext, input: GetLayerVersionPolicyRequest) -> Result<GetLayerVersionPolicyResponse, ServiceError> {
        self.lambda.get_layer_version_policy(ctx, input)
    }

    async fn put_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        self.lambda.put_function_event_invoke_config(ctx, input).await
    }

    async fn get_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        self.lambda.get_function_event_invoke_config(ctx, input)
    }

    async fn update_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        self.lambda.update_function_event_invoke_config(ctx, input).await
    }

    async fn delete_function_event_invoke_config(&self, ctx: &RequestContext, input: DeleteFunctionEventInvokeConfigRequest) -> Result<(), ServiceError> {
        self.lambda.delete_function_event_invoke_config(ctx, input).await
    }

    async fn list_function_event_invoke_configs(
        &self,
        ctx: &RequestContext,
        input: ListFunctionEventInvokeConfigsRequest,
    ) -> Result<ListFunctionEventInvokeConfigsResponse, ServiceError> {
        self.lambda.list_function_event_invoke_configs(ctx, input)
    }

    async fn create_function_url_config(
        &self,
        ctx: &RequestContext,
        input: CreateFunctionUrlConfigRequest,
    ) -> Result<CreateFunctionUrlConfigResponse, ServiceError> {
        self.urls.create(&self.lambda, ctx, input).await
    }

    async fn get_function_url_config(&self, ctx: &RequestContext, input: GetFunctionUrlConfigRequest) -> Result<GetFunctionUrlConfigResponse, ServiceError> {
        self.urls.get(&self.lambda, ctx, input)
    }

    async fn update_function_url_config(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionUrlConfigRequest,
    ) -> Result<UpdateFunctionUrlConfigResponse, ServiceError> {
        self.urls.update(&self.lambda, ctx, input).await
    }

    async fn delete_function_url_config(&self, ctx: &RequestContext, input: DeleteFunctionUrlConfigRequest) -> Result<(), ServiceError> {
        self.urls.delete(&self.lambda, ctx, input).await
    }

    async fn list_function_url_configs(
        &self,
        ctx: &RequestContext,
        input: ListFunctionUrlConfigsRequest,
    ) -> Result<ListFunctionUrlConfigsResponse, ServiceError> {
        self.urls.list(&self.lambda, ctx, input)
    }

    // Resource policy, tags, concurrency, code signing and function settings (control.rs).

    async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionRequest) -> Result<AddPermissionResponse, ServiceError> {
        self.lambda.add_permission(ctx, input).await
    }

    async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionRequest) -> Result<(), ServiceError> {
        self.lambda.remove_permission(ctx, input).await
    }

    async fn get_policy(&self, ctx: &RequestContext, input: GetPolicyRequest) -> Result<GetPolicyResponse, ServiceError> {
        self.lambda.get_policy(ctx, input)
    }

    async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyRequest) -> Result<PutResourcePolicyResponse, ServiceError> {
        self.lambda.put_resource_policy(ctx, input).await
    }

    async fn get_resource_policy(&self, ctx: &RequestContext, input: GetResourcePolicyRequest) -> Result<GetResourcePolicyResponse, ServiceError> {
        self.lambda.get_resource_policy(ctx, input)
    }

    async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyRequest) -> Result<(), ServiceError> {
        self.lambda.delete_resource_policy(ctx, input).await
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<(), ServiceError> {
        self.lambda.tag_resource(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<(), ServiceError> {
        self.lambda.untag_resource(ctx, input).await
    }

    async fn list_tags(&self, ctx: &RequestContext, input: ListTagsRequest) -> Result<ListTagsResponse, ServiceError> {
        self.lambda.list_tags(ctx, input)
    }

    async fn put_function_concurrency(&self, ctx: &RequestContext, input: PutFunctionConcurrencyRequest) -> Result<Concurrency, ServiceError> {
        self.lambda.put_function_concurrency(ctx, input).await
    }

    async fn get_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: GetFunctionConcurrencyRequest,
    ) -> Result<GetFunctionConcurrencyResponse, ServiceError> {
        self.lambda.get_function_concurrency(ctx, input)
    }

    async fn delete_function_concurrency(&self, ctx: &RequestContext, input: DeleteFunctionConcurrencyRequest) -> Result<(), ServiceError> {
        self.lambda.delete_function_concurrency(ctx, input).await
    }

    async fn get_account_settings(&self, ctx: &RequestContext, _input: GetAccountSettingsRequest) -> Result<GetAccountSettingsResponse, ServiceError> {
        self.lambda.get_account_settings(ctx)
    }

    async fn put_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: PutProvisionedConcurrencyConfigRequest,
    ) -> Result<PutProvisionedConcurrencyConfigResponse, ServiceError> {
        self.lambda.put_provisioned_concurrency_config(ctx, input).await
    }

    async fn get_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: GetProvisionedConcurrencyConfigRequest,
    ) -> Result<GetProvisionedConcurrencyConfigResponse, ServiceError> {
        self.lambda.get_provisioned_concurrency_config(ctx, input)
    }

    async fn delete_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: DeleteProvisionedConcurrencyConfigRequest,
    ) -> Result<(), ServiceError> {
        self.lambda.delete_provisioned_concurrency_config(ctx, input).await
    }

    async fn list_provisioned_concurrency_configs(
        &self,
        ctx: &RequestContext,
        input: ListProvisionedConcurrencyConfigsRequest,
    ) -> Result<ListProvisionedConcurrencyConfigsResponse, ServiceError> {
        self.lambda.list_provisioned_concurrency_configs(ctx, input)
    }

    async fn create_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: CreateCodeSigningConfigRequest,
    ) -> Result<CreateCodeSigningConfigResponse, ServiceError> {
        self.lambda.create_code_signing_config(ctx, input).await
    }

    async fn get_code_signing_config(&self, ctx: &RequestContext, input: GetCodeSigningConfigRequest) -> Result<GetCodeSigningConfigResponse, ServiceError> {
        self.lambda.get_code_signing_config(ctx, input)
    }

    async fn update_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: UpdateCodeSigningConfigRequest,
    ) -> Result<UpdateCodeSigningConfigResponse, ServiceError> {
        self.lambda.update_code_signing_config(ctx, input).await
    }

    async fn delete_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: DeleteCodeSigningConfigRequest,
    ) -> Result<DeleteCodeSigningConfigResponse, ServiceError> {
        self.lambda.delete_code_signing_config(ctx, input).await
    }

    async fn list_code_signing_configs(
        &self,
        ctx: &RequestContext,
        input: ListCodeSigningConfigsRequest,
    ) -> Result<ListCodeSigningConfigsResponse, ServiceError> {
        self.lambda.list_code_signing_configs(ctx, input)
    }

    async fn put_function_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionCodeSigningConfigRequest,
    ) -> Result<PutFunctionCodeSigningConfigResponse, ServiceError> {
        self.lambda.put_function_code_signing_config(ctx, input).await
    }

    async fn get_function_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionCodeSigningConfigRequest,
    ) -> Result<GetFunctionCodeSigningConfigResponse, ServiceError> {
        self.lambda.get_function_code_signing_config(ctx, input)
    }

    async fn delete_function_code_signing_config(&self, ctx: &RequestContext, input: DeleteFunctionCodeSigningConfigRequest) -> Result<(), ServiceError> {
        self.lambda.delete_function_code_signing_config(ctx, input).await
    }

    async fn list_functions_by_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: ListFunctionsByCodeSigningConfigRequest,
    ) -> Result<ListFunctionsByCodeSigningConfigResponse, ServiceError> {
        self.lambda.list_functions_by_code_signing_config(ctx, input)
    }

    async fn get_runtime_management_config(
        &self,
        ctx: &RequestContext,
        input: GetRuntimeManagementConfigRequest,
    ) -> Result<GetRuntimeManagementConfigResponse, ServiceError> {
        self.lambda.get_runtime_management_config(ctx, input)
    }

    async fn put_runtime_management_config(
        &self,
        ctx: &RequestContext,
        input: PutRuntimeManagementConfigRequest,
    ) -> Result<PutRuntimeManagementConfigResponse, ServiceError> {
        self.lambda.put_runtime_management_config(ctx, input).await
    }

    async fn get_function_recursion_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionRecursionConfigRequest,
    ) -> Result<GetFunctionRecursionConfigResponse, ServiceError> {
        self.lambda.get_function_recursion_config(ctx, input)
    }

    async fn put_function_recursion_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionRecursionConfigRequest,
    ) -> Result<PutFunctionRecursionConfigResponse, ServiceError> {
        self.lambda.put_function_recursion_config(ctx, input).await
    }

    /// Lambda's front end reports malformed input as ValidationException.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        errors::validation(&error.constraint_violation())
    }
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
        self.provider.urls.reset();
        self.provider.esm.reset();
    }

    /// Requests to function URLs (`<url-id>.lambda-url.<region>...`).
    fn endpoint(&self, req: EndpointRequest) -> BoxFuture<'_, Option<HttpResponse>> {
        Box::pin(url_invoke::serve(&self.provider.lambda, &self.provider.urls, req))
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        let response = self.provider.lambda.internal(&req);
        Box::pin(async move { response })
    }
}

/// Builds the Lambda service, loading its functions from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    let urls = Arc::new(url_config::FunctionUrls::new(env)?);
    let lambda = Arc::new(Lambda::new(env)?);
    // Event source mappings start their pollers here, after a durable restart too.
    let esm = esm::EventSourceMappings::new(env, Arc::clone(&lambda))?;
    // Asynchronous events accepted before a restart run again (durable mode).
    lambda.resume_events();
    Ok(Arc::new(LambdaService { provider: LambdaProvider { lambda, urls, esm } }))
}
