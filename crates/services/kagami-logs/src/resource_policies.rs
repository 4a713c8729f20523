//! Resource policies that let other services write to the account's log groups
//! (PutResourcePolicy, DescribeResourcePolicies, DeleteResourcePolicy): stored and
//! described; kagami does not evaluate them.
//! https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html

use crate::errors::{constraint, invalid, store_failed};
use crate::generated::*;
use crate::pagination;
use crate::resources::{RESOURCE_POLICIES, ResourcePolicyRecord, record_key, resource_policy_op};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock, ids};

/// An account has at most 10 resource policies per Region, each at most 5,120 characters.
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
const MAX_POLICIES: usize = 10;
const MAX_DOCUMENT: usize = 5120;
/// DescribeResourcePolicies: limit 1 to 50.
const MAX_DESCRIBE: i32 = 50;

fn describe(r: &ResourcePolicyRecord) -> ResourcePolicy {
    ResourcePolicy {
        policy_name: r.name.clone(),
        policy_document: Some(r.document.clone()),
        last_updated_time: Some(r.last_updated),
        policy_scope: Some(if r.resource_arn.is_some() { "RESOURCE" } else { "ACCOUNT" }.into()),
        resource_arn: r.resource_arn.clone(),
        revision_id: Some(r.revision_id.clone()),
    }
}

/// The key a request names: a policy name, or for a resource's policy its ARN.
fn lookup_id(name: Option<&str>, arn: Option<&str>) -> Result<String, LogsError> {
    match (arn, name) {
        (Some(arn), _) => Ok(format!("arn={arn}")),
        (None, Some(name)) => Ok(format!("name={name}")),
        (None, None) => Err(invalid("Either policyName or resourceArn must be specified.")),
    }
}

pub(crate) fn validate_policy_document(document: &str, member: &str) -> Result<(), LogsError> {
    if document.is_empty() {
        return Err(constraint(document, member, "Member must have length greater than or equal to 1"));
    }
    if document.chars().count() > MAX_DOCUMENT {
        return Err(constraint("***", member, "Member must have length less than or equal to 5120"));
    }
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(invalid("Policy document is not valid JSON.")),
    }
}

impl crate::state::Logs {
    pub async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyRequest) -> Result<PutResourcePolicyResponse, ServiceError> {
        let document = input.policy_document.unwrap_or_default();
        validate_policy_document(&document, "policyDocument")?;
        let id = lookup_id(input.policy_name.as_deref(), input.resource_arn.as_deref())?;
        let (policy, commit) = self.with_resources(ctx, |r| {
            let existing = r.resource_policies.get(&id);
            if let (Some(expected), Some(current)) = (&input.expected_revision_id, existing)
                && *expected != current.revision_id
            {
                return Err(LogsError::OperationAbortedException("The expected revision id does not match the current revision id.".into()));
            }
            let account_wide = r.resource_policies.values().filter(|p| p.resource_arn.is_none()).count();
            if existing.is_none() && input.resource_arn.is_none() && account_wide >= MAX_POLICIES {
                return Err(LogsError::LimitExceededException("Resource limit exceeded.".into()));
            }
            let record = ResourcePolicyRecord {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: if input.resource_arn.is_some() { None } else { input.policy_name.clone() },
                resource_arn: input.resource_arn.clone(),
                document,
                revision_id: ids::uuid_v4(),
                last_updated: clock::now_millis(),
            };
            let op = resource_policy_op(&record);
            let policy = describe(&record);
            r.resource_policies.insert(id, record);
            Ok((policy, self.store.submit(vec![op])))
        })?;
        commit.wait().await.map_err(store_failed)?;
        let revision_id = policy.revision_id.clone();
        Ok(PutResourcePolicyResponse { resource_policy: Some(policy), revision_id })
    }

    pub fn describe_resource_policies(
        &self,
        ctx: &RequestContext,
        input: DescribeResourcePoliciesRequest,
    ) -> Result<DescribeResourcePoliciesResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE, MAX_DESCRIBE)?;
        if let Some(scope) = input.policy_scope.as_deref()
            && !matches!(scope, "ACCOUNT" | "RESOURCE")
        {
            return Err(constraint(scope, "policyScope", "Member must satisfy enum value set: [ACCOUNT, RESOURCE]").into());
        }
        let policies: Vec<ResourcePolicy> = self.with_resources(ctx, |r| {
            r.resource_policies
                .values()
                .filter(|p| match (&input.resource_arn, input.policy_scope.as_deref()) {
                    (Some(arn), _) => p.resource_arn.as_ref() == Some(arn),
                    (None, Some("RESOURCE")) => p.resource_arn.is_some(),
                    (None, _) => p.resource_arn.is_none(),
                })
                .map(describe)
                .collect()
        });
        let (resource_policies, next_token) = pagination::page(policies, input.next_token.as_deref(), limit)?;
        Ok(DescribeResourcePoliciesResponse { resource_policies: Some(resource_policies), next_token })
    }

    pub async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyRequest) -> Result<(), ServiceError> {
        let id = lookup_id(input.policy_name.as_deref(), input.resource_arn.as_deref())?;
        let commit = self.with_resources(ctx, |r| {
            let Some(existing) = r.resource_policies.get(&id) else {
                let name = input.policy_name.as_deref().or(input.resource_arn.as_deref()).unwrap_or_default();
                return Err(LogsError::ResourceNotFoundException(format!("Policy with name [{name}] does not exist")));
            };
            if input.expected_revision_id.as_ref().is_some_and(|e| *e != existing.revision_id) {
                return Err(LogsError::OperationAbortedException("The expected revision id does not match the current revision id.".into()));
            }
            r.resource_policies.remove(&id);
            Ok(self.store.submit(vec![StoreOp::delete(RESOURCE_POLICIES, record_key(&ctx.account_id, &ctx.region, &id))]))
        })?;
        commit.wait().await.map_err(store_failed)
    }
}
