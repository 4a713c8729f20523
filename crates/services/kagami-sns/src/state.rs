//! The SNS domain model: topics and their subscriptions, partitioned by (account,
//! region), behind one lock that is never held across an await. Every change is written
//! to the store as one record per topic and one per subscription.

use crate::errors::{store_failed, topic_not_found};
use crate::filter::{FilterPolicy, Scope};
use crate::generated::SnsError;
use indexmap::IndexMap;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{Peers, ServiceError, ServiceEnv, Store, StoreError};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

pub const TOPICS: &str = "sns/topics";
pub const SUBSCRIPTIONS: &str = "sns/subscriptions";
/// FIFO deduplication ids within their interval, keyed `account/region/topic/<id>`, so
/// that a duplicate sent across a restart is still recognised.
pub const DEDUPLICATION: &str = "sns/deduplication";

/// A FIFO publish within the deduplication interval: what a duplicate answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deduplicated {
    pub message_id: String,
    pub sequence_number: String,
    pub expires_at: i64,
    /// The id itself (the record's key ends with it).
    #[serde(default)]
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub fifo: bool,
    /// The attributes a caller can set (DisplayName, Policy, DeliveryPolicy,
    /// ContentBasedDeduplication, ...); the computed ones are added on read.
    pub attributes: IndexMap<String, String>,
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    #[serde(default)]
    pub data_protection_policy: Option<String>,
    #[serde(default)]
    pub subscriptions_deleted: u64,
    #[serde(skip)]
    pub last_sequence: u64,
    #[serde(skip)]
    pub deduplication: HashMap<String, Deduplicated>,
}

impl Topic {
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.name)
    }

    /// The record of a deduplication id seen on this topic.
    pub fn put_deduplicated(&self, d: &Deduplicated) -> StoreOp {
        StoreOp::put_json(DEDUPLICATION, format!("{}/{}", self.key(), d.id), d)
    }

    pub fn content_based_deduplication(&self) -> bool {
        self.attributes.get("ContentBasedDeduplication").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// FIFO sequence numbers: 20 digits, increasing, seeded from the clock so they keep
    /// increasing across a restart without a record per publish.
    pub fn next_sequence_number(&mut self) -> String {
        let floor = u64::try_from(kagami_core::clock::now_millis()).unwrap_or_default().saturating_mul(1_000_000);
        self.last_sequence = self.last_sequence.saturating_add(1).max(floor);
        format!("{:020}", self.last_sequence)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    /// Attributes set by the caller (RawMessageDelivery, FilterPolicy, FilterPolicyScope,
    /// RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn, ReplayPolicy).
    pub attributes: IndexMap<String, String>,
    pub pending: bool,
    pub token: String,
    #[serde(default)]
    pub authenticated: bool,
    #[serde(skip)]
    pub filter: Option<Arc<FilterPolicy>>,
}

impl Subscription {
    pub fn key(&self) -> String {
        subscription_key(&self.arn)
    }

    pub fn scope(&self) -> Scope {
        match self.attributes.get("FilterPolicyScope").map(String::as_str) {
            Some("MessageBody") => Scope::MessageBody,
            _ => Scope::MessageAttributes,
        }
    }

    pub fn raw(&self) -> bool {
        self.attributes.get("RawMessageDelivery").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Compiles the stored policy again (after a load); it was validated when set.
    pub fn refresh_filter(&mut self) {
        self.filter = self
            .attributes
            .get("FilterPolicy")
            .and_then(|p| FilterPolicy::parse(p, self.scope()).ok())
            .map(Arc::new);
    }
}

/// `account/region/topic/id` from `arn:aws:sns:region:account:topic:id`.
fn subscription_key(arn: &str) -> String {
    match crate::arn::parse(arn) {
        Some(a) => format!("{}/{}/{}", a.account, a.region, a.resource.replacen(':', "/", 1)),
        None => arn.to_string(),
    }
}

#[derive(Default)]
pub struct Partition {
    /// By name: ListTopics order.
    pub topics: BTreeMap<String, Topic>,
    /// By ARN, which sorts them by topic.
    pub subscriptions: BTreeMap<String, Subscription>,
}

impl Partition {
    pub fn topic(&self, name: &str) -> Result<&Topic, SnsError> {
        self.topics.get(name).ok_or_else(topic_not_found)
    }

    pub fn topic_mut(&mut self, name: &str) -> Result<&mut Topic, SnsError> {
        self.topics.get_mut(name).ok_or_else(topic_not_found)
    }

    pub fn subscriptions_of<'a>(&'a self, topic_arn: &'a str) -> impl Iterator<Item = &'a Subscription> + 'a {
        self.subscriptions.values().filter(move |s| s.topic_arn == topic_arn)
    }
}

pub struct Sns {
    pub store: Store,
    pub peers: Peers,
    /// For tasks that outlive a request (HTTP deliveries) and need the service.
    pub me: Weak<Sns>,
    partitions: Mutex<HashMap<(String, String), Partition>>,
}

impl Sns {
    pub fn new(env: &ServiceEnv) -> Result<Arc<Sns>, StoreError> {
        let mut partitions: HashMap<(String, String), Partition> = HashMap::new();
        for (_, topic) in env.store.scan_json::<Topic>(TOPICS)? {
            let p = partitions.entry((topic.account.clone(), topic.region.clone())).or_default();
            p.topics.insert(topic.name.clone(), topic);
        }
        for (key, d) in env.store.scan_json::<Deduplicated>(DEDUPLICATION)? {
            // account/region/topic/id: names cannot contain '/', ids can.
            let mut parts = key.splitn(4, '/');
            let (Some(account), Some(region), Some(name)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let topic = partitions.get_mut(&(account.to_string(), region.to_string())).and_then(|p| p.topics.get_mut(name));
            if let Some(topic) = topic {
                topic.deduplication.insert(d.id.clone(), d);
            }
        }
        for (_, mut sub) in env.store.scan_json::<Subscription>(SUBSCRIPTIONS)? {
            let Some((region, account, _)) = crate::arn::parse_topic(&sub.topic_arn) else { continue };
            let key = (account.to_string(), region.to_string());
            sub.refresh_filter();
            let p = partitions.entry(key).or_default();
            p.subscriptions.insert(sub.arn.clone(), sub);
        }
        Ok(Arc::new_cyclic(|me| Sns {
            store: env.store.clone(),
            peers: env.peers.clone(),
            me: me.clone(),
            partitions: Mutex::new(partitions),
        }))
    }

    pub fn reset(&self) {
        self.partitions.lock().clear();
        let ops = [TOPICS, SUBSCRIPTIONS, DEDUPLICATION, crate::outbox::OUTBOX].iter().map(|t| StoreOp::delete_prefix(t, "")).collect();
        drop(self.store.submit(ops));
    }

    /// Runs `f` on the partition of (account, region) under the lock; the records it
    /// returns are submitted before the lock is released, so changes reach the disk in
    /// the order they were made.
    pub fn with<T>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&mut Partition) -> Result<(T, Vec<StoreOp>), SnsError>,
    ) -> Result<(T, Commit), SnsError> {
        let mut partitions = self.partitions.lock();
        let partition = partitions.entry((account.to_string(), region.to_string())).or_default();
        let (value, ops) = f(partition)?;
        let ops = if self.store.is_durable() { ops } else { Vec::new() };
        Ok((value, self.store.submit(ops)))
    }

    /// [`Sns::with`], then waits for the records to be durable.
    pub async fn change<T>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&mut Partition) -> Result<(T, Vec<StoreOp>), SnsError>,
    ) -> Result<T, ServiceError> {
        let (value, commit) = self.with(account, region, f)?;
        commit.wait().await.map_err(store_failed)?;
        Ok(value)
    }

    /// Reads the partition without changing it.
    pub fn read<T>(&self, account: &str, region: &str, f: impl FnOnce(&Partition) -> Result<T, SnsError>) -> Result<T, SnsError> {
        let partitions = self.partitions.lock();
        match partitions.get(&(account.to_string(), region.to_string())) {
            Some(p) => f(p),
            None => f(&Partition::default()),
        }
    }

    /// Every pending subscription with its token (internal endpoint).
    pub fn pending_subscriptions(&self) -> Vec<Subscription> {
        let partitions = self.partitions.lock();
        partitions.values().flat_map(|p| p.subscriptions.values().filter(|s| s.pending).cloned()).collect()
    }
}

pub fn put_topic(topic: &Topic) -> StoreOp {
    StoreOp::put_json(TOPICS, topic.key(), topic)
}

pub fn put_subscription(sub: &Subscription) -> StoreOp {
    StoreOp::put_json(SUBSCRIPTIONS, sub.key(), sub)
}

pub fn delete_subscription(sub: &Subscription) -> StoreOp {
    StoreOp::delete(SUBSCRIPTIONS, sub.key())
}

/// A topic's record and those of all its subscriptions.
pub fn delete_topic(topic: &Topic) -> Vec<StoreOp> {
    vec![
        StoreOp::delete(TOPICS, topic.key()),
        StoreOp::delete_prefix(SUBSCRIPTIONS, format!("{}/", topic.key())),
        StoreOp::delete_prefix(DEDUPLICATION, format!("{}/", topic.key())),
    ]
}
