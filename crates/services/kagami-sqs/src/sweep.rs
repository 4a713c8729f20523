//! Expiry without traffic: messages past the retention period, deduplication ids past
//! their 5-minute interval and the 60-second marks of deleted queues are dropped when a
//! queue is touched, and otherwise by a sweep that runs every second and whenever the
//! emulated clock is advanced, so a durable store never keeps what has expired.

use crate::persistence;
use crate::queue::QueueState;
use crate::queues::RECREATE_INTERVAL_MS;
use crate::state::{Queue, Sqs};
use kagami_core::clock;
use kagami_core::store::{Commit, StoreOp};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the sweep looks at every queue (real time; an advance of the clock wakes it).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

impl Sqs {
    /// Brings a queue up to `now` under its lock, adding the deletion of whatever
    /// expired to `ops`.
    pub(crate) fn refresh(&self, queue: &Queue, state: &mut QueueState, now: i64, ops: &mut Vec<StoreOp>) {
        let expired = state.refresh(now);
        if self.store.is_durable() && !expired.is_empty() {
            ops.extend(persistence::delete_expired(&queue.key, &expired));
        }
    }

    /// One sweep: refreshes every queue that has something expired (skipping queues busy
    /// right now: whoever holds the lock refreshes them) and forgets old deletion marks.
    pub(crate) fn sweep(&self, now: i64) -> Vec<Commit> {
        let mut commits = Vec::new();
        for queue in self.all_queues() {
            let Some(mut state) = queue.state.try_lock() else { continue };
            if state.next_expiry().is_none_or(|t| t > now) {
                continue;
            }
            let mut ops = Vec::new();
            self.refresh(&queue, &mut state, now, &mut ops);
            commits.push(self.store.submit(ops));
        }
        let mut marks = self.deleted_recently.lock();
        let before = marks.len();
        let mut ops = Vec::new();
        marks.retain(|key, at| {
            let keep = now - *at < RECREATE_INTERVAL_MS;
            if !keep {
                ops.push(persistence::delete_deleted_queue(key));
            }
            keep
        });
        if marks.len() != before {
            commits.push(self.persist(|| ops));
        }
        commits
    }
}

/// Starts the sweep for as long as the service lives (it holds the service weakly).
/// Without a Tokio runtime (plain unit tests) there is no sweep; access still expires.
pub fn start(sqs: &Arc<Sqs>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let weak: Weak<Sqs> = Arc::downgrade(sqs);
    runtime.spawn(async move {
        loop {
            let advanced = clock::advanced();
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
                _ = advanced => {}
            }
            let commits = match weak.upgrade() {
                Some(sqs) => sqs.sweep(clock::now_millis()),
                None => return,
            };
            for commit in commits {
                if let Err(e) = commit.wait().await {
                    tracing::warn!(error = %e, "expired SQS records could not be deleted; the next sweep retries");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqsProvider;
    use crate::generated::*;
    use kagami_core::{RequestContext, ServiceEnv, Store};

    fn ctx() -> RequestContext {
        RequestContext::system("000000000000", "us-east-1", "sqs")
    }

    #[tokio::test]
    async fn sweep_deletes_expired_messages_and_deduplication_ids_from_the_store() {
        let _serial = crate::tests::SERIAL.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = SqsProvider::new(&ServiceEnv { store: store.clone(), ..ServiceEnv::ephemeral() }).unwrap();
        let attributes = [("FifoQueue", "true"), ("ContentBasedDeduplication", "true"), ("MessageRetentionPeriod", "600")];
        let input = CreateQueueRequest {
            queue_name: "swept.fifo".into(),
            attributes: Some(attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            tags: None,
        };
        let url = p.create_queue(&ctx(), input).await.unwrap().queue_url.unwrap();
        let send = SendMessageRequest {
            queue_url: url.clone(),
            message_body: "x".into(),
            message_group_id: Some("g".into()),
            ..Default::default()
        };
        p.send_message(&ctx(), send).await.unwrap();
        assert_eq!(store.scan(persistence::MESSAGES).unwrap().len(), 1);
        assert_eq!(store.scan(persistence::DEDUPLICATION).unwrap().len(), 1);

        let now = clock::now_millis();
        // Within both periods nothing goes.
        for c in p.sqs.sweep(now + 299_000) {
            c.wait().await.unwrap();
        }
        assert_eq!(store.scan(persistence::DEDUPLICATION).unwrap().len(), 1);
        // The deduplication interval ends first, then the retention period.
        for c in p.sqs.sweep(now + 301_000) {
            c.wait().await.unwrap();
        }
        assert!(store.scan(persistence::DEDUPLICATION).unwrap().is_empty());
        assert_eq!(store.scan(persistence::MESSAGES).unwrap().len(), 1);
        for c in p.sqs.sweep(now + 601_000) {
            c.wait().await.unwrap();
        }
        assert!(store.scan(persistence::MESSAGES).unwrap().is_empty());
        assert!(store.scan(persistence::DELIVERIES).unwrap().is_empty());
    }

    #[tokio::test]
    async fn sweep_forgets_deleted_queue_marks_after_60_seconds() {
        let _serial = crate::tests::SERIAL.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = SqsProvider::new(&ServiceEnv { store: store.clone(), ..ServiceEnv::ephemeral() }).unwrap();
        let input = CreateQueueRequest { queue_name: "gone".into(), ..Default::default() };
        let url = p.create_queue(&ctx(), input).await.unwrap().queue_url.unwrap();
        p.delete_queue(&ctx(), DeleteQueueRequest { queue_url: url }).await.unwrap();
        assert_eq!(store.scan(persistence::DELETED_QUEUES).unwrap().len(), 1);
        let now = clock::now_millis();
        for c in p.sqs.sweep(now + 59_000) {
            c.wait().await.unwrap();
        }
        assert_eq!(store.scan(persistence::DELETED_QUEUES).unwrap().len(), 1);
        for c in p.sqs.sweep(now + 60_001) {
            c.wait().await.unwrap();
        }
        assert!(store.scan(persistence::DELETED_QUEUES).unwrap().is_empty());
        assert!(p.sqs.deleted_recently.lock().is_empty());
    }
}
