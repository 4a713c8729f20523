//! Destinations: the receiving end of cross-account subscriptions (PutDestination,
//! PutDestinationPolicy, DescribeDestinations, DeleteDestination). A subscription filter
//! whose destinationArn names one delivers to the destination's target.
//! https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html

use crate::errors::{constraint, invalid, store_failed};
use crate::generated::*;
use crate::pagination;
use crate::resource_policies::validate_policy_document;
use crate::resources::{DESTINATIONS, DestinationRecord, destination_op, record_key};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock};

const MAX_NAME: usize = 512;
/// DescribeDestinations: limit 1 to 50.
const MAX_DESCRIBE: i32 = 50;

fn not_found() -> LogsError {
    LogsError::ResourceNotFoundException("The specified destination does not exist.".into())
}

fn describe(r: &DestinationRecord) -> Destination {
    Destination {
        destination_name: Some(r.name.clone()),
        target_arn: Some(r.target_arn.clone()),
        role_arn: Some(r.role_arn.clone()),
        access_policy: r.access_policy.clone(),
        arn: Some(r.arn()),
        creation_time: Some(r.creation_time),
    }
}

/// `arn:aws:logs:REGION:ACCOUNT:destination:NAME` -> (account, region, name).
pub(crate) fn parse_destination_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, account, "destination", name] => Some((account, region, name)),
        _ => None,
    }
}

impl crate::state::Logs {
    pub async fn put_destination(&self, ctx: &RequestContext, input: PutDestinationRequest) -> Result<PutDestinationResponse, ServiceError> {
        let name = &input.destination_name;
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(constraint(name, "destinationName", "Member must have length less than or equal to 512").into());
        }
        if name.contains([':', '*']) {
            return Err(constraint(name, "destinationName", "Member must satisfy regular expression pattern: [^:*]*").into());
        }
        for (member, arn) in [("targetArn", &input.target_arn), ("roleArn", &input.role_arn)] {
            if !arn.starts_with("arn:") {
                return Err(invalid(format!("Invalid {member}: {arn}")).into());
            }
        }
        if let Some(tags) = &input.tags {
            crate::groups::validate_tags(&tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())?;
        }
        let (destination, commit) = self.with_resources(ctx, |r| {
            let previous = r.destinations.get(name);
            let record = DestinationRecord {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: name.clone(),
                target_arn: input.target_arn.clone(),
                role_arn: input.role_arn.clone(),
                access_policy: previous.and_then(|p| p.access_policy.clone()),
                tags: match (&input.tags, previous) {
                    (Some(tags), _) => tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    (None, Some(p)) => p.tags.clone(),
                    (None, None) => Default::default(),
                },
                creation_time: previous.map_or_else(clock::now_millis, |p| p.creation_time),
            };
            let op = destination_op(&record);
            let destination = describe(&record);
            r.destinations.insert(name.clone(), record);
            (destination, self.store.submit(vec![op]))
        });
        commit.wait().await.map_err(store_failed)?;
        Ok(PutDestinationResponse { destination: Some(destination) })
    }

    pub async fn put_destination_policy(&self, ctx: &RequestContext, input: PutDestinationPolicyRequest) -> Result<(), ServiceError> {
        validate_policy_document(&input.access_policy, "accessPolicy")?;
        let commit = self.with_resources(ctx, |r| {
            let d = r.destinations.get_mut(&input.destination_name).ok_or_else(not_found)?;
            d.access_policy = Some(input.access_policy.clone());
            Ok::<_, LogsError>(self.store.submit(vec![destination_op(d)]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub fn describe_destinations(&self, ctx: &RequestContext, input: DescribeDestinationsRequest) -> Result<DescribeDestinationsResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE, MAX_DESCRIBE)?;
        let found: Vec<Destination> = self.with_resources(ctx, |r| {
            r.destinations
                .values()
                .filter(|d| input.destination_name_prefix.as_deref().is_none_or(|p| d.name.starts_with(p)))
                .map(describe)
                .collect()
        });
        let (destinations, next_token) = pagination::page(found, input.next_token.as_deref(), limit)?;
        Ok(DescribeDestinationsResponse { destinations: Some(destinations), next_token })
    }

    pub async fn delete_destination(&self, ctx: &RequestContext, input: DeleteDestinationRequest) -> Result<(), ServiceError> {
        let commit = self.with_resources(ctx, |r| {
            r.destinations.remove(&input.destination_name).ok_or_else(not_found)?;
            let key = record_key(&ctx.account_id, &ctx.region, &input.destination_name);
            Ok::<_, LogsError>(self.store.submit(vec![StoreOp::delete(DESTINATIONS, key)]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub(crate) async fn change_destination_tags(
        &self,
        ctx: &RequestContext,
        name: &str,
        change: impl FnOnce(&mut std::collections::BTreeMap<String, String>) -> Result<(), LogsError>,
    ) -> Result<(), ServiceError> {
        let commit = self.with_resources(ctx, |r| {
            let d = r.destinations.get_mut(name).ok_or_else(not_found)?;
            let mut tags = d.tags.clone();
            change(&mut tags)?;
            d.tags = tags;
            Ok::<_, LogsError>(self.store.submit(vec![destination_op(d)]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub(crate) fn destination_tags(&self, ctx: &RequestContext, name: &str) -> Result<indexmap::IndexMap<String, String>, LogsError> {
        self.with_resources(ctx, |r| {
            let d = r.destinations.get(name).ok_or_else(not_found)?;
            Ok(d.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        })
    }

    /// The target ARN of the destination `arn` names, wherever it lives.
    pub(crate) fn destination_target(&self, arn: &str) -> Option<String> {
        let (account, region, name) = parse_destination_arn(arn)?;
        self.with_resources_of(account, region, |r| r.destinations.get(name).map(|d| d.target_arn.clone()))
    }
}
