//! Kinesis Data Streams for DynamoDB: a table's item changes copied into a Kinesis data
//! stream. The destination lives in the table's record (so it is as durable as the
//! table); every item change goes through [`Dynamodb::record_local_change`], the hook
//! that feeds DynamoDB Streams too, which queues the Kinesis record here under the
//! table's write lock. A worker drains the queue in order and puts each record through
//! Peers, outside any lock, so a slow or missing Kinesis never delays a write. In durable
//! mode a queued record is also a store record ([`KINESIS_OUTBOX`]) in the same commit
//! as the item change, removed once it has been put: a change the client saw
//! acknowledged reaches the stream even when the process is killed first (at least
//! once, as Kinesis producers deliver).
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html>

use crate::codec;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, TableState, store_failed};
use crate::streams::Change;
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Value};
use md5::{Digest, Md5};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

const MILLISECOND: &str = "MILLISECOND";
const MICROSECOND: &str = "MICROSECOND";
/// What a destination enabled without a configuration uses (the console's default).
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds_gettingstarted.html>
const DEFAULT_PRECISION: &str = MICROSECOND;
/// Who deletes an expired item (Time to Live), as the record's `userIdentity` names it.
const TTL_PRINCIPAL: &str = "dynamodb.amazonaws.com";

/// One Kinesis destination of a table, kept in its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KinesisDestination {
    pub stream_arn: String,
    /// ACTIVE or DISABLED: the states AWS shows at rest (the transitions are immediate).
    pub status: String,
    pub precision: String,
}

impl KinesisDestination {
    fn active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// The records not yet put into their stream, in durable mode: keyed
/// `<millis:016>/<sequence:020>/<uuid>`, oldest first.
pub const KINESIS_OUTBOX: &str = "dynamodb/kinesis_outbox";
/// Records left by a previous process wait this long after startup, so that Kinesis is
/// installed in `Peers` before the first one is put.
const RESUME_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// A record on its way to a stream.
#[derive(Debug, Serialize, Deserialize)]
struct Outgoing {
    account: String,
    region: String,
    stream_arn: String,
    partition_key: String,
    /// The record's JSON text.
    data: String,
}

/// Records queued for Kinesis, oldest first, each with its store key in durable mode.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<VecDeque<(Option<String>, Outgoing)>>,
    wake: Arc<tokio::sync::Notify>,
    events: AtomicU64,
}

fn check_precision(p: Option<&str>) -> Result<String, DynamodbError> {
    match p {
        None => Ok(DEFAULT_PRECISION.to_string()),
        Some(p @ (MILLISECOND | MICROSECOND)) => Ok(p.to_string()),
        Some(p) => Err(DynamodbError::ValidationException(format!(
            "1 validation error detected: Value '{p}' at 'enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MICROSECOND, MILLISECOND]"
        ))),
    }
}

fn partition_key(keys: &serde_json::Value) -> String {
    let digest = Md5::digest(keys.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

impl Dynamodb {
    /// Queues the Kinesis record of one item change for each ACTIVE destination of the
    /// table; called under the table's write lock, it only appends to the outbox.
    /// Returns the outbox's store records, for the change's commit (none in memory mode).
    pub(crate) fn queue_kinesis(&self, state: &TableState, change: Change<'_>, now: i64, durable: bool) -> Vec<StoreOp> {
        let event_name = match (change.old, change.new) {
            (None, Some(_)) => "INSERT",
            (Some(o), Some(n)) if o != n => "MODIFY",
            (Some(_), None) => "REMOVE",
            _ => return Vec::new(),
        };
        let mut ops = Vec::new();
        let keys = state.schema.key_item(change.key);
        let size = crate::attribute::item_size(&keys) + change.new.map_or(0, crate::attribute::item_size) + change.old.map_or(0, crate::attribute::item_size);
        let keys_json = codec::item_to_json(&keys);
        let def = &state.def;
        for d in def.features.kinesis_destinations.iter().filter(|d| d.active()) {
            let n = self.kinesis_out.events.fetch_add(1, Ordering::Relaxed);
            let id = Md5::digest(format!("{}/{now}/{n}", def.arn()).as_bytes());
            let h: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let event_id = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
            let created = if d.precision == MICROSECOND { now.saturating_mul(1000) } else { now };
            let mut dynamodb = serde_json::json!({
                "ApproximateCreationDateTime": created,
                "ApproximateCreationDateTimePrecision": d.precision,
                "Keys": keys_json,
                "SizeBytes": size,
            });
            if let Some(new) = change.new {
                dynamodb["NewImage"] = codec::item_to_json(new);
            }
            if let Some(old) = change.old {
                dynamodb["OldImage"] = codec::item_to_json(old);
            }
            let user_identity = if change.by_service { serde_json::json!({"type": "Service", "principalId": TTL_PRINCIPAL}) } else { serde_json::Value::Null };
            let record = serde_json::json!({
                "awsRegion": def.region,
                "eventID": event_id,
                "eventName": event_name,
                "userIdentity": user_identity,
                "recordFormat": "application/json",
                "tableName": def.name,
                "dynamodb": dynamodb,
                "eventSource": "aws:dynamodb",
            });
            let outgoing = Outgoing {
                account: def.account.clone(),
                region: def.region.clone(),
                stream_arn: d.stream_arn.clone(),
                partition_key: partition_key(&keys_json),
                data: record.to_string(),
            };
            let key = durable.then(|| format!("{:016}/{n:020}/{}", now.max(0), kagami_core::ids::uuid_v4()));
            if let Some(key) = &key {
                ops.push(StoreOp::put_json(KINESIS_OUTBOX, key.clone(), &outgoing));
            }
            self.kinesis_out.queue.lock().push_back((key, outgoing));
            self.kinesis_out.wake.notify_one();
        }
        ops
    }

    /// Asks Kinesis (through Peers) whether the stream exists in the table's account and
    /// region.
    async fn check_stream(&self, account: &str, region: &str, arn: &str) -> Result<(), ServiceError> {
        let ctx = self.peers.system_context(account, region, "dynamodb");
        let input = Value::Map(IndexMap::from([("StreamARN".to_string(), Value::Str(arn.to_string()))]));
        match self.peers.call(&ctx, "kinesis", "DescribeStreamSummary", input).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == "ResourceNotFoundException" || e.code == "InvalidArgumentException" || e.code == "ValidationException" => {
                Err(DynamodbError::ResourceNotFoundException(format!("Requested resource not found: Stream: {arn} not found")).into())
            }
            Err(e) => Err(e),
        }
    }

    /// A destination that is not ACTIVE: ResourceNotFoundException when its stream does
    /// not exist either, else ValidationException.
    async fn not_streaming(&self, table: &crate::state::Table, arn: &str) -> ServiceError {
        let (account, region, name) = {
            let s = table.state.read();
            (s.def.account.clone(), s.def.region.clone(), s.def.name.clone())
        };
        if let Err(e) = self.check_stream(&account, &region, arn).await {
            return e;
        }
        DynamodbError::ValidationException(format!("Table {name} is not streaming to the destination Kinesis data stream {arn}")).into()
    }

    pub async fn enable_kinesis_streaming_destination(&self, ctx: &RequestContext, input: KinesisStreamingDestinationInput) -> Result<KinesisStreamingDestinationOutput, ServiceError> {
        let precision = check_precision(input.enable_kinesis_streaming_configuration.as_ref().and_then(|c| c.approximate_creation_date_time_precision.as_deref()))?;
        let table = self.table_named(ctx, &input.table_name)?;
        let (account, region, name) = {
            let s = table.state.read();
            (s.def.account.clone(), s.def.region.clone(), s.def.name.clone())
        };
        self.check_stream(&account, &region, &input.stream_arn).await?;
        let commit = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(crate::state::table_not_found(&name).into());
            }
            let dests = &mut state.def.features.kinesis_destinations;
            if let Some(active) = dests.iter().find(|d| d.active()) {
                let message = if active.stream_arn == input.stream_arn {
                    format!("Table {name} is already streaming to the destination Kinesis data stream {}", input.stream_arn)
                } else {
                    format!("Table {name} already has an active Kinesis streaming destination {}", active.stream_arn)
                };
                return Err(DynamodbError::ValidationException(message).into());
            }
            dests.retain(|d| d.stream_arn != input.stream_arn);
            dests.push(KinesisDestination { stream_arn: input.stream_arn.clone(), status: "ACTIVE".into(), precision: precision.clone() });
            self.persist(|| vec![persistence::put_table(&state.def)])
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(KinesisStreamingDestinationOutput {
            table_name: Some(name),
            stream_arn: Some(input.stream_arn),
            destination_status: Some("ENABLING".into()),
            enable_kinesis_streaming_configuration: Some(EnableKinesisStreamingConfiguration { approximate_creation_date_time_precision: Some(precision) }),
        })
    }

    pub async fn disable_kinesis_streaming_destination(&self, ctx: &RequestContext, input: KinesisStreamingDestinationInput) -> Result<KinesisStreamingDestinationOutput, ServiceError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let disabled = {
            let mut state = table.state.write();
            let name = state.def.name.clone();
            match state.def.features.kinesis_destinations.iter_mut().find(|d| d.stream_arn == input.stream_arn && d.active()) {
                Some(d) => {
                    d.status = "DISABLED".into();
                    let precision = d.precision.clone();
                    Some((name, precision, self.persist(|| vec![persistence::put_table(&state.def)])))
                }
                None => None,
            }
        };
        let Some((name, precision, commit)) = disabled else {
            return Err(self.not_streaming(&table, &input.stream_arn).await);
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(KinesisStreamingDestinationOutput {
            table_name: Some(name),
            stream_arn: Some(input.stream_arn),
            destination_status: Some("DISABLING".into()),
            enable_kinesis_streaming_configuration: Some(EnableKinesisStreamingConfiguration { approximate_creation_date_time_precision: Some(precision) }),
        })
    }

    pub async fn update_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: UpdateKinesisStreamingDestinationInput,
    ) -> Result<UpdateKinesisStreamingDestinationOutput, ServiceError> {
        let requested = input.update_kinesis_streaming_configuration.as_ref().and_then(|c| c.approximate_creation_date_time_precision.clone());
        let table = self.table_named(ctx, &input.table_name)?;
        let Some(requested) = requested else {
            return Err(DynamodbError::ValidationException("Streaming destination cannot be updated with an empty UpdateKinesisStreamingConfiguration".into()).into());
        };
        let precision = check_precision(Some(&requested))?;
        let updated = {
            let mut state = table.state.write();
            let name = state.def.name.clone();
            match state.def.features.kinesis_destinations.iter_mut().find(|d| d.stream_arn == input.stream_arn && d.active()) {
                Some(d) if d.precision == precision => {
                    return Err(DynamodbError::ValidationException(format!(
                        "Invalid Request: Precision is already set to the desired value of {precision} for this Kinesis data stream destination"
                    ))
                    .into());
                }
                Some(d) => {
                    d.precision = precision.clone();
                    Some((name, self.persist(|| vec![persistence::put_table(&state.def)])))
                }
                None => None,
            }
        };
        let Some((name, commit)) = updated else {
            return Err(self.not_streaming(&table, &input.stream_arn).await);
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateKinesisStreamingDestinationOutput {
            table_name: Some(name),
            stream_arn: Some(input.stream_arn),
            destination_status: Some("UPDATING".into()),
            update_kinesis_streaming_configuration: Some(UpdateKinesisStreamingConfiguration { approximate_creation_date_time_precision: Some(precision) }),
        })
    }

    pub fn describe_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: DescribeKinesisStreamingDestinationInput,
    ) -> Result<DescribeKinesisStreamingDestinationOutput, DynamodbError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let state = table.state.read();
        let destinations = state
            .def
            .features
            .kinesis_destinations
            .iter()
            .map(|d| KinesisDataStreamDestination {
                stream_arn: Some(d.stream_arn.clone()),
                destination_status: Some(d.status.clone()),
                destination_status_description: None,
                approximate_creation_date_time_precision: Some(d.precision.clone()),
            })
            .collect();
        Ok(DescribeKinesisStreamingDestinationOutput { table_name: Some(state.def.name.clone()), kinesis_data_stream_destinations: Some(destinations) })
    }

    /// Puts the queued records, oldest first, then forgets their store records; returns
    /// whether there were any.
    async fn send_queued(&self) -> bool {
        let batch: Vec<(Option<String>, Outgoing)> = self.kinesis_out.queue.lock().drain(..).collect();
        let any = !batch.is_empty();
        let mut done = Vec::new();
        for (key, o) in batch {
            let ctx = self.peers.system_context(&o.account, &o.region, "dynamodb");
            let input = Value::Map(IndexMap::from([
                ("StreamARN".to_string(), Value::Str(o.stream_arn.clone())),
                ("PartitionKey".to_string(), Value::Str(o.partition_key)),
                ("Data".to_string(), Value::Blob(o.data.into_bytes().into())),
            ]));
            if let Err(e) = self.peers.call(&ctx, "kinesis", "PutRecord", input).await {
                tracing::warn!(stream = %o.stream_arn, error = %e.message, "a DynamoDB change could not be put into its Kinesis destination");
            }
            done.extend(key.map(|k| StoreOp::delete(KINESIS_OUTBOX, k)));
        }
        if !done.is_empty()
            && let Err(e) = self.store.commit(done).await
        {
            tracing::warn!(error = %e, "forgetting Kinesis records already put");
        }
        any
    }

    /// Queues the records a previous process stored and did not put, oldest first.
    pub(crate) fn load_kinesis_outbox(&self) -> Result<(), kagami_core::StoreError> {
        let stored = self.store.scan_json::<Outgoing>(KINESIS_OUTBOX)?;
        self.kinesis_out.queue.lock().extend(stored.into_iter().map(|(key, o)| (Some(key), o)));
        Ok(())
    }

    /// Records waiting for Kinesis (in tests: what a restart resumes).
    #[cfg(test)]
    pub(crate) fn queued_kinesis_records(&self) -> Vec<serde_json::Value> {
        let queue = self.kinesis_out.queue.lock();
        queue.iter().filter_map(|(_, o)| serde_json::from_str(&o.data).ok()).collect()
    }
}

/// Starts the worker that puts queued records into Kinesis, for as long as the service lives.
pub fn start(dynamodb: &Arc<Dynamodb>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let weak: Weak<Dynamodb> = Arc::downgrade(dynamodb);
    runtime.spawn(async move {
        let mut resuming = true;
        loop {
            let Some(d) = weak.upgrade() else { return };
            if std::mem::take(&mut resuming) && !d.kinesis_out.queue.lock().is_empty() {
                drop(d);
                tokio::time::sleep(RESUME_DELAY).await;
                continue;
            }
            let wake = Arc::clone(&d.kinesis_out.wake);
            let sent = d.send_queued().await;
            // No strong reference while waiting, so the service can be dropped.
            drop(d);
            if !sent {
                wake.notified().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_defaults_and_checks() {
        assert_eq!(check_precision(None).ok().as_deref(), Some(MICROSECOND));
        assert_eq!(check_precision(Some("MILLISECOND")).ok().as_deref(), Some(MILLISECOND));
        assert!(check_precision(Some("SECOND")).is_err());
    }

    #[test]
    fn partition_key_is_stable_hex() {
        let k = serde_json::json!({"pk": {"S": "a"}});
        assert_eq!(partition_key(&k), partition_key(&k.clone()));
        assert_eq!(partition_key(&k).len(), 32);
        assert_ne!(partition_key(&k), partition_key(&serde_json::json!({"pk": {"S": "b"}})));
    }
}
