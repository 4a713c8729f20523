//! Durable records of queues and messages in the kagami Store.
//!
//! One record per queue, one per message (written once, at send), and one per message
//! delivery state (rewritten on each receive or visibility change, so a receive never
//! rewrites a body). Keys are `<account>/<region>/<queue>` and `<queue key>/<seq>`;
//! queue names contain no `/`, so a queue's records share a prefix no other queue has.
//!
//! Beside them: one record per FIFO deduplication id within its 5-minute interval
//! (`<queue key>/<id>`), one per message move task (`<source queue key>/<task>`), and one
//! per queue deleted in the last 60 seconds (`<queue key>`). Records that expire are
//! deleted when the queue is next touched or by the sweep (`sweep.rs`).

use crate::attributes::QueueAttributes;
use crate::fifo::Original;
use crate::message::{Delivery, Message, MessageAttribute};
use crate::queue::{Expired, QueueState};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const QUEUES: &str = "sqs/queues";
pub const MESSAGES: &str = "sqs/messages";
pub const DELIVERIES: &str = "sqs/deliveries";
pub const DEDUPLICATION: &str = "sqs/deduplication";
pub const MOVE_TASKS: &str = "sqs/move_tasks";
pub const DELETED_QUEUES: &str = "sqs/deleted_queues";
pub const TABLES: &[&str] = &[QUEUES, MESSAGES, DELIVERIES, DEDUPLICATION, MOVE_TASKS, DELETED_QUEUES];

pub fn queue_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

fn message_key(queue_key: &str, seq: u64) -> String {
    // Zero-padded so that key order is send order.
    format!("{queue_key}/{seq:020}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub attributes: IndexMap<String, String>,
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    pub created_timestamp: i64,
    pub last_modified_timestamp: i64,
    #[serde(default)]
    pub last_purge: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AttributeRecord {
    data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    string_value: Option<String>,
    /// Base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    binary_value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    string_list_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    binary_list_values: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct DeliveryRecord {
    receive_count: u32,
    #[serde(default)]
    first_receive_timestamp: Option<i64>,
    #[serde(default)]
    last_receive_timestamp: Option<i64>,
    visible_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MessageRecord {
    seq: u64,
    message_id: String,
    body: String,
    md5_of_body: String,
    #[serde(default)]
    message_attributes: IndexMap<String, AttributeRecord>,
    #[serde(default)]
    md5_of_message_attributes: Option<String>,
    #[serde(default)]
    system_attributes: IndexMap<String, AttributeRecord>,
    #[serde(default)]
    md5_of_message_system_attributes: Option<String>,
    sender_id: String,
    sent_timestamp: i64,
    #[serde(default)]
    message_group_id: Option<String>,
    #[serde(default)]
    message_deduplication_id: Option<String>,
    #[serde(default)]
    sequence_number: Option<String>,
    #[serde(default)]
    dead_letter_queue_source_arn: Option<String>,
    delivery: DeliveryRecord,
}

impl From<&MessageAttribute> for AttributeRecord {
    fn from(a: &MessageAttribute) -> Self {
        AttributeRecord {
            data_type: a.data_type.clone(),
            string_value: a.string_value.clone(),
            binary_value: a.binary_value.as_ref().map(|b| STANDARD.encode(b)),
            string_list_values: a.string_list_values.clone(),
            binary_list_values: a.binary_list_values.iter().map(|b| STANDARD.encode(b)).collect(),
        }
    }
}

impl From<AttributeRecord> for MessageAttribute {
    fn from(r: AttributeRecord) -> Self {
        let decode = |s: &str| Bytes::from(STANDARD.decode(s).unwrap_or_default());
        MessageAttribute {
            data_type: r.data_type,
            string_value: r.string_value,
            binary_value: r.binary_value.as_deref().map(decode),
            string_list_values: r.string_list_values,
            binary_list_values: r.binary_list_values.iter().map(|s| decode(s)).collect(),
        }
    }
}

impl From<Delivery> for DeliveryRecord {
    fn from(d: Delivery) -> Self {
        DeliveryRecord {
            receive_count: d.receive_count,
            first_receive_timestamp: d.first_receive_timestamp,
            last_receive_timestamp: d.last_receive_timestamp,
            visible_at: d.visible_at,
        }
    }
}

impl From<DeliveryRecord> for Delivery {
    fn from(r: DeliveryRecord) -> Self {
        Delivery {
            receive_count: r.receive_count,
            first_receive_timestamp: r.first_receive_timestamp,
            last_receive_timestamp: r.last_receive_timestamp,
            visible_at: r.visible_at,
        }
    }
}

fn attribute_records(attrs: &IndexMap<String, MessageAttribute>) -> IndexMap<String, AttributeRecord> {
    attrs.iter().map(|(k, v)| (k.clone(), AttributeRecord::from(v))).collect()
}

fn attributes_of(records: IndexMap<String, AttributeRecord>) -> IndexMap<String, MessageAttribute> {
    records.into_iter().map(|(k, v)| (k, MessageAttribute::from(v))).collect()
}

pub fn queue_record(account: &str, region: &str, name: &str, state: &QueueState) -> QueueRecord {
    QueueRecord {
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        attributes: state.attributes.to_map(),
        tags: state.tags.clone(),
        created_timestamp: state.created_timestamp,
        last_modified_timestamp: state.last_modified_timestamp,
        last_purge: state.last_purge,
    }
}

pub fn put_queue(record: &QueueRecord) -> StoreOp {
    StoreOp::put_json(QUEUES, queue_key(&record.account, &record.region, &record.name), record)
}

/// Everything a queue has in the store: its messages, deduplication ids and move tasks.
pub fn delete_queue(queue_key: &str) -> Vec<StoreOp> {
    let mut ops = vec![StoreOp::delete(QUEUES, queue_key)];
    ops.extend(delete_messages(queue_key));
    ops.push(StoreOp::delete_prefix(MOVE_TASKS, format!("{queue_key}/")));
    ops
}

/// Every message and deduplication id of a queue (PurgeQueue).
pub fn delete_messages(queue_key: &str) -> Vec<StoreOp> {
    let prefix = format!("{queue_key}/");
    vec![
        StoreOp::delete_prefix(MESSAGES, prefix.clone()),
        StoreOp::delete_prefix(DELIVERIES, prefix.clone()),
        StoreOp::delete_prefix(DEDUPLICATION, prefix),
    ]
}

/// A deduplication id within its interval: what a duplicate send answers, and until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeduplicationRecord {
    message_id: String,
    sequence_number: String,
    expires_at: i64,
}

pub fn put_deduplication(queue_key: &str, key: &str, original: &Original, expires_at: i64) -> StoreOp {
    let record = DeduplicationRecord {
        message_id: original.message_id.clone(),
        sequence_number: original.sequence_number.clone(),
        expires_at,
    };
    StoreOp::put_json(DEDUPLICATION, format!("{queue_key}/{key}"), &record)
}

pub fn delete_deduplication(queue_key: &str, key: &str) -> StoreOp {
    StoreOp::delete(DEDUPLICATION, format!("{queue_key}/{key}"))
}

/// The records `refresh` found expired.
pub fn delete_expired(queue_key: &str, expired: &Expired) -> impl Iterator<Item = StoreOp> {
    let messages = expired.messages.iter().flat_map(move |m| delete_message(queue_key, m.seq));
    let ids = expired.deduplication_keys.iter().map(move |k| delete_deduplication(queue_key, k));
    messages.chain(ids)
}

/// A queue deleted within the last 60 seconds (QueueDeletedRecently).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DeletedQueueRecord {
    pub deleted_at: i64,
}

pub fn put_deleted_queue(queue_key: &str, deleted_at: i64) -> StoreOp {
    StoreOp::put_json(DELETED_QUEUES, queue_key, &DeletedQueueRecord { deleted_at })
}

pub fn delete_deleted_queue(queue_key: &str) -> StoreOp {
    StoreOp::delete(DELETED_QUEUES, queue_key)
}

pub fn load_deleted_queues(store: &Store) -> Result<Vec<(String, DeletedQueueRecord)>, StoreError> {
    store.scan_json(DELETED_QUEUES)
}

/// A message move task as ListMessageMoveTasks reports it, with the count moved so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveTaskRecord {
    pub task_handle: String,
    pub source_arn: String,
    #[serde(default)]
    pub destination_arn: Option<String>,
    #[serde(default)]
    pub max_per_second: Option<i32>,
    pub started_timestamp: i64,
    pub to_move: i64,
    pub moved: i64,
    pub status: String,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

/// Task keys sort by start time within their source queue.
pub fn move_task_key(source_key: &str, started_timestamp: i64, task_id: &str) -> String {
    format!("{source_key}/{started_timestamp:020}-{task_id}")
}

pub fn put_move_task(key: &str, record: &MoveTaskRecord) -> StoreOp {
    StoreOp::put_json(MOVE_TASKS, key, record)
}

pub fn delete_move_task(key: &str) -> StoreOp {
    StoreOp::delete(MOVE_TASKS, key)
}

/// Every stored move task, oldest first within each source queue.
pub fn load_move_tasks(store: &Store) -> Result<Vec<(String, MoveTaskRecord)>, StoreError> {
    store.scan_json(MOVE_TASKS)
}

/// The queue key a record key starts with: `<account>/<region>/<queue>`.
pub fn owning_queue(record_key: &str) -> Option<&str> {
    let mut cut = 0;
    for _ in 0..3 {
        cut += record_key.get(cut..)?.find('/')? + 1;
    }
    record_key.get(..cut - 1)
}

pub fn put_message(queue_key: &str, m: &Message) -> StoreOp {
    let record = MessageRecord {
        seq: m.seq,
        message_id: m.message_id.clone(),
        body: m.body.clone(),
        md5_of_body: m.md5_of_body.clone(),
        message_attributes: attribute_records(&m.message_attributes),
        md5_of_message_attributes: m.md5_of_message_attributes.clone(),
        system_attributes: attribute_records(&m.system_attributes),
        md5_of_message_system_attributes: m.md5_of_message_system_attributes.clone(),
        sender_id: m.sender_id.clone(),
        sent_timestamp: m.sent_timestamp,
        message_group_id: m.message_group_id.clone(),
        message_deduplication_id: m.message_deduplication_id.clone(),
        sequence_number: m.sequence_number.clone(),
        dead_letter_queue_source_arn: m.dead_letter_queue_source_arn.clone(),
        delivery: m.delivery.into(),
    };
    StoreOp::put_json(MESSAGES, message_key(queue_key, m.seq), &record)
}

pub fn put_delivery(queue_key: &str, seq: u64, delivery: Delivery) -> StoreOp {
    StoreOp::put_json(DELIVERIES, message_key(queue_key, seq), &DeliveryRecord::from(delivery))
}

pub fn delete_message(queue_key: &str, seq: u64) -> [StoreOp; 2] {
    let key = message_key(queue_key, seq);
    [StoreOp::delete(MESSAGES, key.clone()), StoreOp::delete(DELIVERIES, key)]
}

/// A queue as the store holds it.
#[derive(Debug)]
pub struct LoadedQueue {
    pub record: QueueRecord,
    pub attributes: QueueAttributes,
    pub messages: Vec<Message>,
    /// (key, original, expires at) of deduplication ids, expired ones included.
    pub deduplication: Vec<(String, Original, i64)>,
}

/// Reads every queue and message back at startup.
pub fn load(store: &Store) -> Result<Vec<LoadedQueue>, StoreError> {
    let mut queues: Vec<LoadedQueue> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (key, record) in store.scan_json::<QueueRecord>(QUEUES)? {
        let fifo = record.attributes.get("FifoQueue").is_some_and(|v| v == "true");
        let mut attributes = QueueAttributes::defaults(fifo);
        if let Err(e) = attributes.apply_all(&record.attributes, true) {
            tracing::warn!(queue = key, error = %e, "stored queue attributes no longer validate; using defaults for them");
        }
        by_key.insert(key, queues.len());
        queues.push(LoadedQueue { record, attributes, messages: Vec::new(), deduplication: Vec::new() });
    }
    let mut deliveries: HashMap<String, DeliveryRecord> =
        store.scan_json::<DeliveryRecord>(DELIVERIES)?.into_iter().collect();
    for (key, record) in store.scan_json::<MessageRecord>(MESSAGES)? {
        let Some((queue, _seq)) = key.rsplit_once('/') else { continue };
        let Some(loaded) = by_key.get(queue).and_then(|&i| queues.get_mut(i)) else { continue };
        let delivery = deliveries.remove(&key).unwrap_or(record.delivery);
        loaded.messages.push(Message {
            seq: record.seq,
            message_id: record.message_id,
            body: record.body,
            md5_of_body: record.md5_of_body,
            message_attributes: attributes_of(record.message_attributes),
            md5_of_message_attributes: record.md5_of_message_attributes,
            system_attributes: attributes_of(record.system_attributes),
            md5_of_message_system_attributes: record.md5_of_message_system_attributes,
            sender_id: record.sender_id,
            sent_timestamp: record.sent_timestamp,
            message_group_id: record.message_group_id,
            message_deduplication_id: record.message_deduplication_id,
            sequence_number: record.sequence_number,
            dead_letter_queue_source_arn: record.dead_letter_queue_source_arn,
            delivery: delivery.into(),
        });
    }
    for (key, record) in store.scan_json::<DeduplicationRecord>(DEDUPLICATION)? {
        let Some(queue) = owning_queue(&key) else { continue };
        let Some(loaded) = by_key.get(queue).and_then(|&i| queues.get_mut(i)) else { continue };
        let id = key.get(queue.len() + 1..).unwrap_or_default().to_string();
        let original = Original { message_id: record.message_id, sequence_number: record.sequence_number };
        loaded.deduplication.push((id, original, record.expires_at));
    }
    Ok(queues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64) -> Message {
        Message {
            seq,
            message_id: format!("m{seq}"),
            body: format!("body {seq}"),
            md5_of_body: String::new(),
            message_attributes: IndexMap::from([(
                "bin".to_string(),
                MessageAttribute {
                    data_type: "Binary".into(),
                    binary_value: Some(Bytes::from_static(b"\x00\xff")),
                    ..Default::default()
                },
            )]),
            md5_of_message_attributes: Some("x".into()),
            system_attributes: IndexMap::new(),
            md5_of_message_system_attributes: None,
            sender_id: "000000000000".into(),
            sent_timestamp: 5,
            message_group_id: Some("g".into()),
            message_deduplication_id: None,
            sequence_number: Some("00000000000000000001".into()),
            dead_letter_queue_source_arn: None,
            delivery: Delivery { visible_at: 5, ..Default::default() },
        }
    }

    #[tokio::test]
    async fn queues_messages_and_deliveries_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = queue_key("000000000000", "us-east-1", "q.fifo");
        {
            let store = Store::open(dir.path()).unwrap();
            let mut state = QueueState::new(QueueAttributes::defaults(true), IndexMap::new(), 1_000);
            state.tags.insert("team".into(), "a".into());
            let record = queue_record("000000000000", "us-east-1", "q.fifo", &state);
            let delivered = Delivery {
                receive_count: 3,
                first_receive_timestamp: Some(7),
                last_receive_timestamp: Some(9),
                visible_at: 99,
            };
            let mut ops = vec![put_queue(&record), put_message(&key, &message(1)), put_message(&key, &message(2))];
            ops.push(put_delivery(&key, 1, delivered));
            ops.extend(delete_message(&key, 2));
            store.commit(ops).await.unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let loaded = load(&store).unwrap();
        assert_eq!(loaded.len(), 1);
        let q = &loaded[0];
        assert!(q.attributes.fifo_queue);
        assert_eq!(q.record.tags.get("team").map(String::as_str), Some("a"));
        assert_eq!(q.messages.len(), 1);
        let m = &q.messages[0];
        assert_eq!(m.delivery.receive_count, 3);
        assert_eq!(m.delivery.visible_at, 99);
        assert_eq!(m.message_attributes, message(1).message_attributes);
    }

    #[test]
    fn record_keys_name_their_queue_even_when_ids_contain_slashes() {
        assert_eq!(owning_queue("000000000000/us-east-1/q.fifo/a/b"), Some("000000000000/us-east-1/q.fifo"));
        assert_eq!(owning_queue("000000000000/us-east-1/q/00000000000000000001"), Some("000000000000/us-east-1/q"));
        assert_eq!(owning_queue("000000000000/us-east-1"), None);
    }

    #[tokio::test]
    async fn deduplication_ids_round_trip_and_go_with_their_queue() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = queue_key("1", "r", "q.fifo");
        let b = queue_key("1", "r", "q2.fifo");
        let state = QueueState::new(QueueAttributes::defaults(true), IndexMap::new(), 1_000);
        let original = Original { message_id: "m1".into(), sequence_number: "7".into() };
        store
            .commit(vec![
                put_queue(&queue_record("1", "r", "q.fifo", &state)),
                put_queue(&queue_record("1", "r", "q2.fifo", &state)),
                put_deduplication(&a, "id/with/slashes", &original, 300_000),
                put_deduplication(&b, "other", &original, 300_000),
            ])
            .await
            .unwrap();
        let loaded = load(&store).unwrap();
        let q = loaded.iter().find(|q| q.record.name == "q.fifo").unwrap();
        assert_eq!(q.deduplication, vec![("id/with/slashes".to_string(), original.clone(), 300_000)]);
        store.commit(delete_messages(&a)).await.unwrap();
        let loaded = load(&store).unwrap();
        assert!(loaded.iter().find(|q| q.record.name == "q.fifo").unwrap().deduplication.is_empty());
        assert_eq!(loaded.iter().find(|q| q.record.name == "q2.fifo").unwrap().deduplication.len(), 1);
    }

    #[tokio::test]
    async fn deleting_a_queue_removes_only_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = queue_key("1", "r", "q");
        let b = queue_key("1", "r", "q2");
        let state = QueueState::new(QueueAttributes::defaults(false), IndexMap::new(), 1_000);
        store
            .commit(vec![
                put_queue(&queue_record("1", "r", "q", &state)),
                put_queue(&queue_record("1", "r", "q2", &state)),
                put_message(&a, &message(1)),
                put_message(&b, &message(1)),
            ])
            .await
            .unwrap();
        store.commit(delete_queue(&a)).await.unwrap();
        let loaded = load(&store).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].record.name, "q2");
        assert_eq!(loaded[0].messages.len(), 1);
    }
}
