//! Settings of one log group beside retention and tags: its data protection policy
//! (stored and reported, masking is not applied), its KMS key, deletion protection,
//! and ListLogGroups.

use crate::errors::{constraint, invalid};
use crate::generated::*;
use crate::groups::group_name_of_arn;
use crate::pagination;
use crate::resource_policies::validate_policy_document;
use crate::state::Logs;
use kagami_core::{RequestContext, ServiceError, clock};

/// ListLogGroups: limit 1 to 1000, 50 by default.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_ListLogGroups.html
const MAX_LIST: i32 = 1000;
const DEFAULT_LIST: i32 = 50;
const MAX_KMS_KEY_ID: usize = 256;

fn identifier_name(identifier: &str) -> String {
    group_name_of_arn(identifier).unwrap_or(identifier).to_string()
}

/// The group a KMS operation names: `logGroupName`, or a log group's ARN as
/// `resourceIdentifier`. None for a query-result identifier, which kagami has nothing to encrypt for.
fn kms_group(name: Option<&str>, resource: Option<&str>) -> Result<Option<String>, LogsError> {
    match (name, resource) {
        (Some(_), Some(_)) => Err(invalid("LogGroup name and resource identifier are mutually exclusive parameters.")),
        (Some(n), None) => Ok(Some(n.to_string())),
        (None, Some(r)) if r.contains(":query-result:") => Ok(None),
        (None, Some(r)) => group_name_of_arn(r).map(|n| Some(n.to_string())).ok_or_else(|| invalid(format!("Invalid resource identifier: {r}"))),
        (None, None) => Err(invalid("Should provide either name or resource identifier of the log group.")),
    }
}

impl Logs {
    pub async fn put_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: PutDataProtectionPolicyRequest,
    ) -> Result<PutDataProtectionPolicyResponse, ServiceError> {
        validate_policy_document(&input.policy_document, "policyDocument")?;
        let now = clock::now_millis();
        self.update_group(ctx, &identifier_name(&input.log_group_identifier), |g| {
            g.rec.data_protection_policy = Some(input.policy_document.clone());
            g.rec.data_protection_updated = Some(now);
            Ok(())
        })
        .await?;
        Ok(PutDataProtectionPolicyResponse {
            log_group_identifier: Some(input.log_group_identifier),
            policy_document: Some(input.policy_document),
            last_updated_time: Some(now),
        })
    }

    pub fn get_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: GetDataProtectionPolicyRequest,
    ) -> Result<GetDataProtectionPolicyResponse, ServiceError> {
        let name = identifier_name(&input.log_group_identifier);
        let (policy_document, last_updated_time) = self.with_partition(ctx, |p| {
            let g = crate::state::group_mut(p, &name)?;
            Ok::<_, LogsError>((g.rec.data_protection_policy.clone(), g.rec.data_protection_updated))
        })?;
        Ok(GetDataProtectionPolicyResponse { log_group_identifier: Some(input.log_group_identifier), policy_document, last_updated_time })
    }

    pub async fn delete_data_protection_policy(&self, ctx: &RequestContext, input: DeleteDataProtectionPolicyRequest) -> Result<(), ServiceError> {
        self.update_group(ctx, &identifier_name(&input.log_group_identifier), |g| {
            if g.rec.data_protection_policy.take().is_none() {
                return Err(LogsError::ResourceNotFoundException("The specified log group does not have a data protection policy.".into()));
            }
            g.rec.data_protection_updated = None;
            Ok(())
        })
        .await
    }

    pub async fn associate_kms_key(&self, ctx: &RequestContext, input: AssociateKmsKeyRequest) -> Result<(), ServiceError> {
        let key = input.kms_key_id;
        if key.is_empty() || key.len() > MAX_KMS_KEY_ID {
            return Err(constraint(&key, "kmsKeyId", "Member must have length less than or equal to 256").into());
        }
        if !(key.starts_with("arn:") && key.contains(":kms:")) {
            return Err(invalid(format!("Specified KMS key must be a full ARN: {key}")).into());
        }
        let Some(name) = kms_group(input.log_group_name.as_deref(), input.resource_identifier.as_deref())? else { return Ok(()) };
        self.update_group(ctx, &name, |g| {
            g.rec.kms_key_id = Some(key);
            Ok(())
        })
        .await
    }

    pub async fn disassociate_kms_key(&self, ctx: &RequestContext, input: DisassociateKmsKeyRequest) -> Result<(), ServiceError> {
        let Some(name) = kms_group(input.log_group_name.as_deref(), input.resource_identifier.as_deref())? else { return Ok(()) };
        self.update_group(ctx, &name, |g| {
            g.rec.kms_key_id = None;
            Ok(())
        })
        .await
    }

    pub async fn put_log_group_deletion_protection(
        &self,
        ctx: &RequestContext,
        input: PutLogGroupDeletionProtectionRequest,
    ) -> Result<(), ServiceError> {
        self.update_group(ctx, &identifier_name(&input.log_group_identifier), |g| {
            g.rec.deletion_protection = input.deletion_protection_enabled;
            Ok(())
        })
        .await
    }

    pub fn list_log_groups(&self, ctx: &RequestContext, input: ListLogGroupsRequest) -> Result<ListLogGroupsResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_LIST, DEFAULT_LIST)?;
        // A regular expression: `^` anchors a prefix, `|` separates alternatives; case-sensitive.
        let pattern = match input.log_group_name_pattern.as_deref() {
            Some(p) => Some(regex_lite::Regex::new(p).map_err(|_| invalid(format!("Invalid logGroupNamePattern: {p}")))?),
            None => None,
        };
        let groups: Vec<LogGroupSummary> = self.with_partition(ctx, |p| {
            p.values()
                .filter(|g| pattern.as_ref().is_none_or(|re| re.is_match(&g.rec.name)))
                .filter(|g| input.log_group_class.as_ref().is_none_or(|c| *c == g.rec.log_group_class))
                .filter(|g| {
                    input.log_group_tags.as_ref().is_none_or(|tags| {
                        tags.iter().all(|t| g.rec.tags.get(&t.key).is_some_and(|v| t.values.as_ref().is_none_or(|vs| vs.contains(v))))
                    })
                })
                .map(|g| LogGroupSummary {
                    log_group_name: Some(g.rec.name.clone()),
                    log_group_arn: Some(g.arn_without_star()),
                    log_group_class: Some(g.rec.log_group_class.clone()),
                })
                .collect()
        });
        let (log_groups, next_token) = pagination::page(groups, input.next_token.as_deref(), limit)?;
        Ok(ListLogGroupsResponse { log_groups: Some(log_groups), next_token })
    }
}
