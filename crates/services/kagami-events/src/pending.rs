//! Deliveries on their way to a target are store records in durable mode: written before
//! PutEvents answers (or before the bus that forwards them counts as delivered), rewritten
//! after each failed attempt (retries made, next attempt time) and removed once the event
//! is delivered or dead-lettered. A restart resumes them, oldest first, on the emulated
//! clock where they left off. In memory mode nothing is serialized.

use crate::delivery::Delivery;
use crate::generated::Target;
use crate::json::{from_json, to_json};
use crate::state::Events;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{StoreError, clock};
use kagami_protocol::shapes::{FromValue, IntoValue};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::sync::Arc;

/// Keyed `<queued-at millis, zero-padded>/<uuid>`: one record per (event, target).
pub(crate) const PENDING: &str = "events_pending";
/// Resumed deliveries wait this long after startup, so that every target service is
/// installed in `Peers` before the first one runs.
const RESUME_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// A delivery as the store keeps it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingRecord {
    pub rule_arn: String,
    pub rule_name: String,
    /// The `Target` shape as JSON.
    pub target: Json,
    pub event: Json,
    /// What the target receives, after input transformation.
    pub input: String,
    pub hops: u8,
    pub started: i64,
    pub retries: i32,
    pub next_attempt: i64,
}

impl Delivery {
    pub(crate) fn record(&self) -> PendingRecord {
        PendingRecord {
            rule_arn: self.rule_arn.clone(),
            rule_name: self.rule_name.clone(),
            target: to_json(&self.target.clone().into_value()),
            event: (*self.event).clone(),
            input: self.input.clone(),
            hops: self.hops,
            started: self.started,
            retries: self.retries,
            next_attempt: self.next_attempt,
        }
    }

    fn from_record(key: String, r: PendingRecord) -> Option<Delivery> {
        let target = Target::from_value(from_json(&r.target)).ok()?;
        Some(Delivery {
            key,
            rule_arn: r.rule_arn,
            rule_name: r.rule_name,
            target,
            event: Arc::new(r.event),
            input: r.input,
            hops: r.hops,
            started: r.started,
            retries: r.retries,
            next_attempt: r.next_attempt,
        })
    }
}

/// A fresh store key, oldest first.
pub(crate) fn new_key() -> String {
    format!("{:016}/{}", clock::now_millis().max(0), kagami_core::ids::uuid_v4())
}

impl Events {
    /// Queues the records of new deliveries for the next group commit.
    pub(crate) fn submit_pending(&self, deliveries: &[Delivery]) -> Commit {
        if !self.store.is_durable() {
            return self.store.submit(Vec::new());
        }
        let ops = deliveries.iter().map(|d| StoreOp::put_json(PENDING, d.key.clone(), &d.record())).collect();
        self.store.submit(ops)
    }

    /// Records a failed attempt (retries made, next attempt time).
    pub(crate) async fn save_pending(&self, d: &Delivery) {
        if !self.store.is_durable() {
            return;
        }
        if let Err(e) = self.store.commit(vec![StoreOp::put_json(PENDING, d.key.clone(), &d.record())]).await {
            tracing::warn!(target = %d.target.arn, error = %e, "recording a retry of an event delivery");
        }
    }

    /// The delivery ended: delivered or dead-lettered.
    pub(crate) async fn forget_pending(&self, d: &Delivery) {
        if !self.store.is_durable() {
            return;
        }
        if let Err(e) = self.store.commit(vec![StoreOp::delete(PENDING, d.key.clone())]).await {
            tracing::warn!(target = %d.target.arn, error = %e, "removing a finished event delivery");
        }
    }

    /// The deliveries a previous process accepted and did not finish, oldest first.
    pub(crate) fn load_pending(&self) -> Result<Vec<Delivery>, StoreError> {
        let records = self.store.scan_json::<PendingRecord>(PENDING)?;
        Ok(records.into_iter().filter_map(|(key, r)| Delivery::from_record(key, r)).collect())
    }

    /// Runs again the deliveries a previous process did not finish.
    pub(crate) fn resume_pending(self: &Arc<Self>) {
        let pending = match self.load_pending() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading pending event deliveries");
                return;
            }
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        if pending.is_empty() {
            return;
        }
        tracing::info!(deliveries = pending.len(), "resuming pending event deliveries");
        let me = Arc::clone(self);
        handle.spawn(async move {
            tokio::time::sleep(RESUME_DELAY).await;
            for d in pending {
                me.spawn_delivery(d);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::generated::*;
    use crate::state::Events;
    use kagami_core::{RequestContext, ServiceEnv, Store};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_failing_delivery_is_on_disk_with_its_retries() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        // No service is installed in these Peers: every call fails as a retryable 500.
        let events = Arc::new(Events::new(&ServiceEnv { store, ..ServiceEnv::ephemeral() }).unwrap_or_else(|e| panic!("{e}")));
        let ctx = RequestContext::system("123456789012", "eu-west-1", "events");
        let rule = PutRuleRequest { name: "r".into(), event_pattern: Some(r#"{"source":["app"]}"#.into()), ..Default::default() };
        events.put_rule(&ctx, rule).await.unwrap_or_else(|e| panic!("{e:?}"));
        let target = Target {
            id: "t".into(),
            arn: "arn:aws:sqs:eu-west-1:123456789012:later".into(),
            input_path: Some("$.detail".into()),
            ..Default::default()
        };
        let targets = PutTargetsRequest { rule: "r".into(), targets: vec![target], ..Default::default() };
        events.put_targets(&ctx, targets).await.unwrap_or_else(|e| panic!("{e:?}"));
        let entry = PutEventsRequestEntry {
            source: Some("app".into()),
            detail_type: Some("t".into()),
            detail: Some(r#"{"n":1}"#.into()),
            ..Default::default()
        };
        let out = events.put_events(&ctx, PutEventsRequest { entries: vec![entry], ..Default::default() }).await;
        assert_eq!(out.unwrap_or_else(|e| panic!("{e:?}")).failed_entry_count, Some(0));

        // Acknowledged means stored, before any attempt.
        let first = events.load_pending().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].input.as_str(), first[0].target.arn.as_str()), (r#"{"n":1}"#, "arn:aws:sqs:eu-west-1:123456789012:later"));
        // The failed attempt is recorded with the retry it waits for, as a restart reads it.
        for _ in 0..100 {
            let now = events.load_pending().unwrap_or_else(|e| panic!("{e}"));
            if now.first().is_some_and(|d| d.retries == 1) {
                assert!(now[0].next_attempt > now[0].started);
                assert_eq!(now[0].key, first[0].key);
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the failed attempt was never recorded");
    }
}
