//! HTTP deliveries waiting for their next attempt are store records in durable mode:
//! written before Publish answers, rewritten after each failed attempt (attempts made,
//! next attempt time) and removed once the endpoint took the message or the retries are
//! spent. A restart resumes them, oldest first, on the emulated clock where they left off.
//! In memory mode nothing is serialized.

use crate::delivery::QueueMessage;
use crate::retry::RetryPolicy;
use crate::state::{Sns, Subscription};
use kagami_core::store::StoreOp;
use kagami_core::{StoreError, clock};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Keyed `<queued-at millis, zero-padded>/<uuid>`: one record per (message, subscription).
pub const OUTBOX: &str = "sns/http-deliveries";
/// Resumed deliveries wait this long after startup, so that every service a dead-letter
/// queue needs is installed in `Peers` before the first one runs.
const RESUME_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// One message on its way to one HTTP subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HttpDelivery {
    #[serde(skip)]
    pub key: String,
    pub subscription: Subscription,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub policy: RetryPolicy,
    /// Failed attempts so far.
    pub attempt: u32,
    pub next_attempt_at: i64,
    /// What the subscription's dead-letter queue gets once the retries are spent.
    pub dead_letter_body: String,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

pub(crate) fn new_key() -> String {
    format!("{:016}/{}", clock::now_millis().max(0), kagami_core::ids::uuid_v4())
}

impl Sns {
    async fn save_http(&self, d: &HttpDelivery) -> Result<(), StoreError> {
        if !self.store.is_durable() {
            return Ok(());
        }
        self.store.commit(vec![StoreOp::put_json(OUTBOX, d.key.clone(), d)]).await
    }

    async fn forget_http(&self, d: &HttpDelivery) {
        if !self.store.is_durable() {
            return;
        }
        if let Err(e) = self.store.commit(vec![StoreOp::delete(OUTBOX, d.key.clone())]).await {
            tracing::warn!(subscription = %d.subscription.arn, error = %e, "removing a finished HTTP delivery");
        }
    }

    /// Stores the delivery (the publish waits for it), then runs it on its own task.
    pub(crate) async fn start_http(&self, d: HttpDelivery) {
        if let Err(e) = self.save_http(&d).await {
            tracing::warn!(subscription = %d.subscription.arn, error = %e, "storing an HTTP delivery");
        }
        let Some(sns) = self.me.upgrade() else { return };
        tokio::spawn(async move { sns.run_http(d).await });
    }

    async fn run_http(self: Arc<Self>, mut d: HttpDelivery) {
        loop {
            clock::sleep_until(d.next_attempt_at).await;
            let headers: Vec<(&str, String)> = d.headers.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let sub = &d.subscription;
            match crate::http::post(&sub.endpoint, &headers, sub.raw(), d.body.clone()).await {
                Ok(()) => break,
                Err(e) if d.attempt >= d.policy.retries => {
                    tracing::warn!(subscription = %sub.arn, error = %e, "SNS HTTP delivery failed; no retries left");
                    let m = QueueMessage {
                        body: d.dead_letter_body.clone(),
                        attributes: None,
                        group_id: d.group_id.clone(),
                        deduplication_id: d.deduplication_id.clone(),
                    };
                    self.send_dead_letter(sub, m).await;
                    break;
                }
                Err(e) => tracing::info!(subscription = %sub.arn, error = %e, "SNS HTTP delivery failed; will retry"),
            }
            d.attempt += 1;
            d.next_attempt_at = clock::now_millis() + i64::from(d.policy.delay_before(d.attempt)) * 1000;
            if let Err(e) = self.save_http(&d).await {
                tracing::warn!(subscription = %d.subscription.arn, error = %e, "recording a retry of an HTTP delivery");
            }
        }
        self.forget_http(&d).await;
    }

    /// The deliveries a previous process accepted and did not finish, oldest first.
    pub(crate) fn pending_http(&self) -> Result<Vec<HttpDelivery>, StoreError> {
        let records = self.store.scan_json::<HttpDelivery>(OUTBOX)?;
        Ok(records.into_iter().map(|(key, d)| HttpDelivery { key, ..d }).collect())
    }

    /// Runs again the HTTP deliveries a previous process did not finish.
    pub fn resume_http_deliveries(self: &Arc<Self>) {
        let pending = match self.pending_http() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading pending HTTP deliveries");
                return;
            }
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        if pending.is_empty() {
            return;
        }
        tracing::info!(deliveries = pending.len(), "resuming pending SNS HTTP deliveries");
        let sns = Arc::clone(self);
        handle.spawn(async move {
            tokio::time::sleep(RESUME_DELAY).await;
            for d in pending {
                let me = Arc::clone(&sns);
                tokio::spawn(async move { me.run_http(d).await });
            }
        });
    }
}
