//! Settings kagami stores and reports without acting on them: runtime management
//! (which runtime version a function runs: kagami runs the local interpreter) and
//! recursive loop detection (kagami does not trace invocation chains).

use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError};
use serde::{Deserialize, Serialize};

/// AWS's defaults.
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html
const DEFAULT_UPDATE_RUNTIME_ON: &str = "Auto";
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
const DEFAULT_RECURSIVE_LOOP: &str = "Terminate";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeManagement {
    pub update_runtime_on: String,
    pub runtime_version_arn: Option<String>,
}

fn invalid(message: String) -> ServiceError {
    LambdaError::InvalidParameterValueException(message).into()
}

impl Lambda {
    pub fn get_runtime_management_config(
        &self,
        ctx: &RequestContext,
        input: GetRuntimeManagementConfigRequest,
    ) -> Result<GetRuntimeManagementConfigResponse, ServiceError> {
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        let config = self.control.runtime_management.get(&target.qualified_key());
        Ok(GetRuntimeManagementConfigResponse {
            update_runtime_on: Some(config.as_ref().map_or(DEFAULT_UPDATE_RUNTIME_ON.to_string(), |c| c.update_runtime_on.clone())),
            function_arn: Some(target.arn()),
            runtime_version_arn: config.and_then(|c| c.runtime_version_arn),
        })
    }

    pub async fn put_runtime_management_config(
        &self,
        ctx: &RequestContext,
        input: PutRuntimeManagementConfigRequest,
    ) -> Result<PutRuntimeManagementConfigResponse, ServiceError> {
        let on = input.update_runtime_on;
        if !matches!(on.as_str(), "Auto" | "Manual" | "FunctionUpdate") {
            return Err(crate::errors::validation(&format!(
                "Value '{on}' at 'updateRuntimeOn' failed to satisfy constraint: Member must satisfy enum value set: [Auto, Manual, FunctionUpdate]"
            )));
        }
        if let Some(arn) = &input.runtime_version_arn
            && !(arn.starts_with("arn:aws") && arn.contains(":lambda:") && arn.contains("::runtime:"))
        {
            return Err(crate::errors::validation(&format!(
                "Value '{arn}' at 'runtimeVersionArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso(b?)))?-[a-z]+-\\d{{1}}::runtime:.+"
            )));
        }
        match (on.as_str(), &input.runtime_version_arn) {
            ("Manual", None) => return Err(invalid("Runtime version ARN must be provided when UpdateRuntimeOn is set to Manual.".into())),
            ("Auto" | "FunctionUpdate", Some(_)) => {
                return Err(invalid(format!("Runtime version ARN can be provided only when UpdateRuntimeOn is set to Manual, not {on}.")));
            }
            _ => {}
        }
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        let config = RuntimeManagement { update_runtime_on: on.clone(), runtime_version_arn: input.runtime_version_arn.clone() };
        self.control.runtime_management.put(&target.qualified_key(), config).await?;
        Ok(PutRuntimeManagementConfigResponse { update_runtime_on: on, function_arn: target.arn(), runtime_version_arn: input.runtime_version_arn })
    }

    pub fn get_function_recursion_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionRecursionConfigRequest,
    ) -> Result<GetFunctionRecursionConfigResponse, ServiceError> {
        let f = self.control_function(ctx, &input.function_name)?;
        let recursive_loop = self.control.recursion.get(&f.key()).unwrap_or_else(|| DEFAULT_RECURSIVE_LOOP.to_string());
        Ok(GetFunctionRecursionConfigResponse { recursive_loop: Some(recursive_loop) })
    }

    pub async fn put_function_recursion_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionRecursionConfigRequest,
    ) -> Result<PutFunctionRecursionConfigResponse, ServiceError> {
        let value = input.recursive_loop;
        if value != "Allow" && value != "Terminate" {
            return Err(crate::errors::validation(&format!(
                "Value '{value}' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Allow, Terminate]"
            )));
        }
        let f = self.control_function(ctx, &input.function_name)?;
        self.control.recursion.put(&f.key(), value.clone()).await?;
        Ok(PutFunctionRecursionConfigResponse { recursive_loop: Some(value) })
    }
}
