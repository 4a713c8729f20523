//! Message move tasks (dead-letter queue redrive): StartMessageMoveTask moves the
//! messages of a dead-letter queue back to the queues they came from, or to a
//! DestinationArn, at an optional MaxNumberOfMessagesPerSecond; ListMessageMoveTasks
//! and CancelMessageMoveTask follow it.
//!
//! Tasks are durable: each has a record that is rewritten in the same commit as every
//! message it moves, so after a restart a running task goes on from where it was and
//! the count it reports is exact.

use crate::errors::{invalid_parameter_value, invalid_value, store_failed};
use crate::generated::*;
use crate::message::Delivery;
use crate::persistence::{self, MoveTaskRecord};
use crate::state::{Queue, Sqs};
use kagami_core::store::{Commit, StoreError};
use kagami_core::ServiceError;
use crate::url::parse_queue_arn;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::{RequestContext, clock};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::Notify;

/// MaxNumberOfMessagesPerSecond: at most 500.
pub const MAX_MESSAGES_PER_SECOND: i32 = 500;
/// ListMessageMoveTasks returns 1 task unless MaxResults (up to 10) says otherwise.
pub const MAX_LIST_RESULTS: i32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl TaskStatus {
    fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "RUNNING",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::Cancelling => "CANCELLING",
            TaskStatus::Cancelled => "CANCELLED",
            TaskStatus::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> Option<TaskStatus> {
        Some(match s {
            "RUNNING" => TaskStatus::Running,
            "COMPLETED" => TaskStatus::Completed,
            "CANCELLING" => TaskStatus::Cancelling,
            "CANCELLED" => TaskStatus::Cancelled,
            "FAILED" => TaskStatus::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct MoveTask {
    /// Its record's key in the store.
    key: String,
    /// The source queue it was started on (a queue of the same name created later is
    /// another queue).
    source: Arc<Queue>,
    pub task_handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_per_second: Option<i32>,
    pub started_timestamp: i64,
    pub to_move: i64,
    moved: AtomicI64,
    status: Mutex<(TaskStatus, Option<String>)>,
    cancelled: AtomicBool,
    wake: Notify,
}

impl MoveTask {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let mut status = self.status.lock();
        if status.0 == TaskStatus::Running {
            status.0 = TaskStatus::Cancelling;
        }
        drop(status);
        self.wake.notify_waiters();
    }

    fn status(&self) -> TaskStatus {
        self.status.lock().0
    }

    fn finish(&self, status: TaskStatus, reason: Option<String>) {
        *self.status.lock() = (status, reason);
    }

    fn record(&self, moved: i64) -> MoveTaskRecord {
        let (status, reason) = self.status.lock().clone();
        MoveTaskRecord {
            task_handle: self.task_handle.clone(),
            source_arn: self.source_arn.clone(),
            destination_arn: self.destination_arn.clone(),
            max_per_second: self.max_per_second,
            started_timestamp: self.started_timestamp,
            to_move: self.to_move,
            moved,
            status: status.as_str().to_string(),
            failure_reason: reason,
        }
    }

    fn entry(&self) -> ListMessageMoveTasksResultEntry {
        let (status, reason) = self.status.lock().clone();
        ListMessageMoveTasksResultEntry {
            task_handle: (status == TaskStatus::Running).then(|| self.task_handle.clone()),
            status: Some(status.as_str().to_string()),
            source_arn: Some(self.source_arn.clone()),
            destination_arn: self.destination_arn.clone(),
            max_number_of_messages_per_second: self.max_per_second,
            approximate_number_of_messages_moved: Some(self.moved.load(Ordering::Acquire)),
            approximate_number_of_messages_to_move: Some(self.to_move),
            failure_reason: reason,
            started_timestamp: Some(self.started_timestamp),
        }
    }
}

/// Task handles are base64 JSON naming the task and its source, as AWS's are.
fn encode_handle(task_id: &str, source_arn: &str) -> String {
    STANDARD.encode(serde_json::json!({"taskId": task_id, "sourceArn": source_arn}).to_string())
}

fn decode_handle(handle: &str) -> Option<(String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&STANDARD.decode(handle.trim()).ok()?).ok()?;
    Some((doc.get("taskId")?.as_str()?.to_string(), doc.get("sourceArn")?.as_str()?.to_string()))
}

fn source_not_found() -> SqsError {
    SqsError::ResourceNotFoundException(
        "The resource that you specified for the SourceArn parameter doesn't exist.".to_string(),
    )
}

impl Sqs {
    fn move_source(&self, source_arn: &str) -> Result<Arc<Queue>, SqsError> {
        if parse_queue_arn(source_arn).is_none() {
            return Err(invalid_parameter_value(
                "You must use this format to specify the SourceArn: arn:<partition>:<service>:<region>:<account-id>:<resource-id>",
            ));
        }
        self.queue_by_arn(source_arn).ok_or_else(source_not_found)
    }

    /// DeleteQueue: the queue's tasks stop and are forgotten (their records go with the
    /// queue's).
    pub(crate) fn forget_tasks_of(&self, source_arn: &str) {
        self.tasks.lock().retain(|task| {
            if task.source_arn != source_arn {
                return true;
            }
            task.cancel();
            false
        });
    }

    /// Writes a task's record, unless its source queue is gone (and its records with it).
    /// The queue's lock orders this against DeleteQueue's deletion of the records.
    fn persist_task(&self, task: &MoveTask) -> Commit {
        let _source = task.source.state.lock();
        if task.source.is_deleted() {
            return self.persist(Vec::new);
        }
        self.persist(|| vec![persistence::put_move_task(&task.key, &task.record(task.moved.load(Ordering::Acquire)))])
    }

    /// Reads the tasks back at startup; tasks of queues that no longer exist are dropped.
    pub(crate) fn load_move_tasks(&self) -> Result<(), StoreError> {
        let mut orphans = Vec::new();
        let mut tasks = self.tasks.lock();
        for (key, r) in persistence::load_move_tasks(&self.store)? {
            let owner = persistence::owning_queue(&key);
            let source = self.queue_by_arn(&r.source_arn).filter(|q| owner == Some(q.key.as_str()));
            let (Some(source), Some(status)) = (source, TaskStatus::parse(&r.status)) else {
                orphans.push(persistence::delete_move_task(&key));
                continue;
            };
            // A cancellation that was under way when kagami stopped is complete now.
            let status = if status == TaskStatus::Cancelling { TaskStatus::Cancelled } else { status };
            tasks.push(Arc::new(MoveTask {
                key,
                source,
                task_handle: r.task_handle,
                source_arn: r.source_arn,
                destination_arn: r.destination_arn,
                max_per_second: r.max_per_second,
                started_timestamp: r.started_timestamp,
                to_move: r.to_move,
                moved: AtomicI64::new(r.moved),
                status: Mutex::new((status, r.failure_reason)),
                cancelled: AtomicBool::new(false),
                wake: Notify::new(),
            }));
        }
        drop(tasks);
        drop(self.store.submit(orphans));
        Ok(())
    }

    /// Starts again the tasks that were running when kagami stopped.
    pub(crate) fn resume_move_tasks(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let running: Vec<Arc<MoveTask>> =
            self.tasks.lock().iter().filter(|t| t.status() == TaskStatus::Running).cloned().collect();
        for task in running {
            runtime.spawn(run(Arc::clone(self), task));
        }
    }

    pub async fn start_message_move_task(
        self: &Arc<Self>,
        _ctx: &RequestContext,
        input: StartMessageMoveTaskRequest,
    ) -> Result<StartMessageMoveTaskResult, ServiceError> {
        let source = self.move_source(&input.source_arn)?;
        if self.dead_letter_sources(&source).is_empty() {
            return Err(invalid_parameter_value("Source queue must be configured as a Dead Letter Queue.").into());
        }
        let destination_arn = input.destination_arn.filter(|d| !d.is_empty());
        if let Some(d) = &destination_arn
            && self.queue_by_arn(d).is_none()
        {
            return Err(SqsError::ResourceNotFoundException(
                "The resource that you specified for the DestinationArn parameter doesn't exist.".to_string(),
            )
            .into());
        }
        if let Some(rate) = input.max_number_of_messages_per_second
            && !(1..=MAX_MESSAGES_PER_SECOND).contains(&rate)
        {
            return Err(invalid_value(rate, "MaxNumberOfMessagesPerSecond", "Must be between 1 and 500.").into());
        }
        let now = clock::now_millis();
        let (to_move, expired) = {
            let mut state = source.state.lock();
            let mut ops = Vec::new();
            self.refresh(&source, &mut state, now, &mut ops);
            (state.counts().0 as i64, self.store.submit(ops))
        };
        expired.wait().await.map_err(store_failed)?;
        let task = {
            let mut tasks = self.tasks.lock();
            let active = |t: &&Arc<MoveTask>| {
                t.source_arn == source.arn && matches!(t.status(), TaskStatus::Running | TaskStatus::Cancelling)
            };
            if tasks.iter().any(|t| active(&t)) {
                return Err(invalid_parameter_value(
                    "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
                )
                .into());
            }
            // ListMessageMoveTasks shows the 10 most recent tasks of a source; older ones
            // are forgotten, so the store does not grow with every task ever run.
            let mut of_source: Vec<usize> =
                tasks.iter().enumerate().filter(|(_, t)| t.source_arn == source.arn).map(|(i, _)| i).collect();
            let excess = (of_source.len() + 1).saturating_sub(MAX_LIST_RESULTS as usize);
            of_source.truncate(excess);
            let forgotten: Vec<Arc<MoveTask>> = of_source.iter().rev().map(|&i| tasks.remove(i)).collect();
            drop(self.persist(|| forgotten.iter().map(|t| persistence::delete_move_task(&t.key)).collect()));
            let task_id = kagami_core::ids::uuid_v4();
            let task = Arc::new(MoveTask {
                key: persistence::move_task_key(&source.key, now, &task_id),
                source: Arc::clone(&source),
                task_handle: encode_handle(&task_id, &source.arn),
                source_arn: source.arn.clone(),
                destination_arn,
                max_per_second: input.max_number_of_messages_per_second,
                started_timestamp: now,
                to_move,
                moved: AtomicI64::new(0),
                status: Mutex::new((TaskStatus::Running, None)),
                cancelled: AtomicBool::new(false),
                wake: Notify::new(),
            });
            tasks.push(Arc::clone(&task));
            task
        };
        // Acknowledged only once durable, so the task survives a crash right after.
        if let Err(e) = self.persist_task(&task).wait().await {
            self.tasks.lock().retain(|t| !Arc::ptr_eq(t, &task));
            return Err(store_failed(e));
        }
        tokio::spawn(run(Arc::clone(self), Arc::clone(&task)));
        Ok(StartMessageMoveTaskResult { task_handle: Some(task.task_handle.clone()) })
    }

    pub fn list_message_move_tasks(
        &self,
        _ctx: &RequestContext,
        input: ListMessageMoveTasksRequest,
    ) -> Result<ListMessageMoveTasksResult, SqsError> {
        let source = self.move_source(&input.source_arn)?;
        let limit = match input.max_results {
            None => 1,
            Some(n) if (1..=MAX_LIST_RESULTS).contains(&n) => n as usize,
            Some(n) => return Err(invalid_value(n, "MaxResults", "Must be between 1 and 10, if provided.")),
        };
        let mut tasks: Vec<Arc<MoveTask>> =
            self.tasks.lock().iter().filter(|t| t.source_arn == source.arn).cloned().collect();
        // Most recent first.
        tasks.reverse();
        tasks.truncate(limit);
        Ok(ListMessageMoveTasksResult { results: Some(tasks.iter().map(|t| t.entry()).collect()) })
    }

    pub fn cancel_message_move_task(
        &self,
        _ctx: &RequestContext,
        input: CancelMessageMoveTaskRequest,
    ) -> Result<CancelMessageMoveTaskResult, SqsError> {
        let (_, source_arn) = decode_handle(&input.task_handle)
            .ok_or_else(|| invalid_parameter_value("Value for parameter TaskHandle is invalid."))?;
        self.queue_by_arn(&source_arn).ok_or_else(source_not_found)?;
        let task = self
            .tasks
            .lock()
            .iter()
            .find(|t| t.task_handle == input.task_handle)
            .cloned()
            .ok_or_else(|| SqsError::ResourceNotFoundException("Task does not exist.".to_string()))?;
        if task.status() != TaskStatus::Running {
            return Err(invalid_parameter_value(
                "Only active (non-completed) message movement tasks can be cancelled.",
            ));
        }
        task.cancel();
        Ok(CancelMessageMoveTaskResult {
            approximate_number_of_messages_moved: Some(task.moved.load(Ordering::Acquire)),
        })
    }

    /// Moves one visible message of the task's source. `Ok(false)` when there is none.
    async fn move_one(&self, task: &MoveTask) -> Result<bool, String> {
        let source = self.queue_by_arn(&task.source_arn).ok_or("AWS.SimpleQueueService.NonExistentQueue")?;
        let now = clock::now_millis();
        let (taken, expired) = {
            let mut state = source.state.lock();
            let mut ops = Vec::new();
            self.refresh(&source, &mut state, now, &mut ops);
            let next = state.select(1, None).deliver.first().copied();
            (next.and_then(|seq| state.remove(seq)), self.store.submit(ops))
        };
        expired.wait().await.map_err(|e| store_failed(e).message)?;
        let Some(mut message) = taken else { return Ok(false) };
        let target_arn = task.destination_arn.clone().or_else(|| message.dead_letter_queue_source_arn.clone());
        let Some(target) = target_arn.as_deref().and_then(|arn| self.queue_by_arn(arn)) else {
            // Nowhere to go: the message stays in the dead-letter queue.
            source.state.lock().insert(message, now);
            return Err("AWS.SimpleQueueService.NonExistentQueue".to_string());
        };
        let old_seq = message.seq;
        let commit = {
            let mut state = target.state.lock();
            message.seq = state.allocate_seq();
            message.dead_letter_queue_source_arn = None;
            message.sent_timestamp = now;
            message.delivery = Delivery { visible_at: now, ..Delivery::default() };
            if target.fifo {
                message.sequence_number = Some(state.sequencer.next(now));
            }
            // The message leaves one queue, enters the other and is counted in one commit.
            let commit = self.persist(|| {
                let mut ops = vec![persistence::put_message(&target.key, &message)];
                ops.extend(persistence::delete_message(&source.key, old_seq));
                if !task.source.is_deleted() {
                    let moved = task.moved.load(Ordering::Acquire) + 1;
                    ops.push(persistence::put_move_task(&task.key, &task.record(moved)));
                }
                ops
            });
            state.insert(message, now);
            commit
        };
        target.notify.notify_waiters();
        commit.wait().await.map_err(|e| store_failed(e).message)?;
        Ok(true)
    }
}

/// Runs a task until the messages it set out to move are moved, the source is empty,
/// it is cancelled, or it fails.
async fn run(sqs: Arc<Sqs>, task: Arc<MoveTask>) {
    let (status, reason) = run_until_done(&sqs, &task).await;
    task.finish(status, reason);
    if let Err(e) = sqs.persist_task(&task).wait().await {
        tracing::warn!(task = task.task_handle, error = %e, "the final state of a message move task was not stored");
    }
}

async fn run_until_done(sqs: &Sqs, task: &MoveTask) -> (TaskStatus, Option<String>) {
    // Pacing counts from when this run began (a resumed task continues at its rate).
    let started = clock::now_millis();
    let moved_before = task.moved.load(Ordering::Acquire);
    loop {
        if task.cancelled.load(Ordering::Acquire) {
            return (TaskStatus::Cancelled, None);
        }
        if task.moved.load(Ordering::Acquire) >= task.to_move {
            return (TaskStatus::Completed, None);
        }
        match sqs.move_one(task).await {
            Ok(true) => {}
            Ok(false) => return (TaskStatus::Completed, None),
            Err(reason) => return (TaskStatus::Failed, Some(reason)),
        }
        let moved = task.moved.fetch_add(1, Ordering::AcqRel) + 1 - moved_before;
        match task.max_per_second {
            Some(rate) => {
                // Paced on the emulated clock, so advancing it speeds the task up.
                let next = started + moved * 1000 / i64::from(rate.max(1));
                let woken = task.wake.notified();
                tokio::select! {
                    _ = clock::sleep_until(next) => {}
                    _ = woken => {}
                }
            }
            None => tokio::task::yield_now().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_handles_round_trip() {
        let h = encode_handle("id-1", "arn:aws:sqs:us-east-1:000000000000:dlq");
        assert_eq!(decode_handle(&h), Some(("id-1".to_string(), "arn:aws:sqs:us-east-1:000000000000:dlq".to_string())));
        assert_eq!(decode_handle("nope"), None);
    }
}
