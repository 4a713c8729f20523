//! ReceiveMessage (with long polling), DeleteMessage(Batch) and
//! ChangeMessageVisibility(Batch): everything that acts on a received message.

use crate::attributes::VISIBILITY_TIMEOUT_MAX;
use crate::batch;
use crate::errors::{invalid_value, missing_parameter, receipt_handle_is_invalid, store_failed};
use crate::fifo::is_valid_id;
use crate::generated::*;
use crate::md5::md5_of_attributes;
use crate::message::MessageAttribute;
use crate::persistence;
use crate::queue::{DeleteRefusal, QueueState, VisibilityRefusal};
use crate::receipt::Receipt;
use crate::state::{Queue, Sqs};
use indexmap::IndexMap;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, clock};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

/// MaxNumberOfMessages: 1 to 10, default 1.
pub const MAX_NUMBER_OF_MESSAGES: i32 = 10;
/// WaitTimeSeconds: long polling waits at most 20 seconds.
pub const MAX_WAIT_TIME_SECONDS: i32 = 20;

/// Which attributes a receive returns: system attributes by name (or All), message
/// attributes by name, `prefix.*`, or All / `.*`.
struct OutputFilter {
    system_all: bool,
    system: Vec<String>,
    message_all: bool,
    message: Vec<String>,
    prefixes: Vec<String>,
}

impl OutputFilter {
    fn new(
        attribute_names: Option<Vec<String>>,
        system_names: Option<Vec<String>>,
        message_names: Option<Vec<String>>,
    ) -> Self {
        let system: Vec<String> =
            attribute_names.into_iter().flatten().chain(system_names.into_iter().flatten()).collect();
        let message_names = message_names.unwrap_or_default();
        OutputFilter {
            system_all: system.iter().any(|n| n == "All"),
            system,
            message_all: message_names.iter().any(|n| n == "All" || n == ".*"),
            prefixes: message_names.iter().filter_map(|n| n.strip_suffix('*')).map(str::to_string).collect(),
            message: message_names,
        }
    }

    fn wants_system(&self, name: &str) -> bool {
        self.system_all || self.system.iter().any(|n| n == name)
    }

    fn wants_message(&self, name: &str) -> bool {
        self.message_all
            || self.message.iter().any(|n| n == name)
            || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    fn output(&self, m: &crate::message::Message, receipt_handle: String) -> Message {
        let mut attributes = IndexMap::new();
        let d = &m.delivery;
        let mut put = |name: &str, value: Option<String>| {
            if let Some(v) = value
                && self.wants_system(name)
            {
                attributes.insert(name.to_string(), v);
            }
        };
        put("SenderId", Some(m.sender_id.clone()));
        put("SentTimestamp", Some(m.sent_timestamp.to_string()));
        put("ApproximateReceiveCount", Some(d.receive_count.to_string()));
        put("ApproximateFirstReceiveTimestamp", d.first_receive_timestamp.map(|t| t.to_string()));
        put("SequenceNumber", m.sequence_number.clone());
        put("MessageDeduplicationId", m.message_deduplication_id.clone());
        put("MessageGroupId", m.message_group_id.clone());
        put(
            "AWSTraceHeader",
            m.system_attributes.get(crate::message::AWS_TRACE_HEADER).and_then(|a| a.string_value.clone()),
        );
        put("DeadLetterQueueSourceArn", m.dead_letter_queue_source_arn.clone());

        let selected: IndexMap<String, MessageAttribute> = m
            .message_attributes
            .iter()
            .filter(|(name, _)| self.wants_message(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let md5 = if selected.len() == m.message_attributes.len() {
            m.md5_of_message_attributes.clone()
        } else {
            md5_of_attributes(&selected)
        };
        Message {
            message_id: Some(m.message_id.clone()),
            receipt_handle: Some(receipt_handle),
            md5_of_body: Some(m.md5_of_body.clone()),
            body: Some(m.body.clone()),
            attributes: (!attributes.is_empty()).then_some(attributes),
            md5_of_message_attributes: md5,
            message_attributes: (!selected.is_empty())
                .then(|| selected.into_iter().map(|(k, v)| (k, attribute_value(v))).collect()),
        }
    }
}

fn attribute_value(a: MessageAttribute) -> MessageAttributeValue {
    MessageAttributeValue {
        string_value: a.string_value,
        binary_value: a.binary_value,
        string_list_values: (!a.string_list_values.is_empty()).then_some(a.string_list_values),
        binary_list_values: (!a.binary_list_values.is_empty()).then_some(a.binary_list_values),
        data_type: a.data_type,
    }
}

/// One pass over the queue.
struct Pass {
    messages: Vec<Message>,
    /// The queue's ReceiveMessageWaitTimeSeconds, for requests that give no WaitTimeSeconds.
    default_wait: u32,
    next_change: Option<i64>,
    commits: Vec<Commit>,
}

struct ReceiveParams<'a> {
    max: usize,
    visibility_timeout: Option<u32>,
    attempt_id: Option<&'a str>,
    filter: OutputFilter,
}

impl Sqs {
    /// Receives what is there now, without waiting.
    fn receive_pass(&self, queue: &Queue, params: &ReceiveParams<'_>) -> Pass {
        let now = clock::now_millis();
        let durable = self.store.is_durable();
        let mut ops = Vec::new();
        let mut state = queue.state.lock();
        self.refresh(queue, &mut state, now, &mut ops);
        let default_wait = state.attributes.receive_message_wait_time_seconds;
        let visibility_timeout = params.visibility_timeout.unwrap_or(state.attributes.visibility_timeout);
        let mut messages = Vec::new();

        if let (true, Some(attempt)) = (queue.fifo, params.attempt_id)
            && let Some(replayed) = state.replay_attempt(attempt, now, visibility_timeout)
        {
            for (seq, handle) in replayed {
                if let Some(m) = state.get(seq) {
                    messages.push(params.filter.output(m, handle));
                    if durable {
                        ops.push(persistence::put_delivery(&queue.key, seq, m.delivery));
                    }
                }
            }
            let next_change = state.next_visibility_change();
            let commit = self.store.submit(ops);
            return Pass { messages, default_wait, next_change, commits: vec![commit] };
        }

        // Messages received maxReceiveCount times go to the dead-letter queue instead,
        // when it exists.
        let dead_letter_queue = state
            .attributes
            .redrive_policy
            .as_ref()
            .and_then(|p| self.queue_by_arn(&p.dead_letter_target_arn).map(|q| (q, p.max_receive_count)));
        let selection = state.select(params.max, dead_letter_queue.as_ref().map(|(_, count)| *count));
        let dead: Vec<crate::message::Message> =
            selection.dead_letter.iter().filter_map(|s| state.remove(*s)).collect();
        let mut attempt_entries = Vec::new();
        for seq in selection.deliver {
            let Some(receipt) = state.mark_received(seq, &queue.arn, now, visibility_timeout) else { continue };
            let handle = receipt.encode();
            let Some(m) = state.get(seq) else { continue };
            if durable {
                ops.push(persistence::put_delivery(&queue.key, seq, m.delivery));
            }
            attempt_entries.push((seq, m.delivery.receive_count, handle.clone()));
            messages.push(params.filter.output(m, handle));
        }
        if let (true, Some(attempt)) = (queue.fifo, params.attempt_id)
            && !attempt_entries.is_empty()
        {
            state.record_attempt(attempt.to_string(), now, attempt_entries);
        }
        let next_change = state.next_visibility_change();
        let mut commits = vec![self.store.submit(ops)];
        drop(state);
        if let Some((target, _)) = dead_letter_queue
            && !dead.is_empty()
        {
            commits.push(self.move_to_dead_letter_queue(queue, &target, dead, now));
        }
        Pass { messages, default_wait, next_change, commits }
    }

    pub async fn receive_message(
        &self,
        ctx: &RequestContext,
        input: ReceiveMessageRequest,
    ) -> Result<ReceiveMessageResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let max = match input.max_number_of_messages {
            None => 1,
            Some(n) if (1..=MAX_NUMBER_OF_MESSAGES).contains(&n) => n as usize,
            Some(n) => {
                return Err(invalid_value(n, "MaxNumberOfMessages", "Must be between 1 and 10, if provided.").into());
            }
        };
        let visibility_timeout = match input.visibility_timeout {
            None => None,
            Some(v) if (0..=VISIBILITY_TIMEOUT_MAX as i32).contains(&v) => Some(v as u32),
            Some(v) => {
                return Err(invalid_value(v, "VisibilityTimeout", "Must be >= 0 and <= 43200, if provided.").into());
            }
        };
        let wait = match input.wait_time_seconds {
            None => None,
            Some(w) if (0..=MAX_WAIT_TIME_SECONDS).contains(&w) => Some(w as u32),
            Some(w) => return Err(invalid_value(w, "WaitTimeSeconds", "Must be >= 0 and <= 20, if provided.").into()),
        };
        if let Some(a) = &input.receive_request_attempt_id
            && !is_valid_id(a)
        {
            return Err(invalid_value(
                a,
                "ReceiveRequestAttemptId",
                "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
            )
            .into());
        }
        let params = ReceiveParams {
            max,
            visibility_timeout,
            attempt_id: input.receive_request_attempt_id.as_deref(),
            filter: OutputFilter::new(
                input.attribute_names,
                input.message_system_attribute_names,
                input.message_attribute_names,
            ),
        };
        self.poll(&queue, &params, wait).await
    }

    /// Long polling: passes over the queue until a message arrives, a delayed or
    /// in-flight one becomes visible, or the wait (emulated time) is over.
    async fn poll(
        &self,
        queue: &Arc<Queue>,
        params: &ReceiveParams<'_>,
        wait: Option<u32>,
    ) -> Result<ReceiveMessageResult, ServiceError> {
        let started = clock::now_millis();
        loop {
            // Registered before looking, so a message sent in between still wakes us.
            let mut sent = pin!(queue.notify.notified());
            sent.as_mut().enable();
            let mut advanced = pin!(clock::advanced());
            let _ = advanced.as_mut().poll(&mut Context::from_waker(Waker::noop()));

            let pass = self.receive_pass(queue, params);
            for commit in pass.commits {
                commit.wait().await.map_err(store_failed)?;
            }
            let deadline = started + i64::from(wait.unwrap_or(pass.default_wait)) * 1000;
            let now = clock::now_millis();
            if !pass.messages.is_empty() || now >= deadline || queue.is_deleted() {
                return Ok(ReceiveMessageResult { messages: (!pass.messages.is_empty()).then_some(pass.messages) });
            }
            let wake_at = pass.next_change.map_or(deadline, |t| t.min(deadline));
            let sleep = Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).max(1));
            tokio::select! {
                _ = sent => {}
                _ = advanced => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    fn decode_receipt(queue: &Queue, handle: &str) -> Result<Receipt, SqsError> {
        Receipt::decode(handle).filter(|r| r.queue_arn == queue.arn).ok_or_else(|| receipt_handle_is_invalid(handle))
    }

    fn delete_one(
        &self,
        queue: &Queue,
        state: &mut QueueState,
        handle: &str,
        now: i64,
        ops: &mut Vec<StoreOp>,
    ) -> Result<(), SqsError> {
        let receipt = Self::decode_receipt(queue, handle)?;
        match state.delete(&receipt, now) {
            Ok(Some(m)) => {
                if self.store.is_durable() {
                    ops.extend(persistence::delete_message(&queue.key, m.seq));
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(DeleteRefusal::Expired) => {
                Err(invalid_value(handle, "ReceiptHandle", "The receipt handle has expired."))
            }
        }
    }

    pub async fn delete_message(&self, ctx: &RequestContext, input: DeleteMessageRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let now = clock::now_millis();
        let mut ops = Vec::new();
        let commit = {
            let mut state = queue.state.lock();
            self.delete_one(&queue, &mut state, &input.receipt_handle, now, &mut ops)?;
            self.store.submit(ops)
        };
        if queue.fifo {
            // The message's group may be available again.
            queue.notify.notify_waiters();
        }
        commit.wait().await.map_err(store_failed)
    }

    pub async fn delete_message_batch(
        &self,
        ctx: &RequestContext,
        input: DeleteMessageBatchRequest,
    ) -> Result<DeleteMessageBatchResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        batch::check_entries(input.entries.iter().map(|e| e.id.as_str()), "DeleteMessageBatchRequestEntry")?;
        let now = clock::now_millis();
        let mut result = DeleteMessageBatchResult::default();
        let mut ops = Vec::new();
        let commit = {
            let mut state = queue.state.lock();
            for entry in input.entries {
                match self.delete_one(&queue, &mut state, &entry.receipt_handle, now, &mut ops) {
                    Ok(()) => result.successful.push(DeleteMessageBatchResultEntry { id: entry.id }),
                    Err(e) => result.failed.push(batch::failed(entry.id, e)),
                }
            }
            self.store.submit(ops)
        };
        if queue.fifo {
            queue.notify.notify_waiters();
        }
        commit.wait().await.map_err(store_failed)?;
        Ok(result)
    }

    fn change_visibility_one(
        &self,
        queue: &Queue,
        state: &mut QueueState,
        handle: &str,
        timeout: i32,
        now: i64,
        ops: &mut Vec<StoreOp>,
    ) -> Result<(), SqsError> {
        if !(0..=VISIBILITY_TIMEOUT_MAX as i32).contains(&timeout) {
            return Err(invalid_value(timeout, "VisibilityTimeout", "Must be between 0 and 43200, if provided."));
        }
        let receipt = Self::decode_receipt(queue, handle)?;
        let delivery = state.change_visibility(&receipt, timeout as u32, now).map_err(|refusal| match refusal {
            VisibilityRefusal::NotFound => invalid_value(
                handle,
                "ReceiptHandle",
                "Message does not exist or is not available for visibility timeout change.",
            ),
            VisibilityRefusal::NotInflight => {
                SqsError::MessageNotInflight("The message referred to isn't in flight.".to_string())
            }
            VisibilityRefusal::BeyondLimit => invalid_value(
                timeout,
                "VisibilityTimeout",
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ),
        })?;
        if self.store.is_durable() {
            ops.push(persistence::put_delivery(&queue.key, receipt.seq, delivery));
        }
        Ok(())
    }

    pub async fn change_message_visibility(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityRequest,
    ) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let now = clock::now_millis();
        let mut ops = Vec::new();
        let commit = {
            let mut state = queue.state.lock();
            self.change_visibility_one(
                &queue,
                &mut state,
                &input.receipt_handle,
                input.visibility_timeout,
                now,
                &mut ops,
            )?;
            self.store.submit(ops)
        };
        queue.notify.notify_waiters();
        commit.wait().await.map_err(store_failed)
    }

    pub async fn change_message_visibility_batch(
        &self,
        ctx: &RequestContext,
        input: ChangeMessageVisibilityBatchRequest,
    ) -> Result<ChangeMessageVisibilityBatchResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        batch::check_entries(input.entries.iter().map(|e| e.id.as_str()), "ChangeMessageVisibilityBatchRequestEntry")?;
        let now = clock::now_millis();
        let mut result = ChangeMessageVisibilityBatchResult::default();
        let mut ops = Vec::new();
        let commit = {
            let mut state = queue.state.lock();
            for entry in input.entries {
                let outcome = match entry.visibility_timeout {
                    Some(t) => self.change_visibility_one(&queue, &mut state, &entry.receipt_handle, t, now, &mut ops),
                    None => Err(missing_parameter("VisibilityTimeout")),
                };
                match outcome {
                    Ok(()) => result.successful.push(ChangeMessageVisibilityBatchResultEntry { id: entry.id }),
                    Err(e) => result.failed.push(batch::failed(entry.id, e)),
                }
            }
            self.store.submit(ops)
        };
        queue.notify.notify_waiters();
        commit.wait().await.map_err(store_failed)?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_attribute_names_select_by_name_prefix_or_all() {
        let f = OutputFilter::new(None, None, Some(vec!["exact".into(), "pre.*".into()]));
        assert!(f.wants_message("exact"));
        assert!(f.wants_message("pre.x"));
        assert!(!f.wants_message("prefix"));
        assert!(!f.wants_message("other"));
        assert!(OutputFilter::new(None, None, Some(vec![".*".into()])).wants_message("anything"));
        assert!(OutputFilter::new(None, None, Some(vec!["All".into()])).wants_message("anything"));
        assert!(!OutputFilter::new(None, None, None).wants_message("anything"));
    }

    #[test]
    fn system_attribute_names_combine_both_parameters() {
        let f = OutputFilter::new(Some(vec!["SentTimestamp".into()]), Some(vec!["MessageGroupId".into()]), None);
        assert!(f.wants_system("SentTimestamp"));
        assert!(f.wants_system("MessageGroupId"));
        assert!(!f.wants_system("SenderId"));
        assert!(OutputFilter::new(None, Some(vec!["All".into()]), None).wants_system("SenderId"));
    }
}
