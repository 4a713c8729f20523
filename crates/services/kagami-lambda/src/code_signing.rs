//! Code signing configurations and their binding to functions. kagami stores and
//! reports them but verifies no signature: packages deploy whatever the policy says
//! (functions run local code the user handed over, signed or not).

use crate::function::last_modified;
use crate::generated::*;
use crate::records::Records;
use crate::state::Lambda;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, clock, ids};
use serde::{Deserialize, Serialize};

/// https://docs.aws.amazon.com/lambda/latest/api/API_AllowedPublishers.html
const MAX_SIGNING_PROFILES: usize = 20;
/// https://docs.aws.amazon.com/lambda/latest/api/API_CreateCodeSigningConfig.html
const MAX_DESCRIPTION: usize = 256;
/// ListCodeSigningConfigs / ListFunctionsByCodeSigningConfig: MaxItems 1..=10000, 50 a page.
const MODEL_MAX_ITEMS: i32 = 10_000;
const PAGE: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningConfig {
    pub id: String,
    pub arn: String,
    pub description: String,
    pub signing_profile_version_arns: Vec<String>,
    pub untrusted_artifact_on_deployment: String,
    pub last_modified: String,
    #[serde(default)]
    pub tags: IndexMap<String, String>,
}

impl SigningConfig {
    fn shape(&self) -> CodeSigningConfig {
        CodeSigningConfig {
            code_signing_config_id: self.id.clone(),
            code_signing_config_arn: self.arn.clone(),
            description: Some(self.description.clone()),
            allowed_publishers: AllowedPublishers { signing_profile_version_arns: self.signing_profile_version_arns.clone() },
            code_signing_policies: CodeSigningPolicies { untrusted_artifact_on_deployment: Some(self.untrusted_artifact_on_deployment.clone()) },
            last_modified: self.last_modified.clone(),
        }
    }
}

pub struct CodeSigning {
    /// `account/region/csc-id` -> configuration.
    pub configs: Records<SigningConfig>,
    /// `account/region/name` -> the configuration's ARN.
    pub bindings: Records<String>,
}

pub fn not_found(arn: &str) -> ServiceError {
    LambdaError::ResourceNotFoundException(format!("The Lambda code signing configuration {arn} can not be found.")).into()
}

/// `account/region/csc-id` of a configuration ARN, when it is one.
fn record_key(arn: &str) -> Option<String> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", region, account, "code-signing-config", id] => Some(format!("{account}/{region}/{id}")),
        _ => None,
    }
}

fn check_arn(arn: &str) -> Result<String, ServiceError> {
    let key = record_key(arn).filter(|k| {
        let id = k.rsplit('/').next().unwrap_or_default();
        id.strip_prefix("csc-").is_some_and(|h| h.len() == 17 && h.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    });
    key.ok_or_else(|| {
        crate::errors::validation(&format!(
            "Value '{arn}' at 'codeSigningConfigArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{{2}}((-gov)|(-iso(b?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:code-signing-config:csc-[a-z0-9]{{17}}"
        ))
    })
}

/// The record key of a configuration of the caller's account and region.
fn own_key(ctx: &RequestContext, arn: &str) -> Result<String, ServiceError> {
    let key = check_arn(arn)?;
    if !key.starts_with(&format!("{}/{}/", ctx.account_id, ctx.region)) {
        return Err(not_found(arn));
    }
    Ok(key)
}

fn check_publishers(p: &AllowedPublishers) -> Result<(), ServiceError> {
    let n = p.signing_profile_version_arns.len();
    if n == 0 || n > MAX_SIGNING_PROFILES {
        return Err(crate::errors::validation(&format!(
            "Value '[{}]' at 'allowedPublishers.signingProfileVersionArns' failed to satisfy constraint: Member must have length {}",
            p.signing_profile_version_arns.join(", "),
            if n == 0 { "greater than or equal to 1" } else { "less than or equal to 20" }
        )));
    }
    Ok(())
}

fn check_policy(p: Option<&CodeSigningPolicies>) -> Result<Option<String>, ServiceError> {
    match p.and_then(|p| p.untrusted_artifact_on_deployment.as_deref()) {
        None => Ok(None),
        Some(v @ ("Warn" | "Enforce")) => Ok(Some(v.to_string())),
        Some(v) => Err(crate::errors::validation(&format!(
            "Value '{v}' at 'codeSigningPolicies.untrustedArtifactOnDeployment' failed to satisfy constraint: Member must satisfy enum value set: [Warn, Enforce]"
        ))),
    }
}

fn check_description(d: Option<&str>) -> Result<(), ServiceError> {
    if let Some(d) = d
        && d.chars().count() > MAX_DESCRIPTION
    {
        return Err(crate::errors::validation(&format!(
            "Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to {MAX_DESCRIPTION}"
        )));
    }
    Ok(())
}

impl Lambda {
    /// The configuration an ARN names, in the caller's account and region.
    pub fn code_signing_config_record(&self, ctx: &RequestContext, arn: &str) -> Result<SigningConfig, ServiceError> {
        let key = own_key(ctx, arn)?;
        self.control.code_signing.configs.get(&key).ok_or_else(|| not_found(arn))
    }

    pub async fn change_code_signing_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
        change: impl FnOnce(&IndexMap<String, String>) -> Result<IndexMap<String, String>, ServiceError>,
    ) -> Result<(), ServiceError> {
        let key = own_key(ctx, arn)?;
        self.control
            .code_signing
            .configs
            .change(&key, |current| {
                let mut c = current.cloned().ok_or_else(|| not_found(arn))?;
                c.tags = change(&c.tags)?;
                Ok((Some(c), ()))
            })
            .await
    }

    pub async fn create_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: CreateCodeSigningConfigRequest,
    ) -> Result<CreateCodeSigningConfigResponse, ServiceError> {
        check_publishers(&input.allowed_publishers)?;
        check_description(input.description.as_deref())?;
        let policy = check_policy(input.code_signing_policies.as_ref())?;
        let tags = input.tags.unwrap_or_default();
        crate::tags::check(&tags)?;
        let id = format!("csc-{}", ids::uuid_v4().replace('-', "").get(..17).unwrap_or_default());
        let arn = format!("arn:aws:lambda:{}:{}:code-signing-config:{id}", ctx.region, ctx.account_id);
        let config = SigningConfig {
            id: id.clone(),
            arn,
            description: input.description.unwrap_or_default(),
            signing_profile_version_arns: input.allowed_publishers.signing_profile_version_arns,
            untrusted_artifact_on_deployment: policy.unwrap_or_else(|| "Warn".into()),
            last_modified: last_modified(clock::now_millis()),
            tags,
        };
        self.control.code_signing.configs.put(&format!("{}/{}/{id}", ctx.account_id, ctx.region), config.clone()).await?;
        Ok(CreateCodeSigningConfigResponse { code_signing_config: config.shape() })
    }

    pub fn get_code_signing_config(&self, ctx: &RequestContext, input: GetCodeSigningConfigRequest) -> Result<GetCodeSigningConfigResponse, ServiceError> {
        Ok(GetCodeSigningConfigResponse { code_signing_config: self.code_signing_config_record(ctx, &input.code_signing_config_arn)?.shape() })
    }

    pub async fn update_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: UpdateCodeSigningConfigRequest,
    ) -> Result<UpdateCodeSigningConfigResponse, ServiceError> {
        let key = own_key(ctx, &input.code_signing_config_arn)?;
        if let Some(p) = &input.allowed_publishers {
            check_publishers(p)?;
        }
        check_description(input.description.as_deref())?;
        let policy = check_policy(input.code_signing_policies.as_ref())?;
        let arn = input.code_signing_config_arn.clone();
        let updated = self
            .control
            .code_signing
            .configs
            .change(&key, |current| {
                let mut c = current.cloned().ok_or_else(|| not_found(&arn))?;
                if let Some(d) = input.description {
                    c.description = d;
                }
                if let Some(p) = input.allowed_publishers {
                    c.signing_profile_version_arns = p.signing_profile_version_arns;
                }
                if let Some(p) = policy {
                    c.untrusted_artifact_on_deployment = p;
                }
                c.last_modified = last_modified(clock::now_millis());
                Ok((Some(c.clone()), c))
            })
            .await?;
        Ok(UpdateCodeSigningConfigResponse { code_signing_config: updated.shape() })
    }

    pub async fn delete_code_signing_config(&self, ctx: &RequestContext, input: DeleteCodeSigningConfigRequest) -> Result<DeleteCodeSigningConfigResponse, ServiceError> {
        let arn = input.code_signing_config_arn;
        let key = own_key(ctx, &arn)?;
        if self.control.code_signing.bindings.all().iter().any(|(_, a)| *a == arn) {
            return Err(LambdaError::ResourceConflictException(format!(
                "The code signing configuration {arn} cannot be deleted because it is used by one or more functions."
            ))
            .into());
        }
        self.control
            .code_signing
            .configs
            .change(&key, |current| match current {
                Some(_) => Ok((None, ())),
                None => Err(not_found(&arn)),
            })
            .await?;
        Ok(DeleteCodeSigningConfigResponse {})
    }

    pub fn list_code_signing_configs(&self, ctx: &RequestContext, input: ListCodeSigningConfigsRequest) -> Result<ListCodeSigningConfigsResponse, ServiceError> {
        let max = crate::paging::max_items(input.max_items, MODEL_MAX_ITEMS, PAGE)?;
        let items = self
            .control
            .code_signing
            .configs
            .under(&format!("{}/{}/", ctx.account_id, ctx.region))
            .into_iter()
            .map(|(_, c)| (c.id.clone(), c.shape()))
            .collect();
        let (page, next_marker) = crate::paging::page(items, input.marker.as_deref(), max);
        Ok(ListCodeSigningConfigsResponse { next_marker, code_signing_configs: Some(page) })
    }

    pub async fn put_function_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionCodeSigningConfigRequest,
    ) -> Result<PutFunctionCodeSigningConfigResponse, ServiceError> {
        let key = check_arn(&input.code_signing_config_arn)?;
        let own = key.starts_with(&format!("{}/{}/", ctx.account_id, ctx.region));
        if !own || self.control.code_signing.configs.get(&key).is_none() {
            return Err(LambdaError::CodeSigningConfigNotFoundException(format!(
                "The code signing configuration cannot be found. Check that the provided configuration is not deleted: {}.",
                input.code_signing_config_arn
            ))
            .into());
        }
        let f = self.control_function(ctx, &input.function_name)?;
        self.control.code_signing.bindings.put(&f.key(), input.code_signing_config_arn.clone()).await?;
        Ok(PutFunctionCodeSigningConfigResponse { code_signing_config_arn: input.code_signing_config_arn, function_name: f.name.clone() })
    }

    pub fn get_function_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionCodeSigningConfigRequest,
    ) -> Result<GetFunctionCodeSigningConfigResponse, ServiceError> {
        let f = self.control_function(ctx, &input.function_name)?;
        Ok(GetFunctionCodeSigningConfigResponse {
            code_signing_config_arn: self.control.code_signing.bindings.get(&f.key()).unwrap_or_default(),
            function_name: f.name.clone(),
        })
    }

    pub async fn delete_function_code_signing_config(&self, ctx: &RequestContext, input: DeleteFunctionCodeSigningConfigRequest) -> Result<(), ServiceError> {
        let f = self.control_function(ctx, &input.function_name)?;
        self.control.code_signing.bindings.change(&f.key(), |_| Ok((None, ()))).await
    }

    pub fn list_functions_by_code_signing_config(
        &self,
        ctx: &RequestContext,
        input: ListFunctionsByCodeSigningConfigRequest,
    ) -> Result<ListFunctionsByCodeSigningConfigResponse, ServiceError> {
        let max = crate::paging::max_items(input.max_items, MODEL_MAX_ITEMS, PAGE)?;
        let config = self.code_signing_config_record(ctx, &input.code_signing_config_arn)?;
        let (account, region) = match config.arn.split(':').collect::<Vec<_>>().as_slice() {
            [_, _, _, region, account, ..] => ((*account).to_string(), (*region).to_string()),
            _ => return Err(not_found(&config.arn)),
        };
        let prefix = format!("{account}/{region}/");
        let items = self
            .control
            .code_signing
            .bindings
            .under(&prefix)
            .into_iter()
            .filter(|(_, arn)| *arn == config.arn)
            .map(|(k, _)| {
                let name = k.get(prefix.len()..).unwrap_or_default().to_string();
                (name.clone(), crate::function::function_arn(&region, &account, &name))
            })
            .collect();
        let (page, next_marker) = crate::paging::page(items, input.marker.as_deref(), max);
        Ok(ListFunctionsByCodeSigningConfigResponse { next_marker, function_arns: Some(page) })
    }
}
