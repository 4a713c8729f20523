//! Table settings beyond the key schema that live in the table's record: point-in-time
//! recovery, CloudWatch Contributor Insights, resource-based policies, the last stream of
//! a table whose stream was disabled, global-table replicas and their auto scaling. Also
//! the operations that only read and write these settings: Contributor Insights, resource
//! policies (Kinesis streaming destinations are in `kinesis.rs`).

use crate::definition::StreamDefinition;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, Table, locate, store_failed};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// ListContributorInsights: at most this many summaries per page.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListContributorInsights.html>
pub const MAX_LIST_CONTRIBUTOR_INSIGHTS: i32 = 100;
/// A resource-based policy may be at most 20 KB.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-considerations.html>
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableFeatures {
    #[serde(default)]
    pub pitr: Option<crate::pitr::PitrSettings>,
    /// Contributor Insights of the table (key "") and of its GSIs (key: index name).
    #[serde(default)]
    pub contributor_insights: BTreeMap<String, ContributorInsights>,
    #[serde(default)]
    pub resource_policy: Option<ResourcePolicy>,
    #[serde(default)]
    pub stream_policy: Option<ResourcePolicy>,
    /// The stream a table had before it was disabled: AWS keeps describing it.
    #[serde(default)]
    pub last_stream: Option<StreamDefinition>,
    /// Regions holding replicas of this table (global tables version 2019.11.21).
    #[serde(default)]
    pub replicas: Vec<String>,
    /// 2019.11.21 (UpdateTable ReplicaUpdates) or 2017.11.29 (CreateGlobalTable).
    #[serde(default)]
    pub global_version: Option<String>,
    /// The AutoScalingSettingsUpdate requests UpdateTableReplicaAutoScaling stored, as JSON.
    #[serde(default)]
    pub auto_scaling: Option<serde_json::Value>,
    /// Kinesis Data Streams destinations (`kinesis.rs`), ACTIVE or DISABLED.
    #[serde(default)]
    pub kinesis_destinations: Vec<crate::kinesis::KinesisDestination>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributorInsights {
    pub enabled: bool,
    pub mode: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub policy: String,
    pub revision_id: String,
}

const DEFAULT_INSIGHTS_MODE: &str = "ACCESSED_AND_THROTTLED_KEYS";

fn insights_rules(table: &str, index: Option<&str>, at: i64) -> Vec<String> {
    let target = index.map_or_else(|| table.to_string(), |i| format!("{table}-{i}"));
    ["PKC", "PKT", "SKC", "SKT"].iter().map(|kind| format!("DynamoDBContributorInsights-{kind}-{target}-{at}")).collect()
}

fn index_not_found(index: &str) -> DynamodbError {
    DynamodbError::ResourceNotFoundException(format!("Requested resource not found: Index: {index} not found"))
}

/// The table a resource ARN (table or stream) names, and whether it named the stream.
fn resource(dynamodb: &Dynamodb, ctx: &RequestContext, arn: &str) -> Result<(Arc<Table>, bool), DynamodbError> {
    let not_found = || DynamodbError::ResourceNotFoundException(format!("Requested resource not found: {arn}"));
    if !arn.starts_with("arn:") {
        return Err(DynamodbError::ValidationException(format!("Invalid ResourceArn provided as input {arn}")));
    }
    let (account, region, name) = locate(ctx, arn);
    let table = dynamodb.table(account, region, name).ok_or_else(not_found)?;
    let stream = arn.contains("/stream/");
    if stream {
        let state = table.state.read();
        let current = state.def.stream_arn();
        if current.as_deref() != Some(arn) {
            return Err(not_found());
        }
    }
    Ok((table, stream))
}

fn policy_not_found(arn: &str) -> DynamodbError {
    DynamodbError::PolicyNotFoundException(format!("Resource-based policy not found for the provided ResourceArn: {arn}"))
}

impl Dynamodb {
    pub fn describe_contributor_insights(
        &self,
        ctx: &RequestContext,
        input: DescribeContributorInsightsInput,
    ) -> Result<DescribeContributorInsightsOutput, DynamodbError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let state = table.state.read();
        let key = input.index_name.clone().unwrap_or_default();
        if let Some(i) = &input.index_name
            && state.def.global_indexes.iter().all(|g| g.name != *i)
        {
            return Err(index_not_found(i));
        }
        let ci = state.def.features.contributor_insights.get(&key);
        let enabled = ci.is_some_and(|c| c.enabled);
        Ok(DescribeContributorInsightsOutput {
            table_name: Some(state.def.name.clone()),
            index_name: input.index_name.clone(),
            contributor_insights_rule_list: ci
                .filter(|c| c.enabled)
                .map(|c| insights_rules(&state.def.name, input.index_name.as_deref(), c.updated_at)),
            contributor_insights_status: Some(if enabled { "ENABLED" } else { "DISABLED" }.into()),
            last_update_date_time: ci.map(|c| Timestamp::from_millis(c.updated_at)),
            failure_exception: None,
            contributor_insights_mode: ci.filter(|c| c.enabled).map(|c| c.mode.clone()),
        })
    }

    pub async fn update_contributor_insights(
        &self,
        ctx: &RequestContext,
        input: UpdateContributorInsightsInput,
    ) -> Result<UpdateContributorInsightsOutput, ServiceError> {
        let enable = match input.contributor_insights_action.as_str() {
            "ENABLE" => true,
            "DISABLE" => false,
            other => {
                return Err(DynamodbError::ValidationException(format!(
                    "1 validation error detected: Value '{other}' at 'contributorInsightsAction' failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]"
                ))
                .into());
            }
        };
        let mode = input.contributor_insights_mode.clone().unwrap_or_else(|| DEFAULT_INSIGHTS_MODE.into());
        if !matches!(mode.as_str(), "ACCESSED_AND_THROTTLED_KEYS" | "THROTTLED_KEYS") {
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{mode}' at 'contributorInsightsMode' failed to satisfy constraint: Member must satisfy enum value set: [ACCESSED_AND_THROTTLED_KEYS, THROTTLED_KEYS]"
            ))
            .into());
        }
        let table = self.table_named(ctx, &input.table_name)?;
        let (name, commit) = {
            let mut state = table.state.write();
            if let Some(i) = &input.index_name
                && state.def.global_indexes.iter().all(|g| g.name != *i)
            {
                return Err(index_not_found(i).into());
            }
            let key = input.index_name.clone().unwrap_or_default();
            state.def.features.contributor_insights.insert(key, ContributorInsights { enabled: enable, mode: mode.clone(), updated_at: clock::now_millis() });
            (state.def.name.clone(), self.persist(|| vec![persistence::put_table(&state.def)]))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateContributorInsightsOutput {
            table_name: Some(name),
            index_name: input.index_name,
            contributor_insights_status: Some(if enable { "ENABLING" } else { "DISABLING" }.into()),
            contributor_insights_mode: enable.then_some(mode),
        })
    }

    pub fn list_contributor_insights(
        &self,
        ctx: &RequestContext,
        input: ListContributorInsightsInput,
    ) -> Result<ListContributorInsightsOutput, DynamodbError> {
        let limit = input.max_results.unwrap_or(MAX_LIST_CONTRIBUTOR_INSIGHTS);
        if !(0..=MAX_LIST_CONTRIBUTOR_INSIGHTS).contains(&limit) {
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {MAX_LIST_CONTRIBUTOR_INSIGHTS}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(0).max(1);
        let names = match &input.table_name {
            Some(t) => {
                self.table_named(ctx, t)?;
                vec![locate(ctx, t).2.to_string()]
            }
            None => self.names(&ctx.account_id, &ctx.region),
        };
        let mut all = Vec::new();
        for name in names {
            let Some(table) = self.table(&ctx.account_id, &ctx.region, &name) else { continue };
            let state = table.state.read();
            let summary = |index: Option<&str>| {
                let ci = state.def.features.contributor_insights.get(index.unwrap_or_default());
                let enabled = ci.is_some_and(|c| c.enabled);
                ContributorInsightsSummary {
                    table_name: Some(name.clone()),
                    index_name: index.map(str::to_string),
                    contributor_insights_status: Some(if enabled { "ENABLED" } else { "DISABLED" }.into()),
                    contributor_insights_mode: ci.filter(|c| c.enabled).map(|c| c.mode.clone()),
                }
            };
            all.push(summary(None));
            for g in &state.def.global_indexes {
                all.push(summary(Some(&g.name)));
            }
        }
        let start: usize = match &input.next_token {
            Some(t) => t.parse().map_err(|_| DynamodbError::ValidationException(format!("Invalid NextToken: {t}")))?,
            None => 0,
        };
        let page: Vec<ContributorInsightsSummary> = all.iter().skip(start).take(limit).cloned().collect();
        let next = (start + limit < all.len()).then(|| (start + limit).to_string());
        Ok(ListContributorInsightsOutput { contributor_insights_summaries: Some(page), next_token: next })
    }

    pub async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyInput) -> Result<PutResourcePolicyOutput, ServiceError> {
        if input.policy.len() > MAX_POLICY_BYTES {
            return Err(DynamodbError::ValidationException(format!(
                "Policy size {} exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes",
                input.policy.len()
            ))
            .into());
        }
        if !serde_json::from_str::<serde_json::Value>(&input.policy).is_ok_and(|v| v.is_object()) {
            return Err(DynamodbError::ValidationException("Invalid policy document: the policy must be a JSON object".into()).into());
        }
        let (table, stream) = resource(self, ctx, &input.resource_arn)?;
        let (revision, commit) = {
            let mut state = table.state.write();
            let features = &mut state.def.features;
            let slot = if stream { &mut features.stream_policy } else { &mut features.resource_policy };
            if let Some(expected) = &input.expected_revision_id
                && slot.as_ref().map(|p| &p.revision_id) != Some(expected)
            {
                return Err(DynamodbError::PolicyNotFoundException(format!(
                    "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {expected}, but the policy associated to target table {} has revision id {}.",
                    input.resource_arn,
                    slot.as_ref().map_or("null", |p| p.revision_id.as_str())
                ))
                .into());
            }
            let previous: i64 = slot.as_ref().and_then(|p| p.revision_id.parse().ok()).unwrap_or(0);
            let revision = clock::now_millis().max(previous + 1).to_string();
            *slot = Some(ResourcePolicy { policy: input.policy.clone(), revision_id: revision.clone() });
            (revision, self.persist(|| vec![persistence::put_table(&state.def)]))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(PutResourcePolicyOutput { revision_id: Some(revision) })
    }

    pub fn get_resource_policy(&self, ctx: &RequestContext, input: GetResourcePolicyInput) -> Result<GetResourcePolicyOutput, DynamodbError> {
        let (table, stream) = resource(self, ctx, &input.resource_arn)?;
        let state = table.state.read();
        let slot = if stream { &state.def.features.stream_policy } else { &state.def.features.resource_policy };
        let policy = slot.as_ref().ok_or_else(|| policy_not_found(&input.resource_arn))?;
        Ok(GetResourcePolicyOutput { policy: Some(policy.policy.clone()), revision_id: Some(policy.revision_id.clone()) })
    }

    pub async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyInput) -> Result<DeleteResourcePolicyOutput, ServiceError> {
        let (table, stream) = resource(self, ctx, &input.resource_arn)?;
        let (revision, commit) = {
            let mut state = table.state.write();
            let features = &mut state.def.features;
            let slot = if stream { &mut features.stream_policy } else { &mut features.resource_policy };
            let Some(current) = slot.as_ref() else { return Err(policy_not_found(&input.resource_arn).into()) };
            if let Some(expected) = &input.expected_revision_id
                && *expected != current.revision_id
            {
                return Err(policy_not_found(&input.resource_arn).into());
            }
            *slot = None;
            let revision = clock::now_millis().to_string();
            (revision, self.persist(|| vec![persistence::put_table(&state.def)]))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(DeleteResourcePolicyOutput { revision_id: Some(revision) })
    }
}
