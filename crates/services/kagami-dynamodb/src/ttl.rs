//! Time to Live: UpdateTimeToLive/DescribeTimeToLive, and the sweep that deletes expired
//! items. AWS deletes them within days; kagami deletes them within a second of the emulated
//! clock passing their expiry (and at once when the clock is advanced), so tests can move
//! the clock instead of waiting.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html>

use crate::errors::ValidationError;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, store_failed, table_not_found};
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, clock};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the sweep looks for expired items (real time; an advance of the clock wakes it).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

impl Dynamodb {
    pub async fn update_time_to_live(&self, ctx: &RequestContext, input: UpdateTimeToLiveInput) -> Result<UpdateTimeToLiveOutput, ServiceError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let spec = input.time_to_live_specification;
        if spec.attribute_name.is_empty() {
            return Err(ValidationError::new(
                "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            )
            .into());
        }
        let commit = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(table_not_found(&state.def.name).into());
            }
            match (&state.def.ttl_attribute, spec.enabled) {
                (Some(_), true) => return Err(ValidationError::new("TimeToLive is already enabled").into()),
                (None, false) => return Err(ValidationError::new("TimeToLive is already disabled").into()),
                (Some(current), false) if *current != spec.attribute_name => {
                    return Err(ValidationError::new(format!(
                        "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
                    ))
                    .into());
                }
                _ => {}
            }
            let attribute = spec.enabled.then(|| spec.attribute_name.clone());
            state.def.ttl_attribute = attribute.clone();
            state.data.set_ttl(attribute);
            self.persist(|| vec![persistence::put_table(&state.def)])
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateTimeToLiveOutput { time_to_live_specification: Some(spec) })
    }

    pub fn describe_time_to_live(&self, ctx: &RequestContext, input: DescribeTimeToLiveInput) -> Result<DescribeTimeToLiveOutput, DynamodbError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let state = table.state.read();
        let description = match &state.def.ttl_attribute {
            Some(a) => TimeToLiveDescription { time_to_live_status: Some("ENABLED".into()), attribute_name: Some(a.clone()) },
            None => TimeToLiveDescription { time_to_live_status: Some("DISABLED".into()), attribute_name: None },
        };
        Ok(DescribeTimeToLiveOutput { time_to_live_description: Some(description) })
    }

    /// Deletes every expired item of every table with TTL enabled (skipping tables busy
    /// right now: the next sweep takes them).
    pub(crate) fn sweep_expired(&self, now_secs: i64) -> Vec<Commit> {
        let mut commits = Vec::new();
        for table in self.all_tables() {
            let Some(mut state) = table.state.try_write() else { continue };
            if state.deleted || state.def.ttl_attribute.is_none() {
                continue;
            }
            let expired = state.data.expired(now_secs);
            if expired.is_empty() {
                continue;
            }
            let mut ops: Vec<StoreOp> = Vec::with_capacity(expired.len());
            let durable = self.store.is_durable();
            for key in expired {
                if let Some(old) = state.data.delete(&key) {
                    // The deletion is the DynamoDB service's own: its record says so.
                    let change = crate::streams::Change { key: &key, old: Some(&old), new: None, by_service: true };
                    ops.extend(self.record_change(&state, change));
                    if durable {
                        ops.push(persistence::delete_item(&table.key, &key));
                    }
                }
            }
            commits.push(self.store.submit(ops));
        }
        commits
    }
}

/// Starts the TTL sweep for as long as the service lives (it holds the service weakly).
/// Without a Tokio runtime (plain unit tests) there is no sweep.
pub fn start(dynamodb: &Arc<Dynamodb>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let weak: Weak<Dynamodb> = Arc::downgrade(dynamodb);
    runtime.spawn(async move {
        loop {
            let advanced = clock::advanced();
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
                _ = advanced => {}
            }
            let commits = match weak.upgrade() {
                Some(d) => d.sweep_expired(clock::now_secs()),
                None => return,
            };
            for commit in commits {
                if let Err(e) = commit.wait().await {
                    tracing::warn!(error = %e, "expired DynamoDB items could not be deleted from the store");
                }
            }
        }
    });
}
