//! The stream poller of one mapping, for any `ShardReader`: one task per shard reads it
//! in order from the mapping's starting position (or its checkpoint), filters, and
//! delivers each batch (`delivery.rs`) before reading on, so the records of a shard
//! reach the function in order. The mapping's task lists the shards again every
//! `RELIST_PAUSE` and whenever a shard is read to its end, and starts a child shard once
//! its parents are done, as Lambda follows a stream that reshards.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>

use super::delivery::{Window, deliver, pause};
use super::filter::Filters;
use super::record::Mapping;
use super::shards::{ShardInfo, ShardReader, Start};
use super::{EventSourceMappings, SHARD_END};
use kagami_core::{ServiceError, clock};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Pause between reads of a shard with nothing new (AWS polls each shard about once a second;
/// a shorter pause keeps local tests quick).
const IDLE_PAUSE: Duration = Duration::from_millis(250);
/// How often the mapping lists the stream's shards for new ones.
const RELIST_PAUSE: Duration = Duration::from_secs(1);

/// Takes the LATEST iterators of every shard now, for a mapping being created, so that
/// LATEST means "after what the stream held then", not "after whatever the poller finds
/// when it first runs".
pub async fn take_first_iterators<R: ShardReader>(esm: &EventSourceMappings, uuid: &str, reader: &R) {
    let Ok(list) = reader.shards().await else { return };
    for shard in list {
        if let Ok(it) = reader.iterator(&shard.id, &Start::Latest).await {
            esm.first_iterators.lock().insert(format!("{uuid}/{}", shard.id), it);
        }
    }
}

/// Where a shard starts: the iterator taken at creation, the checkpoint, or the mapping's
/// starting position (a child of a shard read to its end starts at its beginning).
async fn first_iterator<R: ShardReader>(esm: &EventSourceMappings, reader: &R, m: &Mapping, shard: &ShardInfo) -> Result<String, ServiceError> {
    if let Some(it) = esm.first_iterators.lock().remove(&format!("{}/{}", m.uuid, shard.id)) {
        return Ok(it);
    }
    let start = match esm.checkpoint(&m.uuid, &shard.id) {
        Some(sequence) => Start::After(sequence),
        None if shard.parents.iter().any(|p| esm.checkpoint(&m.uuid, p).as_deref() == Some(SHARD_END)) => Start::TrimHorizon,
        None => match (m.starting_position.as_deref(), m.starting_position_timestamp) {
            (Some("TRIM_HORIZON"), _) => Start::TrimHorizon,
            (Some("AT_TIMESTAMP"), Some(ms)) => Start::AtTimestamp(ms),
            _ => Start::Latest,
        },
    };
    match reader.iterator(&shard.id, &start).await {
        // The checkpoint fell off the stream's retention: start from the oldest record left.
        Err(e) if matches!(start, Start::After(_)) && reader.is_trimmed(&e) => reader.iterator(&shard.id, &Start::TrimHorizon).await,
        r => r,
    }
}

/// Reads up to the batch size from a shard, waiting up to the batching window for more.
async fn read<R: ShardReader>(reader: &R, m: &Mapping, mut it: String) -> Result<(Vec<kagami_core::Value>, Option<String>), ServiceError> {
    let batch_size = usize::try_from(m.batch_size).unwrap_or(100).max(1);
    let deadline = Instant::now() + Duration::from_secs(u64::try_from(m.maximum_batching_window_in_seconds).unwrap_or(0));
    let mut records = Vec::new();
    loop {
        let page = reader.records(&it, (batch_size - records.len()).min(reader.max_records())).await?;
        let got = page.records.len();
        records.extend(page.records);
        let Some(next) = page.next else { return Ok((records, None)) };
        it = next;
        if records.len() >= batch_size || records.is_empty() {
            return Ok((records, Some(it)));
        }
        if got == 0 {
            if Instant::now() >= deadline {
                return Ok((records, Some(it)));
            }
            tokio::time::sleep(IDLE_PAUSE.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }
}

/// The function's execution role: Kinesis events name it (`invokeIdentityArn`).
fn role_of(esm: &EventSourceMappings, m: &Mapping) -> String {
    let ctx = esm.peers.system_context(&m.account, &m.region, "lambda");
    esm.lambda.function(&ctx, &m.function_arn, None).map(|f| f.role.clone()).unwrap_or_default()
}

/// Delivers records with a tumbling window: each goes in the window its arrival time falls
/// in; a record of a later window first closes the current one with its final invocation.
async fn deliver_windowed<R: ShardReader>(
    esm: &EventSourceMappings,
    reader: &R,
    m: &Mapping,
    shard: &str,
    records: Vec<Json>,
    window: &mut Option<Window>,
    stopped: &mut watch::Receiver<bool>,
) -> bool {
    let seconds = m.tumbling_window_in_seconds.unwrap_or(0);
    let mut groups: Vec<(Window, Vec<Json>)> = Vec::new();
    for r in records {
        let w = Window::of(reader.arrival_millis(&r).unwrap_or_else(clock::now_millis), seconds);
        match groups.last_mut() {
            Some((g, group)) if g.start_ms == w.start_ms => group.push(r),
            _ => groups.push((w, vec![r])),
        }
    }
    for (w, group) in groups {
        if window.as_ref().is_some_and(|current| current.start_ms != w.start_ms) && !close_window(esm, reader, m, shard, window, stopped).await {
            return false;
        }
        let current = window.get_or_insert(w);
        if !deliver(esm, reader, m, shard, group, Some(current), stopped).await {
            return false;
        }
    }
    true
}

/// The final invocation of a window (`isFinalInvokeForWindow`, no records, its state).
async fn close_window<R: ShardReader>(
    esm: &EventSourceMappings,
    reader: &R,
    m: &Mapping,
    shard: &str,
    window: &mut Option<Window>,
    stopped: &mut watch::Receiver<bool>,
) -> bool {
    let Some(mut w) = window.take() else { return true };
    w.closing = true;
    deliver(esm, reader, m, shard, Vec::new(), Some(&mut w), stopped).await
}

/// Reads one shard until it ends or the poller stops; returns the shard's id.
async fn poll_shard<R: ShardReader>(
    esm: Arc<EventSourceMappings>,
    reader: Arc<R>,
    uuid: String,
    shard: ShardInfo,
    mut stopped: watch::Receiver<bool>,
) -> String {
    let mut iterator: Option<String> = None;
    // The tumbling window being aggregated: in memory, as a restart starts a new one.
    let mut window: Option<Window> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        let Some(m) = esm.get(&uuid).filter(|m| m.enabled) else { break };
        let it = match iterator.take() {
            Some(it) => it,
            None => match first_iterator(&esm, &*reader, &m, &shard).await {
                Ok(it) => it,
                Err(e) => {
                    // The mapping's task starts the shard again at its next listing.
                    esm.set_result(&uuid, &format!("PROBLEM: {}", e.message));
                    pause(&mut stopped, RELIST_PAUSE).await;
                    break;
                }
            },
        };
        let read = tokio::select! {
            _ = stopped.changed() => break,
            r = read(&*reader, &m, it) => r,
        };
        let (records, next) = match read {
            Ok(r) => r,
            Err(e) => {
                // Expired or trimmed iterators start over from the checkpoint.
                tracing::debug!(mapping = %uuid, shard = %shard.id, error = %e.message, "reading the stream");
                if !pause(&mut stopped, IDLE_PAUSE).await {
                    break;
                }
                continue;
            }
        };
        let empty = records.is_empty();
        if !empty {
            let role = role_of(&esm, &m);
            let records: Vec<Json> = records.iter().map(|r| reader.event_record(&m, &shard.id, r, &role)).collect();
            let last = records.last().and_then(|r| reader.sequence_of(r)).map(str::to_string);
            let filters = Filters::parse(m.filters.as_deref().unwrap_or_default()).unwrap_or_default();
            let matched: Vec<Json> = records.into_iter().filter(|r| filters.matches(&reader.filter_view(r))).collect();
            let delivered = if m.tumbling_window_in_seconds.unwrap_or(0) > 0 {
                deliver_windowed(&esm, &*reader, &m, &shard.id, matched, &mut window, &mut stopped).await
            } else {
                matched.is_empty() || deliver(&esm, &*reader, &m, &shard.id, matched, None, &mut stopped).await
            };
            if !delivered {
                break;
            }
            if let Some(sequence) = last {
                esm.save_checkpoint(&uuid, &shard.id, &sequence).await;
            }
        }
        let window_over = window.as_ref().is_some_and(|w| next.is_none() || clock::now_millis() >= w.end_ms);
        if window_over && !close_window(&esm, &*reader, &m, &shard.id, &mut window, &mut stopped).await {
            break;
        }
        match next {
            Some(n) => iterator = Some(n),
            None => {
                esm.save_checkpoint(&uuid, &shard.id, SHARD_END).await;
                break;
            }
        }
        if empty && !pause(&mut stopped, IDLE_PAUSE).await {
            break;
        }
    }
    shard.id
}

/// Whether a listed shard is ready to read: not done, and its parents read to their end
/// (a parent the stream no longer lists has aged out of it).
fn ready(esm: &EventSourceMappings, uuid: &str, shard: &ShardInfo, listed: &HashSet<&str>) -> bool {
    let done = |id: &str| esm.checkpoint(uuid, id).as_deref() == Some(SHARD_END);
    !done(&shard.id) && shard.parents.iter().all(|p| !listed.contains(p.as_str()) || done(p))
}

pub async fn run<R: ShardReader>(esm: Arc<EventSourceMappings>, uuid: String, reader: R, mut stopped: watch::Receiver<bool>) {
    let reader = Arc::new(reader);
    let mut tasks: JoinSet<String> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    loop {
        if *stopped.borrow() || esm.get(&uuid).filter(|m| m.enabled).is_none() {
            break;
        }
        match reader.shards().await {
            Ok(list) => {
                let listed: HashSet<&str> = list.iter().map(|s| s.id.as_str()).collect();
                for shard in &list {
                    if running.values().any(|id| *id == shard.id) || !ready(&esm, &uuid, shard, &listed) {
                        continue;
                    }
                    let task = poll_shard(Arc::clone(&esm), Arc::clone(&reader), uuid.clone(), shard.clone(), stopped.clone());
                    let handle = tasks.spawn(task);
                    running.insert(handle.id(), shard.id.clone());
                }
            }
            Err(e) => esm.set_result(&uuid, &format!("PROBLEM: {}", e.message)),
        }
        tokio::select! {
            _ = stopped.changed() => break,
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match done {
                    Ok((id, _)) => id,
                    Err(e) => e.id(),
                };
                running.remove(&id);
            }
            _ = tokio::time::sleep(RELIST_PAUSE) => {}
        }
    }
    tasks.abort_all();
}
