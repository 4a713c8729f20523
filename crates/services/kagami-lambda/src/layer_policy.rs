//! Layer version permissions: the resource policy that lets other accounts (one, all, or
//! an organization's) use a layer version, and its checks when another account reads the
//! version or names it in a function's `Layers`.
//! https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html

use crate::generated::*;
use crate::layers::{LayerVersion, layer_arn, parse_layer_name};
use crate::state::Lambda;
use crate::validate::validation;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The one action a layer version policy can grant.
const ACTION: &str = "lambda:GetLayerVersion";
const MAX_STATEMENT_ID: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub revision_id: String,
    pub statements: IndexMap<String, Statement>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement {
    /// `*` or a 12-digit account.
    pub principal: String,
    pub organization_id: Option<String>,
}

impl Statement {
    fn document(&self, sid: &str, resource: &str) -> serde_json::Value {
        let principal = if self.principal == "*" { json!("*") } else { json!({ "AWS": format!("arn:aws:iam::{}:root", self.principal) }) };
        let mut doc = json!({ "Sid": sid, "Effect": "Allow", "Principal": principal, "Action": ACTION, "Resource": resource });
        if let (Some(org), Some(map)) = (&self.organization_id, doc.as_object_mut()) {
            map.insert("Condition".into(), json!({ "StringEquals": { "aws:PrincipalOrgID": org } }));
        }
        doc
    }
}

/// Whether the version's policy lets `account` use it. kagami knows no organizations, so
/// a statement limited to one grants nothing.
pub fn allows(v: &LayerVersion, account: &str) -> bool {
    v.policy.iter().flat_map(|p| p.statements.values()).any(|s| s.organization_id.is_none() && (s.principal == "*" || s.principal == account))
}

/// Lambda's refusal when no resource-based policy grants another account's layer.
pub fn access_denied(ctx: &RequestContext, operation: &str, resource: &str) -> ServiceError {
    ServiceError::new(
        "AccessDeniedException",
        403,
        format!(
            "User: arn:aws:iam::{}:root is not authorized to perform: lambda:{operation} on resource: {resource} because no resource-based policy allows the lambda:{operation} action",
            ctx.account_id
        ),
    )
}

fn revision_mismatch() -> ServiceError {
    LambdaError::PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id".into(),
    )
    .into()
}

/// `12-digit account`, `*`, or `arn:aws:iam::ACCOUNT:root`, as the account or `*`.
fn principal(input: &str) -> Result<String, ServiceError> {
    let account = |a: &str| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit());
    if input == "*" || account(input) {
        return Ok(input.to_string());
    }
    if let Some(a) = input.strip_prefix("arn:").and_then(|r| r.split_once(":iam::")).filter(|(p, _)| p.starts_with("aws")).and_then(|(_, r)| r.strip_suffix(":root")).filter(|a| account(a)) {
        return Ok(a.to_string());
    }
    Err(validation(&format!(
        "Value '{input}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{{12}}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{{12}}:root"
    )))
}

impl Lambda {
    /// The caller's own version, for the permission operations.
    fn own_layer_version(&self, ctx: &RequestContext, operation: &str, layer_name: &str, version: i64) -> Result<LayerVersion, ServiceError> {
        let (account, region, name) = parse_layer_name(ctx, layer_name)?;
        let arn = format!("{}:{version}", layer_arn(region, account, name));
        if account != ctx.account_id || region != ctx.region {
            return Err(access_denied(ctx, operation, &arn));
        }
        self.layers
            .version(account, region, name, version)
            .map(|v| (*v).clone())
            .ok_or_else(|| LambdaError::ResourceNotFoundException(format!("Layer version {arn} does not exist.")).into())
    }

    pub async fn add_layer_version_permission(
        &self,
        ctx: &RequestContext,
        input: AddLayerVersionPermissionRequest,
    ) -> Result<AddLayerVersionPermissionResponse, ServiceError> {
        if input.statement_id.is_empty()
            || input.statement_id.len() > MAX_STATEMENT_ID
            || !input.statement_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(validation(&format!(
                "Value '{}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
                input.statement_id
            )));
        }
        if input.action != ACTION {
            return Err(validation(&format!(
                "Value '{}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: {ACTION}",
                input.action
            )));
        }
        let principal = principal(&input.principal)?;
        if let Some(org) = &input.organization_id {
            let ok = org.strip_prefix("o-").is_some_and(|r| (10..=32).contains(&r.len()) && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
            if !ok {
                return Err(validation(&format!(
                    "Value '{org}' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: o-[a-z0-9]{{10,32}}"
                )));
            }
        }
        let mut v = self.own_layer_version(ctx, "AddLayerVersionPermission", &input.layer_name, input.version_number)?;
        let mut policy = v.policy.clone().unwrap_or(Policy { revision_id: kagami_core::ids::uuid_v4(), statements: IndexMap::new() });
        if input.revision_id.as_deref().is_some_and(|r| v.policy.as_ref().is_none_or(|p| p.revision_id != r)) {
            return Err(revision_mismatch());
        }
        if policy.statements.contains_key(&input.statement_id) {
            return Err(LambdaError::ResourceConflictException(format!(
                "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                input.statement_id
            ))
            .into());
        }
        let statement = Statement { principal, organization_id: input.organization_id };
        let document = statement.document(&input.statement_id, &v.arn()).to_string();
        policy.statements.insert(input.statement_id, statement);
        policy.revision_id = kagami_core::ids::uuid_v4();
        let revision_id = policy.revision_id.clone();
        v.policy = Some(policy);
        self.layers.replace(v).await?;
        Ok(AddLayerVersionPermissionResponse { statement: Some(document), revision_id: Some(revision_id) })
    }

    pub async fn remove_layer_version_permission(&self, ctx: &RequestContext, input: RemoveLayerVersionPermissionRequest) -> Result<(), ServiceError> {
        let mut v = self.own_layer_version(ctx, "RemoveLayerVersionPermission", &input.layer_name, input.version_number)?;
        if input.revision_id.as_deref().is_some_and(|r| v.policy.as_ref().is_none_or(|p| p.revision_id != r)) {
            return Err(revision_mismatch());
        }
        let Some(policy) = v.policy.as_mut().filter(|p| p.statements.contains_key(&input.statement_id)) else {
            return Err(LambdaError::ResourceNotFoundException(format!("Statement {} is not found in resource policy.", input.statement_id)).into());
        };
        policy.statements.shift_remove(&input.statement_id);
        policy.revision_id = kagami_core::ids::uuid_v4();
        if policy.statements.is_empty() {
            v.policy = None;
        }
        self.layers.replace(v).await
    }

    pub fn get_layer_version_policy(&self, ctx: &RequestContext, input: GetLayerVersionPolicyRequest) -> Result<GetLayerVersionPolicyResponse, ServiceError> {
        let v = self.own_layer_version(ctx, "GetLayerVersionPolicy", &input.layer_name, input.version_number)?;
        let Some(policy) = v.policy.as_ref().filter(|p| !p.statements.is_empty()) else {
            return Err(LambdaError::ResourceNotFoundException("No policy is associated with the given resource.".into()).into());
        };
        let arn = v.arn();
        let statements: Vec<serde_json::Value> = policy.statements.iter().map(|(sid, s)| s.document(sid, &arn)).collect();
        let document = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
        Ok(GetLayerVersionPolicyResponse { policy: Some(document.to_string()), revision_id: Some(policy.revision_id.clone()) })
    }
}
