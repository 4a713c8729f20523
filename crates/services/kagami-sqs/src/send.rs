//! SendMessage and SendMessageBatch.

use crate::batch;
use crate::errors::{invalid_parameter_value, invalid_value, missing_parameter, store_failed};
use crate::fifo::{Deduplication, Original, content_deduplication_id, is_valid_id};
use crate::generated::*;
use crate::md5::{md5_of_attributes, md5_of_body};
use crate::message::{
    AWS_TRACE_HEADER, Delivery, Message, MessageAttribute, check_contents, check_message_attributes,
    check_system_attributes, message_size,
};
use crate::persistence;
use crate::queue::QueueState;
use crate::state::{Queue, Sqs};
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{Principal, RequestContext, ServiceError, clock};

/// A batch may carry at most 1 MiB of messages in total.
pub const MAX_BATCH_SIZE: usize = 1_048_576;
const MAX_DELAY_SECONDS: i32 = crate::attributes::DELAY_SECONDS_MAX as i32;

pub(crate) fn attribute_of(v: MessageAttributeValue) -> MessageAttribute {
    MessageAttribute {
        data_type: v.data_type,
        string_value: v.string_value,
        binary_value: v.binary_value,
        string_list_values: v.string_list_values.unwrap_or_default(),
        binary_list_values: v.binary_list_values.unwrap_or_default(),
    }
}

/// What an attribute adds to a message's size, before conversion.
fn value_size(name: &str, v: &MessageAttributeValue) -> usize {
    name.len()
        + v.data_type.len()
        + v.string_value.as_ref().map_or(0, String::len)
        + v.binary_value.as_ref().map_or(0, |b| b.len())
        + v.string_list_values.iter().flatten().map(String::len).sum::<usize>()
        + v.binary_list_values.iter().flatten().map(|b| b.len()).sum::<usize>()
}

fn system_attribute_of(v: MessageSystemAttributeValue) -> MessageAttribute {
    MessageAttribute {
        data_type: v.data_type,
        string_value: v.string_value,
        binary_value: v.binary_value,
        string_list_values: v.string_list_values.unwrap_or_default(),
        binary_list_values: v.binary_list_values.unwrap_or_default(),
    }
}

/// `SenderId` as AWS reports it: the account for its root user, the user id of an IAM
/// user, `<role id>:<session name>` for an assumed role.
fn sender_id(ctx: &RequestContext) -> String {
    match &ctx.principal {
        Principal::Root => ctx.account_id.clone(),
        Principal::User { user_id, .. } | Principal::FederatedUser { user_id, .. } => user_id.clone(),
        Principal::AssumedRole { role_id, session_name, .. } => format!("{role_id}:{session_name}"),
    }
}

/// A message that passed every check that does not need the queue's lock.
struct Outgoing {
    body: String,
    delay_seconds: Option<i32>,
    message_attributes: IndexMap<String, MessageAttribute>,
    system_attributes: IndexMap<String, MessageAttribute>,
    deduplication_id: Option<String>,
    group_id: Option<String>,
    md5_of_body: String,
    md5_of_message_attributes: Option<String>,
    md5_of_message_system_attributes: Option<String>,
    size: usize,
}

/// What SendMessage answers for one message.
struct Sent {
    message_id: String,
    md5_of_body: String,
    md5_of_message_attributes: Option<String>,
    md5_of_message_system_attributes: Option<String>,
    sequence_number: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    fifo: bool,
    body: String,
    delay_seconds: Option<i32>,
    message_attributes: Option<IndexMap<String, MessageAttributeValue>>,
    system_attributes: Option<IndexMap<String, MessageSystemAttributeValue>>,
    deduplication_id: Option<String>,
    group_id: Option<String>,
    trace_header: Option<&str>,
) -> Result<Outgoing, SqsError> {
    if body.is_empty() {
        return Err(missing_parameter("MessageBody"));
    }
    check_contents(&body)?;
    let message_attributes: IndexMap<String, MessageAttribute> =
        message_attributes.unwrap_or_default().into_iter().map(|(k, v)| (k, attribute_of(v))).collect();
    let mut system_attributes: IndexMap<String, MessageAttribute> =
        system_attributes.unwrap_or_default().into_iter().map(|(k, v)| (k, system_attribute_of(v))).collect();
    check_message_attributes(&message_attributes)?;
    check_system_attributes(&system_attributes)?;
    // The checksum answers what the client sent, so it can compare it.
    let md5_of_message_system_attributes = md5_of_attributes(&system_attributes);
    // "When both tracing headers are present, the message system attribute overrides
    // the HTTP trace header" (Amazon SQS and AWS X-Ray, X-Ray Developer Guide).
    if let Some(trace) = trace_header
        && !system_attributes.contains_key(AWS_TRACE_HEADER)
    {
        system_attributes.insert(
            AWS_TRACE_HEADER.to_string(),
            MessageAttribute { data_type: "String".to_string(), string_value: Some(trace.to_string()), ..Default::default() },
        );
    }
    if let Some(d) = delay_seconds {
        if !(0..=MAX_DELAY_SECONDS).contains(&d) {
            return Err(invalid_value(d, "DelaySeconds", "DelaySeconds must be >= 0 and <= 900."));
        }
        if fifo && d != 0 {
            return Err(invalid_value(
                d,
                "DelaySeconds",
                "The request include parameter that is not valid for this queue type.",
            ));
        }
    }
    if let Some(g) = &group_id
        && !is_valid_id(g)
    {
        return Err(invalid_value(
            g,
            "MessageGroupId",
            "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
        ));
    }
    if let Some(d) = &deduplication_id {
        if !fifo {
            return Err(invalid_value(
                d,
                "MessageDeduplicationId",
                "The request includes a parameter that is not valid for this queue type.",
            ));
        }
        if !is_valid_id(d) {
            return Err(invalid_value(
                d,
                "MessageDeduplicationId",
                "MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
            ));
        }
    }
    if fifo && group_id.is_none() {
        return Err(missing_parameter("MessageGroupId"));
    }
    Ok(Outgoing {
        md5_of_body: md5_of_body(&body),
        md5_of_message_attributes: md5_of_attributes(&message_attributes),
        md5_of_message_system_attributes,
        size: message_size(&body, &message_attributes),
        body,
        delay_seconds,
        message_attributes,
        system_attributes,
        deduplication_id,
        group_id,
    })
}

impl Sqs {
    /// Puts one prepared message into the queue (under its lock), adding its record to `ops`.
    fn enqueue(
        &self,
        queue: &Queue,
        state: &mut QueueState,
        out: Outgoing,
        sender: &str,
        now: i64,
        ops: &mut Vec<StoreOp>,
    ) -> Result<Sent, SqsError> {
        let max = state.attributes.maximum_message_size;
        if out.size > max as usize {
            return Err(invalid_parameter_value(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
            )));
        }
        let mut sequence_number = None;
        let mut dedup_key = None;
        if queue.fifo {
            // Drops the ids whose interval is over, and their records.
            self.refresh(queue, state, now, ops);
            let id = match (out.deduplication_id.clone(), state.attributes.content_based_deduplication) {
                (Some(id), _) => id,
                (None, true) => content_deduplication_id(&out.body),
                (None, false) => {
                    return Err(invalid_parameter_value(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ));
                }
            };
            let group = out.group_id.as_deref().unwrap_or_default();
            let key = Deduplication::key(state.attributes.deduplication_scope == "messageGroup", group, &id);
            if let Some(original) = state.deduplication.check(&key, now) {
                return Ok(Sent {
                    message_id: original.message_id,
                    md5_of_body: out.md5_of_body,
                    md5_of_message_attributes: out.md5_of_message_attributes,
                    md5_of_message_system_attributes: out.md5_of_message_system_attributes,
                    sequence_number: Some(original.sequence_number),
                });
            }
            sequence_number = Some(state.sequencer.next(now));
            dedup_key = Some((key, id));
        }
        // FIFO queues only know the queue-level delay; standard messages may override it.
        let delay = match out.delay_seconds {
            Some(d) if !queue.fifo => i64::from(d),
            _ => i64::from(state.attributes.delay_seconds),
        };
        let message = Message {
            seq: state.allocate_seq(),
            message_id: kagami_core::ids::uuid_v4(),
            body: out.body,
            md5_of_body: out.md5_of_body,
            message_attributes: out.message_attributes,
            md5_of_message_attributes: out.md5_of_message_attributes,
            system_attributes: out.system_attributes,
            md5_of_message_system_attributes: out.md5_of_message_system_attributes,
            sender_id: sender.to_string(),
            sent_timestamp: now,
            message_group_id: out.group_id,
            message_deduplication_id: dedup_key.as_ref().map(|(_, id)| id.clone()),
            sequence_number: sequence_number.clone(),
            dead_letter_queue_source_arn: None,
            delivery: Delivery { visible_at: now + delay * 1000, ..Delivery::default() },
        };
        if self.store.is_durable() {
            ops.push(persistence::put_message(&queue.key, &message));
        }
        let sent = Sent {
            message_id: message.message_id.clone(),
            md5_of_body: message.md5_of_body.clone(),
            md5_of_message_attributes: message.md5_of_message_attributes.clone(),
            md5_of_message_system_attributes: message.md5_of_message_system_attributes.clone(),
            sequence_number,
        };
        if let Some((key, _)) = dedup_key {
            let original = Original {
                message_id: sent.message_id.clone(),
                sequence_number: sent.sequence_number.clone().unwrap_or_default(),
            };
            if self.store.is_durable() {
                let expires = now + crate::fifo::DEDUPLICATION_INTERVAL_MS;
                ops.push(persistence::put_deduplication(&queue.key, &key, &original, expires));
            }
            state.deduplication.record(key, original, now);
        }
        state.insert(message, now);
        Ok(sent)
    }

    pub async fn send_message(
        &self,
        ctx: &RequestContext,
        input: SendMessageRequest,
    ) -> Result<SendMessageResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let out = prepare(
            queue.fifo,
            input.message_body,
            input.delay_seconds,
            input.message_attributes,
            input.message_system_attributes,
            input.message_deduplication_id,
            input.message_group_id,
            ctx.trace_header.as_deref(),
        )?;
        let now = clock::now_millis();
        let sender = sender_id(ctx);
        let mut ops = Vec::new();
        let (sent, commit) = {
            let mut state = queue.state.lock();
            let sent = self.enqueue(&queue, &mut state, out, &sender, now, &mut ops)?;
            (sent, self.store.submit(ops))
        };
        queue.notify.notify_waiters();
        commit.wait().await.map_err(store_failed)?;
        Ok(SendMessageResult {
            md5_of_message_body: Some(sent.md5_of_body),
            md5_of_message_attributes: sent.md5_of_message_attributes,
            md5_of_message_system_attributes: sent.md5_of_message_system_attributes,
            message_id: Some(sent.message_id),
            sequence_number: sent.sequence_number,
        })
    }

    pub async fn send_message_batch(
        &self,
        ctx: &RequestContext,
        input: SendMessageBatchRequest,
    ) -> Result<SendMessageBatchResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        batch::check_entries(input.entries.iter().map(|e| e.id.as_str()), "SendMessageBatchRequestEntry")?;
        let total: usize = input
            .entries
            .iter()
            .map(|e| {
                e.message_body.len()
                    + e.message_attributes.as_ref().map_or(0, |attrs| attrs.iter().map(|(k, v)| value_size(k, v)).sum())
            })
            .sum();
        if total > MAX_BATCH_SIZE {
            return Err(SqsError::BatchRequestTooLong(format!(
                "Batch requests cannot be longer than {MAX_BATCH_SIZE} bytes. You have sent {total} bytes."
            ))
            .into());
        }
        let prepared: Vec<(String, Result<Outgoing, SqsError>)> = input
            .entries
            .into_iter()
            .map(|e| {
                let out = prepare(
                    queue.fifo,
                    e.message_body,
                    e.delay_seconds,
                    e.message_attributes,
                    e.message_system_attributes,
                    e.message_deduplication_id,
                    e.message_group_id,
                    ctx.trace_header.as_deref(),
                );
                (e.id, out)
            })
            .collect();
        let now = clock::now_millis();
        let sender = sender_id(ctx);
        let mut result = SendMessageBatchResult::default();
        let mut ops = Vec::new();
        let commit = {
            let mut state = queue.state.lock();
            for (id, out) in prepared {
                match out.and_then(|out| self.enqueue(&queue, &mut state, out, &sender, now, &mut ops)) {
                    Ok(sent) => result.successful.push(SendMessageBatchResultEntry {
                        id,
                        message_id: sent.message_id,
                        md5_of_message_body: sent.md5_of_body,
                        md5_of_message_attributes: sent.md5_of_message_attributes,
                        md5_of_message_system_attributes: sent.md5_of_message_system_attributes,
                        sequence_number: sent.sequence_number,
                    }),
                    Err(e) => result.failed.push(batch::failed(id, e)),
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

    fn code(e: SqsError) -> String {
        ServiceError::from(e).code
    }

    fn send(fifo: bool, delay: Option<i32>, dedup: Option<&str>, group: Option<&str>) -> Result<Outgoing, SqsError> {
        prepare(fifo, "body".into(), delay, None, None, dedup.map(str::to_string), group.map(str::to_string), None)
    }

    #[test]
    fn fifo_requires_a_message_group() {
        assert_eq!(code(send(true, None, Some("d"), None).err().unwrap()), "MissingParameter");
        assert!(send(true, None, Some("d"), Some("g")).is_ok());
    }

    #[test]
    fn fifo_refuses_per_message_delay() {
        assert_eq!(code(send(true, Some(5), Some("d"), Some("g")).err().unwrap()), "InvalidParameterValue");
        assert!(send(true, Some(0), Some("d"), Some("g")).is_ok());
    }

    #[test]
    fn standard_refuses_deduplication_ids_but_takes_groups() {
        assert_eq!(code(send(false, None, Some("d"), None).err().unwrap()), "InvalidParameterValue");
        assert!(send(false, None, None, Some("tenant-1")).is_ok());
    }

    #[test]
    fn delay_is_limited_to_900_seconds() {
        assert_eq!(code(send(false, Some(901), None, None).err().unwrap()), "InvalidParameterValue");
        assert_eq!(code(send(false, Some(-1), None, None).err().unwrap()), "InvalidParameterValue");
        assert!(send(false, Some(900), None, None).is_ok());
    }

    #[test]
    fn empty_body_is_a_missing_parameter() {
        let e = prepare(false, String::new(), None, None, None, None, None, None).err().unwrap();
        assert!(
            matches!(e, SqsError::MissingParameter(m) if m == "The request must contain the parameter MessageBody.")
        );
    }

    fn trace_of(out: &Outgoing) -> Option<&str> {
        out.system_attributes.get(AWS_TRACE_HEADER).and_then(|a| a.string_value.as_deref())
    }

    #[test]
    fn trace_header_becomes_aws_trace_header_unless_the_attribute_is_given() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
        let out = prepare(false, "b".into(), None, None, None, None, None, Some(header)).unwrap();
        assert_eq!(trace_of(&out), Some(header));
        assert_eq!(out.md5_of_message_system_attributes, None, "the client sent no system attributes");

        let given = "Root=1-00000000-000000000000000000000000";
        let attribute = MessageSystemAttributeValue {
            data_type: "String".into(),
            string_value: Some(given.into()),
            ..Default::default()
        };
        let system = IndexMap::from([(AWS_TRACE_HEADER.to_string(), attribute)]);
        let out = prepare(false, "b".into(), None, None, Some(system), None, None, Some(header)).unwrap();
        assert_eq!(trace_of(&out), Some(given));
    }
}
