//! Operations on queues themselves: create, find, list, delete, purge, attributes, tags
//! and permissions.

use crate::attributes::{ALL_NAMES, QueueAttributes, RedrivePolicy};
use crate::errors::{invalid_parameter_value, invalid_value, missing_parameter, queue_does_not_exist, store_failed};
use crate::generated::*;
use crate::persistence;
use crate::policy;
use crate::queue::QueueState;
use crate::state::{Queue, Sqs, token};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, clock};
use std::sync::Arc;

/// Queue names: 1 to 80 characters, alphanumeric, hyphens and underscores (a FIFO
/// queue's `.fifo` suffix counts towards the 80).
pub const MAX_QUEUE_NAME_LEN: usize = 80;
/// ListQueues / ListDeadLetterSourceQueues return at most 1000 URLs.
pub const MAX_LIST_RESULTS: i32 = 1000;
/// Only one PurgeQueue per queue every 60 seconds.
pub const PURGE_INTERVAL_MS: i64 = 60_000;
/// "You must wait 60 seconds after deleting a queue before you can create another queue
/// with the same name" (DeleteQueue, QueueDeletedRecently in the SQS API Reference).
pub const RECREATE_INTERVAL_MS: i64 = 60_000;
/// At most 50 tags per queue; keys up to 128 characters, values up to 256 ("Amazon SQS
/// standard queue quotas": tags are Unicode, so the limits count characters, not bytes).
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_KEY_LEN: usize = 128;
pub const MAX_TAG_VALUE_LEN: usize = 256;

fn check_queue_name(name: &str, fifo: bool) -> Result<(), SqsError> {
    let base = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let valid = base.is_some_and(|b| {
        !b.is_empty()
            && name.len() <= MAX_QUEUE_NAME_LEN
            && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if valid {
        return Ok(());
    }
    Err(invalid_parameter_value(if fifo {
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length"
    } else {
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    }))
}

fn check_tags(name: &str, existing: usize, tags: &IndexMap<String, String>) -> Result<(), SqsError> {
    if existing + tags.len() > MAX_TAGS {
        return Err(invalid_parameter_value(format!("Too many tags added for queue {name}.")));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY_LEN {
            return Err(invalid_parameter_value("Tag keys must be between 1 and 128 characters in length."));
        }
        if v.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(invalid_parameter_value("Tag values must be less than 256 characters in length."));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_parameter_value("Tag keys must not start with the reserved prefix 'aws:'."));
        }
    }
    Ok(())
}

fn page_size(max_results: Option<i32>) -> Result<usize, SqsError> {
    match max_results {
        None => Ok(MAX_LIST_RESULTS as usize),
        Some(n) if (1..=MAX_LIST_RESULTS).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid_value(n, "MaxResults", "MaxResults must be an integer between 1 and 1000.")),
    }
}

/// One page of names after the token; the token is set only when MaxResults was given
/// and more names follow.
pub(crate) fn paginate(
    names: Vec<Arc<Queue>>,
    next_token: Option<&str>,
    max_results: Option<i32>,
) -> Result<(Vec<Arc<Queue>>, Option<String>), SqsError> {
    let size = page_size(max_results)?;
    let after = match next_token.filter(|t| !t.is_empty()) {
        Some(t) => Some(token::decode(t).ok_or_else(|| invalid_parameter_value("Invalid NextToken value."))?),
        None => None,
    };
    let mut rest: Vec<Arc<Queue>> =
        names.into_iter().filter(|q| after.as_deref().is_none_or(|a| q.name.as_str() > a)).collect();
    let more = rest.len() > size;
    rest.truncate(size);
    let token = match (more, max_results, rest.last()) {
        (true, Some(_), Some(last)) => Some(token::encode(&last.name)),
        _ => None,
    };
    Ok((rest, token))
}

impl Sqs {
    /// RedrivePolicy checks that need the target queue: it exists in the same account and
    /// region, is of the same type, and its RedriveAllowPolicy admits the source.
    pub(crate) fn check_redrive_target(
        &self,
        source: (&str, &str, &str),
        fifo: bool,
        raw: &str,
    ) -> Result<(), SqsError> {
        let (account, region, name) = source;
        let policy = RedrivePolicy::parse(raw)?;
        let reason = |why: &str| invalid_value(raw, "RedrivePolicy", why);
        let target = self
            .queue_by_arn(&policy.dead_letter_target_arn)
            .filter(|t| t.account == account && t.region == region)
            .ok_or_else(|| reason("Dead letter target does not exist."))?;
        if target.fifo != fifo {
            return Err(reason("Dead-letter queue must be same type of queue as the source."));
        }
        let source_arn = crate::url::queue_arn(region, account, name);
        let allowed =
            target.state.lock().attributes.redrive_allow_policy.as_ref().is_none_or(|p| p.allows(&source_arn));
        if !allowed {
            return Err(reason(&format!(
                "Queue {source_arn} is not allowed to use {} as its dead-letter queue.",
                target.arn
            )));
        }
        Ok(())
    }

    pub async fn create_queue(
        &self,
        ctx: &RequestContext,
        input: CreateQueueRequest,
    ) -> Result<CreateQueueResult, ServiceError> {
        let name = input.queue_name;
        let requested = input.attributes.unwrap_or_default();
        let fifo = match requested.get("FifoQueue") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => {
                return Err(SqsError::InvalidAttributeValue("Invalid value for the parameter FifoQueue.".into()).into());
            }
        };
        check_queue_name(&name, fifo)?;
        if let Some(existing) = self.queue(&ctx.account_id, &ctx.region, &name) {
            let state = existing.state.lock();
            if let Some(attribute) = state.attributes.first_difference(&requested).map_err(SqsError::from)? {
                return Err(SqsError::QueueNameExists(format!(
                    "A queue already exists with the same name and a different value for attribute {attribute}"
                ))
                .into());
            }
            return Ok(CreateQueueResult { queue_url: Some(self.url_of(ctx, &existing)) });
        }
        let now = clock::now_millis();
        let key = persistence::queue_key(&ctx.account_id, &ctx.region, &name);
        if self.deleted_recently.lock().get(&key).is_some_and(|at| now - at < RECREATE_INTERVAL_MS) {
            return Err(SqsError::QueueDeletedRecently(
                "You must wait 60 seconds after deleting a queue before you can create another with the same name."
                    .to_string(),
            )
            .into());
        }
        let mut attributes = QueueAttributes::defaults(fifo);
        attributes.apply_all(&requested, true).map_err(SqsError::from)?;
        if let Some(raw) = requested.get("RedrivePolicy").filter(|r| !r.is_empty()) {
            self.check_redrive_target((&ctx.account_id, &ctx.region, &name), fifo, raw)?;
        }
        let tags = input.tags.unwrap_or_default();
        check_tags(&name, 0, &tags)?;
        let queue = Arc::new(Queue::new(
            &ctx.account_id,
            &ctx.region,
            &name,
            QueueState::new(attributes, tags, now),
        ));
        let commit = {
            // Nobody can change the new queue before its creation record is submitted.
            let state = queue.state.lock();
            match self.insert_if_absent(Arc::clone(&queue)) {
                Some(raced) => {
                    drop(state);
                    return Ok(CreateQueueResult { queue_url: Some(self.url_of(ctx, &raced)) });
                }
                None => {
                    let tombstone = self.deleted_recently.lock().remove(&key).is_some();
                    self.persist(|| {
                        let mut ops = vec![queue.record_op(&state)];
                        if tombstone {
                            ops.push(persistence::delete_deleted_queue(&key));
                        }
                        ops
                    })
                }
            }
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(CreateQueueResult { queue_url: Some(self.url_of(ctx, &queue)) })
    }

    pub fn get_queue_url(
        &self,
        ctx: &RequestContext,
        input: GetQueueUrlRequest,
    ) -> Result<GetQueueUrlResult, SqsError> {
        let account = input.queue_owner_aws_account_id.as_deref().filter(|a| !a.is_empty()).unwrap_or(&ctx.account_id);
        let queue = self.queue(account, &ctx.region, &input.queue_name).ok_or_else(|| queue_does_not_exist(ctx))?;
        Ok(GetQueueUrlResult { queue_url: Some(self.url_of(ctx, &queue)) })
    }

    pub fn list_queues(&self, ctx: &RequestContext, input: ListQueuesRequest) -> Result<ListQueuesResult, SqsError> {
        let prefix = input.queue_name_prefix.unwrap_or_default();
        let matching: Vec<Arc<Queue>> =
            self.queues_in(&ctx.account_id, &ctx.region).into_iter().filter(|q| q.name.starts_with(&prefix)).collect();
        let (page, next_token) = paginate(matching, input.next_token.as_deref(), input.max_results)?;
        let urls: Vec<String> = page.iter().map(|q| self.url_of(ctx, q)).collect();
        Ok(ListQueuesResult { queue_urls: (!urls.is_empty()).then_some(urls), next_token })
    }

    pub async fn delete_queue(&self, ctx: &RequestContext, input: DeleteQueueRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        if !self.remove(&queue) {
            return Err(queue_does_not_exist(ctx).into());
        }
        let now = clock::now_millis();
        self.deleted_recently.lock().insert(queue.key.clone(), now);
        let commit = {
            let _state = queue.state.lock();
            self.persist(|| {
                let mut ops = persistence::delete_queue(&queue.key);
                ops.push(persistence::put_deleted_queue(&queue.key, now));
                ops
            })
        };
        queue.notify.notify_waiters();
        self.forget_tasks_of(&queue.arn);
        commit.wait().await.map_err(store_failed)
    }

    pub async fn purge_queue(&self, ctx: &RequestContext, input: PurgeQueueRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let now = clock::now_millis();
        let commit = {
            let mut state = queue.state.lock();
            if state.last_purge.is_some_and(|t| now - t < PURGE_INTERVAL_MS) {
                return Err(SqsError::PurgeQueueInProgress(format!(
                    "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                    queue.name
                ))
                .into());
            }
            state.purge(now);
            self.persist(|| {
                let mut ops = persistence::delete_messages(&queue.key);
                ops.push(queue.record_op(&state));
                ops
            })
        };
        commit.wait().await.map_err(store_failed)
    }

    pub async fn get_queue_attributes(
        &self,
        ctx: &RequestContext,
        input: GetQueueAttributesRequest,
    ) -> Result<GetQueueAttributesResult, ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let names = input.attribute_names.unwrap_or_default();
        if let Some(bad) = names.iter().find(|n| n.as_str() != "All" && !ALL_NAMES.contains(&n.as_str())) {
            return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {bad}.")).into());
        }
        let all = names.iter().any(|n| n == "All");
        let wanted = |n: &str| all || names.iter().any(|x| x == n);
        let now = clock::now_millis();
        let mut out = IndexMap::new();
        let commit = {
            let mut state = queue.state.lock();
            let mut ops = Vec::new();
            self.refresh(&queue, &mut state, now, &mut ops);
            let (visible, not_visible, delayed) = state.counts();
            for name in ALL_NAMES {
                if !wanted(name) {
                    continue;
                }
                let value = match *name {
                    "ApproximateNumberOfMessages" => Some(visible.to_string()),
                    "ApproximateNumberOfMessagesNotVisible" => Some(not_visible.to_string()),
                    "ApproximateNumberOfMessagesDelayed" => Some(delayed.to_string()),
                    "CreatedTimestamp" => Some(state.created_timestamp.to_string()),
                    "LastModifiedTimestamp" => Some(state.last_modified_timestamp.to_string()),
                    "QueueArn" => Some(queue.arn.clone()),
                    other => state.attributes.get(other),
                };
                if let Some(v) = value {
                    out.insert(name.to_string(), v);
                }
            }
            self.store.submit(ops)
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(GetQueueAttributesResult { attributes: (!out.is_empty()).then_some(out) })
    }

    pub async fn set_queue_attributes(
        &self,
        ctx: &RequestContext,
        input: SetQueueAttributesRequest,
    ) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        if let Some(raw) = input.attributes.get("RedrivePolicy").filter(|r| !r.is_empty()) {
            RedrivePolicy::parse(raw).map_err(SqsError::from)?;
            self.check_redrive_target((&queue.account, &queue.region, &queue.name), queue.fifo, raw)?;
        }
        let now = clock::now_millis();
        let commit = {
            let mut state = queue.state.lock();
            state.attributes.apply_all(&input.attributes, false).map_err(SqsError::from)?;
            state.last_modified_timestamp = now.div_euclid(1000);
            let redelayed =
                if input.attributes.contains_key("DelaySeconds") { state.apply_queue_delay(now) } else { Vec::new() };
            self.persist(|| {
                let mut ops = vec![queue.record_op(&state)];
                ops.extend(redelayed.iter().map(|(seq, d)| persistence::put_delivery(&queue.key, *seq, *d)));
                ops
            })
        };
        // A shorter retention or a new redrive policy may make messages move on the next
        // receive; waiting receivers re-check.
        queue.notify.notify_waiters();
        commit.wait().await.map_err(store_failed)
    }

    pub async fn tag_queue(&self, ctx: &RequestContext, input: TagQueueRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        if input.tags.is_empty() {
            return Err(missing_parameter("Tags").into());
        }
        let commit = {
            let mut state = queue.state.lock();
            let new_keys = input.tags.keys().filter(|k| !state.tags.contains_key(*k)).count();
            check_tags(&queue.name, state.tags.len() + new_keys - input.tags.len(), &input.tags)?;
            state.tags.extend(input.tags);
            self.persist(|| vec![queue.record_op(&state)])
        };
        commit.wait().await.map_err(store_failed)
    }

    pub async fn untag_queue(&self, ctx: &RequestContext, input: UntagQueueRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        if input.tag_keys.is_empty() || input.tag_keys.iter().any(|k| k.is_empty() || k.chars().count() > MAX_TAG_KEY_LEN) {
            return Err(invalid_parameter_value("Tag keys must be between 1 and 128 characters in length.").into());
        }
        let commit = {
            let mut state = queue.state.lock();
            for key in &input.tag_keys {
                state.tags.shift_remove(key);
            }
            self.persist(|| vec![queue.record_op(&state)])
        };
        commit.wait().await.map_err(store_failed)
    }

    pub fn list_queue_tags(
        &self,
        ctx: &RequestContext,
        input: ListQueueTagsRequest,
    ) -> Result<ListQueueTagsResult, SqsError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let tags = queue.state.lock().tags.clone();
        Ok(ListQueueTagsResult { tags: (!tags.is_empty()).then_some(tags) })
    }

    pub async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionRequest) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let commit = {
            let mut state = queue.state.lock();
            let policy = policy::add_permission(
                state.attributes.policy.as_deref(),
                &queue.arn,
                &input.label,
                &input.aws_account_ids,
                &input.actions,
            )?;
            state.attributes.policy = Some(policy);
            state.last_modified_timestamp = clock::now_secs();
            self.persist(|| vec![queue.record_op(&state)])
        };
        commit.wait().await.map_err(store_failed)
    }

    pub async fn remove_permission(
        &self,
        ctx: &RequestContext,
        input: RemovePermissionRequest,
    ) -> Result<(), ServiceError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let commit = {
            let mut state = queue.state.lock();
            state.attributes.policy = policy::remove_permission(state.attributes.policy.as_deref(), &input.label)?;
            state.last_modified_timestamp = clock::now_secs();
            self.persist(|| vec![queue.record_op(&state)])
        };
        commit.wait().await.map_err(store_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_aws_rules() {
        assert!(check_queue_name("my-queue_1", false).is_ok());
        assert!(check_queue_name(&"a".repeat(80), false).is_ok());
        assert!(check_queue_name(&"a".repeat(81), false).is_err());
        assert!(check_queue_name("", false).is_err());
        assert!(check_queue_name("has.dot", false).is_err());
        assert!(check_queue_name("q.fifo", false).is_err());
        assert!(check_queue_name("q.fifo", true).is_ok());
        assert!(check_queue_name(".fifo", true).is_err());
        assert!(check_queue_name("q", true).is_err());
        assert!(check_queue_name(&format!("{}.fifo", "a".repeat(75)), true).is_ok());
        assert!(check_queue_name(&format!("{}.fifo", "a".repeat(76)), true).is_err());
    }

    #[test]
    fn list_without_max_results_returns_up_to_1000_urls_and_no_token() {
        let state = || QueueState::new(QueueAttributes::defaults(false), IndexMap::new(), 0);
        let all: Vec<Arc<Queue>> =
            (0..1001).map(|i| Arc::new(Queue::new("1", "r", &format!("q{i:04}"), state()))).collect();
        let (page, token) = paginate(all.clone(), None, None).unwrap();
        assert_eq!((page.len(), token), (1000, None));
        let (page, token) = paginate(all.clone(), None, Some(1000)).unwrap();
        assert_eq!(page.len(), 1000);
        let (rest, last) = paginate(all, token.as_deref(), Some(1000)).unwrap();
        assert_eq!((rest.len(), last), (1, None));
        assert_eq!(rest[0].name, "q1000");
    }

    #[test]
    fn tags_are_limited() {
        let many: IndexMap<String, String> = (0..51).map(|i| (format!("k{i}"), "v".to_string())).collect();
        assert!(check_tags("q", 0, &many).is_err());
        let reserved = IndexMap::from([("aws:x".to_string(), "v".to_string())]);
        assert!(check_tags("q", 0, &reserved).is_err());
        // Limits count Unicode characters: 128 and 256 three-byte characters are fine.
        let unicode = IndexMap::from([("鍵".repeat(128), "値".repeat(256))]);
        assert!(check_tags("q", 0, &unicode).is_ok());
        assert!(check_tags("q", 0, &IndexMap::from([("鍵".repeat(129), String::new())])).is_err());
        assert!(check_tags("q", 0, &IndexMap::from([("k".to_string(), "値".repeat(257))])).is_err());
        assert!(check_tags("q", 49, &IndexMap::from([("k".to_string(), String::new())])).is_ok());
        assert!(check_tags("q", 50, &IndexMap::from([("k".to_string(), String::new())])).is_err());
    }
}
