//! Event source mappings: Lambda reading an SQS queue, a DynamoDB stream or a Kinesis
//! stream and invoking a function with batches of what it read, as AWS's pollers do.
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html>
//!
//! The control plane (`api.rs`) keeps one record per mapping in the store; every enabled
//! mapping has one poller task (`sqs.rs`, or `stream_poller.rs` over a `ShardReader`:
//! `dynamodb.rs`, `kinesis.rs`) that reads its source through `Peers`, filters
//! (`filter.rs`) and invokes the function through the `Lambda` itself.

mod api;
mod delivery;
mod dynamodb;
mod filter;
mod json;
mod kinesis;
mod record;
mod shards;
mod source;
mod sqs;
mod stream_poller;

pub use record::Mapping;

use crate::generated::InvocationRequest;
use source::Source;
use crate::state::Lambda;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{Peers, ServiceEnv, Store, StoreError};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};
use tokio::sync::watch;

pub const MAPPINGS: &str = "lambda/event-source-mappings";
/// Stream positions already delivered, per mapping and shard: a restart resumes there.
pub const CHECKPOINTS: &str = "lambda/esm-checkpoints";
/// The checkpoint of a shard read to its end (closed by a reshard): never read again.
const SHARD_END: &str = "SHARD_END";

/// What invoking the function with a batch came to.
pub enum Outcome {
    /// The function returned; its response payload.
    Success(bytes::Bytes),
    /// The function failed (FunctionError).
    FunctionError,
    /// The invocation did not happen (function deleted, throttled): why.
    NotRun(String),
}

/// A running poller: `true` on `stop` (or dropping it) ends it at its next wait.
struct Poller {
    stop: watch::Sender<bool>,
}

/// Every mapping of every (account, region), and the pollers of the enabled ones.
pub struct EventSourceMappings {
    store: Store,
    peers: Peers,
    lambda: Arc<Lambda>,
    /// Keyed by UUID: UUIDs are unique across accounts, and the order ListEventSourceMappings pages in.
    mappings: RwLock<BTreeMap<String, Mapping>>,
    pollers: Mutex<HashMap<String, Poller>>,
    /// `uuid/shard` -> last sequence number delivered.
    checkpoints: Mutex<HashMap<String, String>>,
    /// `uuid/shard` -> the LATEST iterator taken when the mapping was created, so that
    /// LATEST means "after what the stream held then", not "after whatever the poller
    /// finds when it first runs".
    first_iterators: Mutex<HashMap<String, String>>,
    me: Weak<EventSourceMappings>,
}

impl EventSourceMappings {
    /// Loads the mappings of a durable store and starts the pollers of the enabled ones.
    pub fn new(env: &ServiceEnv, lambda: Arc<Lambda>) -> Result<Arc<EventSourceMappings>, StoreError> {
        let mut mappings = BTreeMap::new();
        for (uuid, m) in env.store.scan_json::<Mapping>(MAPPINGS)? {
            mappings.insert(uuid, m);
        }
        let checkpoints: HashMap<String, String> = env.store.scan_json::<String>(CHECKPOINTS)?.into_iter().collect();
        let esm = Arc::new_cyclic(|me| EventSourceMappings {
            store: env.store.clone(),
            peers: env.peers.clone(),
            lambda,
            mappings: RwLock::new(mappings),
            pollers: Mutex::new(HashMap::new()),
            checkpoints: Mutex::new(checkpoints),
            first_iterators: Mutex::new(HashMap::new()),
            me: me.clone(),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            let enabled: Vec<Mapping> = esm.mappings.read().values().filter(|m| m.enabled).cloned().collect();
            for m in enabled {
                esm.start(&m);
            }
        }
        Ok(esm)
    }

    pub fn reset(&self) {
        for (_, p) in self.pollers.lock().drain() {
            let _ = p.stop.send(true);
        }
        self.mappings.write().clear();
        self.checkpoints.lock().clear();
        self.first_iterators.lock().clear();
        drop(self.store.submit(vec![StoreOp::delete_prefix(MAPPINGS, ""), StoreOp::delete_prefix(CHECKPOINTS, "")]));
    }

    /// The mapping as it is now (pollers re-read it: an update changes their settings).
    pub fn get(&self, uuid: &str) -> Option<Mapping> {
        self.mappings.read().get(uuid).cloned()
    }

    /// Starts the poller of a mapping (replacing a running one).
    fn start(&self, m: &Mapping) {
        self.stop(&m.uuid);
        let Some(me) = self.me.upgrade() else { return };
        let (stop, stopped) = watch::channel(false);
        let uuid = m.uuid.clone();
        match Source::parse(&m.event_source_arn) {
            Source::Sqs { .. } => {
                tokio::spawn(sqs::run(me, uuid.clone(), stopped));
            }
            Source::DynamoDbStream { region, account } => {
                let reader = dynamodb::DynamoDbReader::new(&self.peers, &m.event_source_arn, &region, &account);
                tokio::spawn(stream_poller::run(me, uuid.clone(), reader, stopped));
            }
            Source::Kinesis { region, account, stream, .. } => {
                let reader = kinesis::KinesisReader::new(&self.peers, &region, &account, &stream);
                tokio::spawn(stream_poller::run(me, uuid.clone(), reader, stopped));
            }
            Source::Other => return,
        }
        self.pollers.lock().insert(uuid, Poller { stop });
    }

    fn stop(&self, uuid: &str) {
        if let Some(p) = self.pollers.lock().remove(uuid) {
            let _ = p.stop.send(true);
        }
    }

    /// Records what the last batch came to (`LastProcessingResult`), in memory only: it
    /// changes with every batch and says nothing a restart needs.
    fn set_result(&self, uuid: &str, result: &str) {
        if let Some(m) = self.mappings.write().get_mut(uuid)
            && m.last_processing_result.as_deref() != Some(result)
        {
            m.last_processing_result = Some(result.to_string());
        }
    }

    /// Submits a mapping's record; called under the `mappings` lock that ordered the change.
    fn submit(&self, m: &Mapping) -> Commit {
        self.store.submit(vec![StoreOp::put_json(MAPPINGS, m.uuid.clone(), m)])
    }

    async fn durable(commit: Commit, uuid: &str) -> Result<(), kagami_core::ServiceError> {
        commit.wait().await.map_err(|e| kagami_core::ServiceError::internal(format!("saving event source mapping {uuid}: {e}")))
    }

    /// Invokes the mapping's function synchronously, as the pollers of AWS do.
    async fn invoke(&self, m: &Mapping, payload: Vec<u8>) -> Outcome {
        let ctx = self.peers.system_context(&m.account, &m.region, "lambda");
        let request = InvocationRequest {
            function_name: m.function_arn.clone(),
            invocation_type: Some("RequestResponse".into()),
            payload: Some(bytes::Bytes::from(payload)),
            ..Default::default()
        };
        match self.lambda.invoke(&ctx, request).await {
            Ok(r) if r.function_error.is_some() => Outcome::FunctionError,
            Ok(r) => Outcome::Success(r.payload.unwrap_or_default()),
            Err(e) => Outcome::NotRun(e.message),
        }
    }

    fn forget_checkpoints(&self, uuid: &str) {
        let prefix = format!("{uuid}/");
        self.checkpoints.lock().retain(|k, _| !k.starts_with(&prefix));
        self.first_iterators.lock().retain(|k, _| !k.starts_with(&prefix));
    }

    /// Where a stream poller resumes on a shard: the last sequence number delivered.
    fn checkpoint(&self, uuid: &str, shard: &str) -> Option<String> {
        self.checkpoints.lock().get(&format!("{uuid}/{shard}")).cloned()
    }

    async fn save_checkpoint(&self, uuid: &str, shard: &str, sequence: &str) {
        let key = format!("{uuid}/{shard}");
        let commit = {
            // A batch that finishes after its mapping was deleted leaves no position behind.
            if !self.mappings.read().contains_key(uuid) {
                return;
            }
            let mut checkpoints = self.checkpoints.lock();
            checkpoints.insert(key.clone(), sequence.to_string());
            self.store.submit(vec![StoreOp::put_json(CHECKPOINTS, key, &sequence.to_string())])
        };
        if let Err(e) = commit.wait().await {
            tracing::warn!(mapping = uuid, error = %e, "saving the stream position");
        }
    }
}
