//! The SQS domain model: queues partitioned by (account, region), each with its own
//! lock, so work on one queue never waits for another.

use crate::errors::queue_does_not_exist;
use crate::generated::SqsError;
use crate::move_tasks::MoveTask;
use crate::persistence;
use crate::queue::QueueState;
use crate::url::{parse_queue_arn, parse_queue_url, queue_arn, queue_url};
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceEnv, Store, StoreError, clock};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// One queue. Its identity never changes; everything else is behind `state`.
#[derive(Debug)]
pub struct Queue {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    /// Prefix of its records in the store.
    pub key: String,
    pub fifo: bool,
    pub state: Mutex<QueueState>,
    /// Woken when messages may have become available (long polling).
    pub notify: Notify,
    deleted: AtomicBool,
}

impl Queue {
    pub fn new(account: &str, region: &str, name: &str, state: QueueState) -> Queue {
        Queue {
            account: account.to_string(),
            region: region.to_string(),
            name: name.to_string(),
            arn: queue_arn(region, account, name),
            key: persistence::queue_key(account, region, name),
            fifo: state.is_fifo(),
            state: Mutex::new(state),
            notify: Notify::new(),
            deleted: AtomicBool::new(false),
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// The record of this queue's attributes and tags, for the store.
    pub fn record_op(&self, state: &QueueState) -> StoreOp {
        persistence::put_queue(&persistence::queue_record(&self.account, &self.region, &self.name, state))
    }
}

/// Queues of one (account, region), by name: ListQueues order.
type Partition = BTreeMap<String, Arc<Queue>>;

/// All SQS state.
pub struct Sqs {
    pub(crate) store: Store,
    external_host: Option<String>,
    queues: RwLock<HashMap<String, HashMap<String, Partition>>>,
    pub(crate) tasks: Mutex<Vec<Arc<MoveTask>>>,
    /// Queue keys deleted within the last 60 seconds, with when (QueueDeletedRecently).
    pub(crate) deleted_recently: Mutex<HashMap<String, i64>>,
}

impl Sqs {
    /// Builds the service state, loading queues and messages from a durable store.
    pub fn new(env: &ServiceEnv) -> Result<Sqs, StoreError> {
        let sqs = Sqs {
            store: env.store.clone(),
            external_host: env.external_host.clone(),
            queues: RwLock::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
            deleted_recently: Mutex::new(HashMap::new()),
        };
        let now = clock::now_millis();
        sqs.deleted_recently
            .lock()
            .extend(persistence::load_deleted_queues(&env.store)?.into_iter().map(|(k, r)| (k, r.deleted_at)));
        for loaded in persistence::load(&env.store)? {
            let r = loaded.record;
            let mut state = QueueState::new(loaded.attributes, r.tags, now);
            state.created_timestamp = r.created_timestamp;
            state.last_modified_timestamp = r.last_modified_timestamp;
            state.last_purge = r.last_purge;
            for m in loaded.messages {
                state.insert(m, now);
            }
            // Expired ids are dropped (with their records) when the queue is next refreshed.
            for (key, original, expires) in loaded.deduplication {
                state.deduplication.restore(key, original, expires);
            }
            sqs.insert(Arc::new(Queue::new(&r.account, &r.region, &r.name, state)));
        }
        sqs.load_move_tasks()?;
        Ok(sqs)
    }

    /// Forgets every queue, in memory and in the store.
    pub fn reset(&self) {
        let drained: Vec<Arc<Queue>> = {
            let mut queues = self.queues.write();
            let all = queues.values().flat_map(|p| p.values().flat_map(|q| q.values().cloned())).collect();
            queues.clear();
            all
        };
        for q in drained {
            q.deleted.store(true, Ordering::Release);
            q.notify.notify_waiters();
        }
        for task in self.tasks.lock().drain(..) {
            task.cancel();
        }
        self.deleted_recently.lock().clear();
        // Submitted before any later write, so the writer applies it first; nothing to await.
        let ops = persistence::TABLES.iter().map(|t| StoreOp::delete_prefix(t, "")).collect();
        drop(self.store.submit(ops));
    }

    /// Queues records for the next commit, building them only in durable mode.
    pub(crate) fn persist(&self, build: impl FnOnce() -> Vec<StoreOp>) -> Commit {
        self.store.submit(if self.store.is_durable() { build() } else { Vec::new() })
    }

    pub(crate) fn insert(&self, queue: Arc<Queue>) {
        drop(self.insert_if_absent(queue));
    }

    /// Registers a new queue unless one of that name exists already (which is returned).
    pub(crate) fn insert_if_absent(&self, queue: Arc<Queue>) -> Option<Arc<Queue>> {
        let mut queues = self.queues.write();
        let partition = queues.entry(queue.account.clone()).or_default().entry(queue.region.clone()).or_default();
        match partition.get(&queue.name) {
            Some(existing) => Some(Arc::clone(existing)),
            None => {
                partition.insert(queue.name.clone(), queue);
                None
            }
        }
    }

    /// Removes a queue from the registry; `false` if it was not there.
    pub(crate) fn remove(&self, queue: &Queue) -> bool {
        let mut queues = self.queues.write();
        let removed = queues
            .get_mut(&queue.account)
            .and_then(|regions| regions.get_mut(&queue.region))
            .and_then(|partition| partition.remove(&queue.name))
            .is_some();
        if removed {
            queue.deleted.store(true, Ordering::Release);
        }
        removed
    }

    pub(crate) fn queue(&self, account: &str, region: &str, name: &str) -> Option<Arc<Queue>> {
        self.queues.read().get(account)?.get(region)?.get(name).cloned()
    }

    pub(crate) fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let (region, account, name) = parse_queue_arn(arn)?;
        self.queue(account, region, name)
    }

    /// Every queue of every partition (the sweep).
    pub(crate) fn all_queues(&self) -> Vec<Arc<Queue>> {
        let queues = self.queues.read();
        queues.values().flat_map(|regions| regions.values().flat_map(|p| p.values().cloned())).collect()
    }

    /// Queues of one (account, region) in name order.
    pub(crate) fn queues_in(&self, account: &str, region: &str) -> Vec<Arc<Queue>> {
        let queues = self.queues.read();
        queues
            .get(account)
            .and_then(|regions| regions.get(region))
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every queue of an account named `name`, in any region (internal endpoint).
    pub(crate) fn queues_named(&self, account: &str, name: &str) -> Vec<Arc<Queue>> {
        let queues = self.queues.read();
        queues
            .get(account)
            .map(|regions| regions.values().filter_map(|p| p.get(name).cloned()).collect())
            .unwrap_or_default()
    }

    /// The queue a QueueUrl (or bare name) names. The owner is the account in the URL,
    /// which is how one account reaches another's queue.
    pub(crate) fn resolve(&self, ctx: &RequestContext, url: &str) -> Result<Arc<Queue>, SqsError> {
        let r = parse_queue_url(url).ok_or_else(|| queue_does_not_exist(ctx))?;
        let account = r.account.unwrap_or(&ctx.account_id);
        let region = r.region.unwrap_or(&ctx.region);
        self.queue(account, region, r.name).ok_or_else(|| queue_does_not_exist(ctx))
    }

    /// The queue's URL as this caller reaches it.
    pub(crate) fn url_of(&self, ctx: &RequestContext, queue: &Queue) -> String {
        let host = match &self.external_host {
            Some(h) => h.as_str(),
            None if ctx.host.is_empty() => "localhost:4566",
            None => ctx.host.as_str(),
        };
        queue_url(host, &queue.account, &queue.name)
    }
}

/// Pagination tokens of ListQueues and ListDeadLetterSourceQueues: the last name returned.
pub(crate) mod token {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub fn encode(last_name: &str) -> String {
        STANDARD.encode(format!("after:{last_name}"))
    }

    pub fn decode(token: &str) -> Option<String> {
        let bytes = STANDARD.decode(token.trim()).ok()?;
        String::from_utf8(bytes).ok()?.strip_prefix("after:").map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::QueueAttributes;
    use indexmap::IndexMap;

    fn ctx(account: &str, region: &str) -> RequestContext {
        RequestContext::system(account, region, "sqs")
    }

    fn add(sqs: &Sqs, account: &str, region: &str, name: &str) {
        let state = QueueState::new(QueueAttributes::defaults(false), IndexMap::new(), 0);
        sqs.insert(Arc::new(Queue::new(account, region, name, state)));
    }

    #[test]
    fn queues_are_partitioned_by_account_and_region() {
        let sqs = Sqs::new(&ServiceEnv::ephemeral()).unwrap();
        add(&sqs, "111111111111", "us-east-1", "q");
        assert!(sqs.resolve(&ctx("111111111111", "us-east-1"), "q").is_ok());
        assert!(sqs.resolve(&ctx("222222222222", "us-east-1"), "q").is_err());
        assert!(sqs.resolve(&ctx("111111111111", "eu-west-1"), "q").is_err());
        // Another account reaches it through its URL.
        let url = "http://localhost:4566/111111111111/q";
        assert_eq!(sqs.resolve(&ctx("222222222222", "us-east-1"), url).unwrap().account, "111111111111");
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(token::decode(&token::encode("q-1")), Some("q-1".to_string()));
        assert_eq!(token::decode("garbage"), None);
    }
}
