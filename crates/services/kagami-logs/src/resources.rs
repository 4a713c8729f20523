//! The resources of an (account, region) that live beside its log groups: saved Logs
//! Insights query definitions, resource policies, destinations and export tasks. Each
//! is one record in its own table, keyed `account:region:<id or name>`.

use kagami_core::{RequestContext, Store, StoreError};
use kagami_core::store::StoreOp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub(crate) const QUERY_DEFINITIONS: &str = "logs_query_definitions";
pub(crate) const RESOURCE_POLICIES: &str = "logs_resource_policies";
pub(crate) const DESTINATIONS: &str = "logs_destinations";
pub(crate) const EXPORT_TASKS: &str = "logs_export_tasks";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QueryParameterRecord {
    pub name: String,
    pub default_value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QueryDefinitionRecord {
    pub account: String,
    pub region: String,
    pub id: String,
    pub name: String,
    pub query_string: String,
    pub query_language: String,
    #[serde(default)]
    pub log_group_names: Vec<String>,
    #[serde(default)]
    pub parameters: Vec<QueryParameterRecord>,
    pub last_modified: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResourcePolicyRecord {
    pub account: String,
    pub region: String,
    /// The policy's name; a policy attached to one log group (scope RESOURCE) has none.
    pub name: Option<String>,
    pub resource_arn: Option<String>,
    pub document: String,
    pub revision_id: String,
    pub last_updated: i64,
}

impl ResourcePolicyRecord {
    /// Account-wide policies are named; a resource's policy is keyed by its ARN.
    pub fn id(&self) -> String {
        match (&self.resource_arn, &self.name) {
            (Some(arn), _) => format!("arn={arn}"),
            (None, name) => format!("name={}", name.as_deref().unwrap_or_default()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DestinationRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub target_arn: String,
    pub role_arn: String,
    pub access_policy: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub creation_time: i64,
}

impl DestinationRecord {
    pub fn arn(&self) -> String {
        let partition = kagami_core::arn::partition_of_region(&self.region);
        format!("arn:{partition}:logs:{}:{}:destination:{}", self.region, self.account, self.name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportTaskRecord {
    pub account: String,
    pub region: String,
    pub id: String,
    pub name: Option<String>,
    pub log_group_name: String,
    pub from: i64,
    pub to: i64,
    pub destination: String,
    pub destination_prefix: String,
    pub status: String,
    pub message: String,
    pub creation_time: i64,
    pub completion_time: Option<i64>,
}

/// The resources of one (account, region).
#[derive(Default)]
pub(crate) struct Resources {
    /// By id.
    pub query_definitions: BTreeMap<String, QueryDefinitionRecord>,
    /// By [`ResourcePolicyRecord::id`].
    pub resource_policies: BTreeMap<String, ResourcePolicyRecord>,
    /// By name.
    pub destinations: BTreeMap<String, DestinationRecord>,
    /// Oldest first.
    pub export_tasks: Vec<ExportTaskRecord>,
}

pub(crate) fn record_key(account: &str, region: &str, id: &str) -> String {
    format!("{account}:{region}:{id}")
}

pub(crate) fn query_definition_op(r: &QueryDefinitionRecord) -> StoreOp {
    StoreOp::put_json(QUERY_DEFINITIONS, record_key(&r.account, &r.region, &r.id), r)
}

pub(crate) fn resource_policy_op(r: &ResourcePolicyRecord) -> StoreOp {
    StoreOp::put_json(RESOURCE_POLICIES, record_key(&r.account, &r.region, &r.id()), r)
}

pub(crate) fn destination_op(r: &DestinationRecord) -> StoreOp {
    StoreOp::put_json(DESTINATIONS, record_key(&r.account, &r.region, &r.name), r)
}

pub(crate) fn export_task_op(r: &ExportTaskRecord) -> StoreOp {
    StoreOp::put_json(EXPORT_TASKS, record_key(&r.account, &r.region, &r.id), r)
}

pub(crate) type AllResources = HashMap<(String, String), Resources>;

/// Every (account, region)'s resources as the store holds them.
pub(crate) fn load(store: &Store) -> Result<AllResources, StoreError> {
    let mut all = AllResources::new();
    for (_, r) in store.scan_json::<QueryDefinitionRecord>(QUERY_DEFINITIONS)? {
        all.entry((r.account.clone(), r.region.clone())).or_default().query_definitions.insert(r.id.clone(), r);
    }
    for (_, r) in store.scan_json::<ResourcePolicyRecord>(RESOURCE_POLICIES)? {
        all.entry((r.account.clone(), r.region.clone())).or_default().resource_policies.insert(r.id(), r);
    }
    for (_, r) in store.scan_json::<DestinationRecord>(DESTINATIONS)? {
        all.entry((r.account.clone(), r.region.clone())).or_default().destinations.insert(r.name.clone(), r);
    }
    for (_, r) in store.scan_json::<ExportTaskRecord>(EXPORT_TASKS)? {
        all.entry((r.account.clone(), r.region.clone())).or_default().export_tasks.push(r);
    }
    for resources in all.values_mut() {
        resources.export_tasks.sort_by_key(|t| t.creation_time);
    }
    Ok(all)
}

impl crate::state::Logs {
    /// Runs `f` on the resources of the caller's (account, region).
    pub(crate) fn with_resources<R>(&self, ctx: &RequestContext, f: impl FnOnce(&mut Resources) -> R) -> R {
        self.with_resources_of(&ctx.account_id, &ctx.region, f)
    }

    pub(crate) fn with_resources_of<R>(&self, account: &str, region: &str, f: impl FnOnce(&mut Resources) -> R) -> R {
        let mut all = self.resources.lock();
        f(all.entry((account.to_string(), region.to_string())).or_default())
    }
}
