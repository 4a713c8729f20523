//! Publish and PublishBatch: checks, FIFO sequencing and deduplication, then delivery to
//! every confirmed subscription whose filter policy matches.

use crate::errors::{invalid_parameter, store_failed};
use crate::generated::*;
use crate::message::{Checked, MAX_MESSAGE_BYTES, Notification, Request, check_attributes, check_for_topic, check_message, size_of};
use crate::policy::authorize;
use crate::state::{DEDUPLICATION, Deduplicated, Sns, Subscription};
use crate::topics::locate;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, clock, ids};
use std::collections::HashSet;

/// "A batch can contain up to 10 messages." (PublishBatch)
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Batch entry ids: up to 80 alphanumeric characters, hyphens and underscores.
pub const MAX_BATCH_ID_LEN: usize = 80;
/// FIFO topics drop a message whose deduplication id was seen in the last 5 minutes.
pub const DEDUPLICATION_INTERVAL_MS: i64 = 5 * 60 * 1000;

/// A message accepted for a topic: what to deliver, to whom (None: a duplicate).
pub(crate) struct Accepted {
    pub message_id: String,
    pub sequence_number: Option<String>,
    pub delivery: Option<(Notification, Vec<Subscription>)>,
}

impl Sns {
    /// Assigns the message its id (and FIFO sequence number), unless it is a duplicate,
    /// and picks the confirmed subscriptions, all under the lock so FIFO order holds.
    /// The deduplication ids it records are durable once the returned commit is.
    fn accept(&self, ctx: &RequestContext, topic_arn: &str, checked: Vec<(Checked, Request<'_>)>) -> Result<(Vec<Accepted>, Commit), SnsError> {
        let (account, region, name) = locate(ctx, topic_arn)?;
        self.with(account, region, |p| {
            let subscriptions: Vec<Subscription> = {
                let topic = p.topic(name)?;
                authorize(ctx, topic, "Publish")?;
                p.subscriptions_of(&topic.arn).filter(|s| !s.pending).cloned().collect()
            };
            let topic = p.topic_mut(name)?;
            let now = clock::now_millis();
            let mut ops = Vec::new();
            let topic_key = topic.key();
            topic.deduplication.retain(|id, d| {
                let live = d.expires_at > now;
                if !live {
                    ops.push(StoreOp::delete(DEDUPLICATION, format!("{topic_key}/{id}")));
                }
                live
            });
            let mut out = Vec::with_capacity(checked.len());
            for (c, req) in checked {
                let duplicate = c.deduplication_id.as_ref().and_then(|d| topic.deduplication.get(d)).cloned();
                if let Some(d) = duplicate {
                    out.push(Accepted { message_id: d.message_id, sequence_number: Some(d.sequence_number), delivery: None });
                    continue;
                }
                let message_id = ids::uuid_v4();
                let sequence_number = topic.fifo.then(|| topic.next_sequence_number());
                if let (Some(d), Some(seq)) = (&c.deduplication_id, &sequence_number) {
                    let entry = Deduplicated {
                        message_id: message_id.clone(),
                        sequence_number: seq.clone(),
                        expires_at: now + DEDUPLICATION_INTERVAL_MS,
                        id: d.clone(),
                    };
                    ops.push(topic.put_deduplicated(&entry));
                    topic.deduplication.insert(d.clone(), entry);
                }
                let notification = Notification {
                    message_id: message_id.clone(),
                    topic_arn: topic.arn.clone(),
                    subject: req.subject.map(str::to_string),
                    message: c.message,
                    per_protocol: c.per_protocol,
                    attributes: req.attributes.cloned().unwrap_or_default(),
                    timestamp: clock::now().to_iso8601_millis(),
                    group_id: c.group_id,
                    deduplication_id: c.deduplication_id,
                    sequence_number: sequence_number.clone(),
                    signature_version: topic.attributes.get("SignatureVersion").cloned().unwrap_or_else(|| "1".into()),
                    delivery_policy: topic.attributes.get("DeliveryPolicy").cloned(),
                };
                out.push(Accepted { message_id, sequence_number, delivery: Some((notification, subscriptions.clone())) });
            }
            Ok((out, ops))
        })
    }

    /// Whether the topic is FIFO and deduplicates by content, for the checks.
    fn topic_kind(&self, ctx: &RequestContext, topic_arn: &str) -> Result<(bool, bool), SnsError> {
        let (account, region, name) = locate(ctx, topic_arn)?;
        self.read(account, region, |p| {
            let t = p.topic(name)?;
            Ok((t.fifo, t.content_based_deduplication()))
        })
    }

    pub async fn publish(&self, ctx: &RequestContext, input: PublishInput) -> Result<PublishResponse, ServiceError> {
        let arn = match (&input.topic_arn, &input.target_arn, &input.phone_number) {
            (Some(t), None, None) | (None, Some(t), None) => t.clone(),
            (None, None, Some(number)) => {
                if !is_e164(number) {
                    return Err(invalid_parameter(format!("PhoneNumber Reason: {number} is not valid to publish to")).into());
                }
                return Err(ServiceError::not_implemented("sns", "Publish to a PhoneNumber (SMS)"));
            }
            (None, None, None) => {
                return Err(invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter").into());
            }
            _ => {
                return Err(invalid_parameter("TargetArn Reason: Only one of TargetArn, TopicArn or PhoneNumber may be specified").into());
            }
        };
        if arn.contains(":endpoint/") {
            return Err(ServiceError::not_implemented("sns", "Publish to a platform application endpoint"));
        }
        check_message(&input.message, input.subject.as_deref())?;
        if size_of(&input.message, input.message_attributes.as_ref()) > MAX_MESSAGE_BYTES {
            return Err(invalid_parameter("Message too long").into());
        }
        let req = Request {
            message: &input.message,
            subject: input.subject.as_deref(),
            message_structure: input.message_structure.as_deref(),
            attributes: input.message_attributes.as_ref(),
            group_id: input.message_group_id.as_deref(),
            deduplication_id: input.message_deduplication_id.as_deref(),
        };
        let (fifo, cbd) = self.topic_kind(ctx, &arn)?;
        let checked = check_for_topic(&req, fifo, cbd)?;
        let (mut accepted, commit) = self.accept(ctx, &arn, vec![(checked, req)])?;
        commit.wait().await.map_err(store_failed)?;
        let Some(a) = accepted.pop() else { return Err(ServiceError::internal("publish accepted nothing")) };
        if let Some((notification, subscriptions)) = a.delivery {
            self.deliver(&notification, &subscriptions).await;
        }
        Ok(PublishResponse { message_id: Some(a.message_id), sequence_number: a.sequence_number })
    }

    pub async fn publish_batch(&self, ctx: &RequestContext, input: PublishBatchInput) -> Result<PublishBatchResponse, ServiceError> {
        let entries = input.publish_batch_request_entries;
        if entries.is_empty() {
            return Err(SnsError::EmptyBatchRequestException("The batch request doesn't contain any entries.".into()).into());
        }
        if entries.len() > MAX_BATCH_ENTRIES {
            return Err(SnsError::TooManyEntriesInBatchRequestException("The batch request contains more entries than permissible.".into()).into());
        }
        let mut ids = HashSet::new();
        for e in &entries {
            let valid = !e.id.is_empty() && e.id.len() <= MAX_BATCH_ID_LEN && e.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(SnsError::InvalidBatchEntryIdException(
                    "The Id of a batch entry in a batch request doesn't abide by the specification.".into(),
                )
                .into());
            }
            if !ids.insert(e.id.as_str()) {
                return Err(SnsError::BatchEntryIdsNotDistinctException("Two or more batch entries in the request have the same Id.".into()).into());
            }
        }
        let total: usize = entries.iter().map(|e| size_of(&e.message, e.message_attributes.as_ref())).sum();
        if total > MAX_MESSAGE_BYTES {
            return Err(SnsError::BatchRequestTooLongException("The length of all the messages put together is more than the limit.".into()).into());
        }
        let (fifo, cbd) = self.topic_kind(ctx, &input.topic_arn)?;
        // Malformed attributes, structures and FIFO ids fail the whole request, as AWS
        // does; an entry's own message problems fail that entry only.
        let mut failed = Vec::new();
        let mut checked = Vec::new();
        for e in &entries {
            let req = Request {
                message: &e.message,
                subject: e.subject.as_deref(),
                message_structure: e.message_structure.as_deref(),
                attributes: e.message_attributes.as_ref(),
                group_id: e.message_group_id.as_deref(),
                deduplication_id: e.message_deduplication_id.as_deref(),
            };
            if let Some(a) = req.attributes {
                check_attributes(a)?;
            }
            if let Err(SnsError::InvalidParameterException(m)) = check_message(&e.message, e.subject.as_deref()) {
                failed.push(BatchResultErrorEntry { id: e.id.clone(), code: "InvalidParameter".into(), message: Some(m), sender_fault: true });
                continue;
            }
            let c = check_for_topic(&req, fifo, cbd)?;
            checked.push((e.id.clone(), c, req));
        }
        let (batch_ids, pairs): (Vec<String>, Vec<_>) = checked.into_iter().map(|(id, c, r)| (id, (c, r))).unzip();
        let accepted = if pairs.is_empty() {
            Vec::new()
        } else {
            let (accepted, commit) = self.accept(ctx, &input.topic_arn, pairs)?;
            commit.wait().await.map_err(store_failed)?;
            accepted
        };
        let mut successful = Vec::with_capacity(accepted.len());
        for (id, a) in batch_ids.into_iter().zip(accepted) {
            if let Some((notification, subscriptions)) = &a.delivery {
                self.deliver(notification, subscriptions).await;
            }
            successful.push(PublishBatchResultEntry { id: Some(id), message_id: Some(a.message_id), sequence_number: a.sequence_number });
        }
        Ok(PublishBatchResponse { successful: Some(successful), failed: Some(failed) })
    }
}

/// An E.164 phone number: an optional `+`, then up to 15 digits, the first not 0.
fn is_e164(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}
