//! One queue's messages and their visibility: which are visible, delayed or in flight,
//! in what order they are received (per message group for FIFO queues), and when they
//! expire. Everything here runs under the queue's lock; time is passed in.

use crate::attributes::{QueueAttributes, VISIBILITY_TIMEOUT_MAX};
use crate::fifo::{DEDUPLICATION_INTERVAL_MS, Deduplication, Sequencer};
use crate::message::{Delivery, Message};
use crate::receipt::Receipt;
use indexmap::IndexMap;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A queue's state behind its lock.
#[derive(Debug)]
pub struct QueueState {
    pub attributes: QueueAttributes,
    pub tags: IndexMap<String, String>,
    /// Epoch seconds, as GetQueueAttributes reports them.
    pub created_timestamp: i64,
    pub last_modified_timestamp: i64,
    /// When the last PurgeQueue ran (ms), for the one-purge-per-60-seconds rule.
    pub last_purge: Option<i64>,
    pub deduplication: Deduplication,
    pub sequencer: Sequencer,
    /// Boxed: the map stays small however large a message record is.
    messages: HashMap<u64, Box<Message>>,
    /// Visible messages by send order.
    ready: BTreeSet<u64>,
    /// Never received and not yet visible: (visible_at, seq).
    delayed: BTreeSet<(i64, u64)>,
    /// Received and within their visibility timeout: (visible_at, seq).
    inflight: BTreeSet<(i64, u64)>,
    /// Every message by enqueue time, for retention.
    by_sent: BTreeSet<(i64, u64)>,
    /// FIFO only: each message group's messages in order, and how many are in flight.
    groups: HashMap<String, Group>,
    next_seq: u64,
    attempts: HashMap<String, Attempt>,
}

/// A FIFO message group: its messages in order, and how many of them are in flight
/// (while any is, the group delivers nothing: "FIFO queue logic", SQS Developer Guide).
#[derive(Debug, Default)]
struct Group {
    members: BTreeSet<u64>,
    inflight: usize,
}

/// What `refresh` dropped: messages past the retention period and deduplication ids
/// past the 5-minute interval, so that their records can be deleted.
#[derive(Debug, Default)]
pub struct Expired {
    pub messages: Vec<Message>,
    pub deduplication_keys: Vec<String>,
}

impl Expired {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.deduplication_keys.is_empty()
    }
}

/// A FIFO ReceiveMessage that a retry with the same ReceiveRequestAttemptId repeats.
#[derive(Debug, Clone)]
struct Attempt {
    expires_at: i64,
    /// (seq, receive count it was delivered with, receipt handle).
    deliveries: Vec<(u64, u32, String)>,
}

/// Why DeleteMessage refused a handle that names a message still in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// FIFO: the handle's visibility timeout ran out (or the message was received again).
    Expired,
}

/// Why ChangeMessageVisibility refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityRefusal {
    /// No such message (deleted, expired, or never existed).
    NotFound,
    /// The message is not in flight.
    NotInflight,
    /// More than 12 hours past the receive that issued the handle.
    BeyondLimit,
}

/// What a receive picked: messages to deliver and messages to move to the dead-letter queue.
#[derive(Debug, Default, PartialEq)]
pub struct Selection {
    pub deliver: Vec<u64>,
    pub dead_letter: Vec<u64>,
}

impl QueueState {
    pub fn new(attributes: QueueAttributes, tags: IndexMap<String, String>, now_millis: i64) -> Self {
        QueueState {
            attributes,
            tags,
            created_timestamp: now_millis.div_euclid(1000),
            last_modified_timestamp: now_millis.div_euclid(1000),
            last_purge: None,
            deduplication: Deduplication::default(),
            sequencer: Sequencer::default(),
            messages: HashMap::new(),
            ready: BTreeSet::new(),
            delayed: BTreeSet::new(),
            inflight: BTreeSet::new(),
            by_sent: BTreeSet::new(),
            groups: HashMap::new(),
            // Sequence keys start from the clock so that a queue deleted and created
            // again never reuses the store keys of its predecessor.
            next_seq: u64::try_from(now_millis).unwrap_or_default() * 1000,
            attempts: HashMap::new(),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.attributes.fifo_queue
    }

    /// The position of the next message sent.
    pub fn allocate_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    pub fn get(&self, seq: u64) -> Option<&Message> {
        self.messages.get(&seq).map(|m| &**m)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// All messages in send order (for the internal listing endpoint and tests).
    pub fn messages_in_order(&self) -> Vec<&Message> {
        let mut all: Vec<&Message> = self.messages.values().map(|m| &**m).collect();
        all.sort_unstable_by_key(|m| m.seq);
        all
    }

    /// Adds a message (new, moved from another queue, or loaded from the store).
    pub fn insert(&mut self, message: Message, now: i64) {
        let seq = message.seq;
        self.next_seq = self.next_seq.max(seq + 1);
        if let Some(n) = &message.sequence_number {
            self.sequencer.observe(n);
        }
        self.by_sent.insert((message.sent_timestamp, seq));
        if self.is_fifo() {
            let group = message.message_group_id.clone().unwrap_or_default();
            self.groups.entry(group).or_default().members.insert(seq);
        }
        let delivery = message.delivery;
        self.messages.insert(seq, Box::new(message));
        self.place(seq, delivery, now);
    }

    /// Takes a message out of the queue.
    pub fn remove(&mut self, seq: u64) -> Option<Message> {
        let delivery = self.messages.get(&seq)?.delivery;
        self.unplace(seq, delivery);
        let message = *self.messages.remove(&seq)?;
        self.by_sent.remove(&(message.sent_timestamp, seq));
        if self.is_fifo() {
            let group = message.message_group_id.as_deref().unwrap_or_default();
            if let Some(g) = self.groups.get_mut(group) {
                g.members.remove(&seq);
                if g.members.is_empty() {
                    self.groups.remove(group);
                }
            }
        }
        Some(message)
    }

    /// Files a message (already in `messages`) as visible, delayed or in flight.
    fn place(&mut self, seq: u64, delivery: Delivery, now: i64) {
        if delivery.visible_at <= now {
            self.ready.insert(seq);
        } else if delivery.receive_count == 0 {
            self.delayed.insert((delivery.visible_at, seq));
        } else {
            self.set_inflight(seq, delivery.visible_at);
        }
    }

    fn unplace(&mut self, seq: u64, delivery: Delivery) {
        self.ready.remove(&seq);
        self.delayed.remove(&(delivery.visible_at, seq));
        self.clear_inflight(seq, delivery.visible_at);
    }

    fn group_of(&mut self, seq: u64) -> Option<&mut Group> {
        if !self.is_fifo() {
            return None;
        }
        let group = self.messages.get(&seq)?.message_group_id.as_deref().unwrap_or_default();
        self.groups.get_mut(group)
    }

    fn set_inflight(&mut self, seq: u64, visible_at: i64) {
        if self.inflight.insert((visible_at, seq))
            && let Some(g) = self.group_of(seq)
        {
            g.inflight += 1;
        }
    }

    fn clear_inflight(&mut self, seq: u64, visible_at: i64) {
        if self.inflight.remove(&(visible_at, seq))
            && let Some(g) = self.group_of(seq)
        {
            g.inflight = g.inflight.saturating_sub(1);
        }
    }

    /// Brings the queue up to `now`: delayed and in-flight messages whose time has come
    /// become visible, and messages older than the retention period are dropped
    /// (returned, so their records can be deleted).
    pub fn refresh(&mut self, now: i64) -> Expired {
        while let Some(&(visible_at, seq)) = self.delayed.first() {
            if visible_at > now {
                break;
            }
            self.delayed.pop_first();
            self.ready.insert(seq);
        }
        while let Some(&(visible_at, seq)) = self.inflight.first() {
            if visible_at > now {
                break;
            }
            self.clear_inflight(seq, visible_at);
            self.ready.insert(seq);
        }
        // Retention applies to every message, in flight or not, and a changed
        // MessageRetentionPeriod applies to messages already in the queue.
        let retention = i64::from(self.attributes.message_retention_period) * 1000;
        let mut expired = Expired::default();
        while let Some(&(sent, seq)) = self.by_sent.first() {
            if sent + retention > now {
                break;
            }
            match self.remove(seq) {
                Some(m) => expired.messages.push(m),
                None => {
                    self.by_sent.pop_first();
                }
            }
        }
        expired.deduplication_keys = self.deduplication.prune(now);
        if !self.attempts.is_empty() {
            self.attempts.retain(|_, a| a.expires_at > now);
        }
        expired
    }

    /// The next time `refresh` has something to drop: a message reaching the end of the
    /// retention period or a deduplication id the end of its interval.
    pub fn next_expiry(&self) -> Option<i64> {
        let retention = i64::from(self.attributes.message_retention_period) * 1000;
        let message = self.by_sent.first().map(|(sent, _)| sent + retention);
        let dedup = self.deduplication.next_expiry();
        match (message, dedup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// FIFO: the queue's DelaySeconds is retroactive ("Amazon SQS delay queues"), so a
    /// message never received is visible `DelaySeconds` after it was sent, whatever the
    /// delay was then. Returns the messages whose delivery state changed.
    pub fn apply_queue_delay(&mut self, now: i64) -> Vec<(u64, Delivery)> {
        if !self.is_fifo() {
            return Vec::new();
        }
        let delay = i64::from(self.attributes.delay_seconds) * 1000;
        let pending: Vec<(u64, Delivery, i64)> = self
            .messages
            .values()
            .filter(|m| m.delivery.receive_count == 0 && m.delivery.visible_at != m.sent_timestamp + delay)
            .map(|m| (m.seq, m.delivery, m.sent_timestamp + delay))
            .collect();
        let mut changed = Vec::with_capacity(pending.len());
        for (seq, old, visible_at) in pending {
            self.unplace(seq, old);
            let delivery = Delivery { visible_at, ..old };
            if let Some(m) = self.messages.get_mut(&seq) {
                m.delivery = delivery;
            }
            self.place(seq, delivery, now);
            changed.push((seq, delivery));
        }
        changed
    }

    /// ApproximateNumberOfMessages, ...NotVisible and ...Delayed (after `refresh`).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.ready.len(), self.inflight.len(), self.delayed.len())
    }

    /// The next time a delayed or in-flight message becomes visible.
    pub fn next_visibility_change(&self) -> Option<i64> {
        let delayed = self.delayed.first().map(|(t, _)| *t);
        let inflight = self.inflight.first().map(|(t, _)| *t);
        match (delayed, inflight) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Picks up to `max` visible messages to deliver, in order; messages already
    /// received `max_receive_count` times are picked for the dead-letter queue instead.
    ///
    /// FIFO: a message group is available only while none of its messages is in flight
    /// and its oldest message is visible, so a group is delivered strictly in order; a
    /// receive returns as many messages of one group as it can before moving to the next.
    pub fn select(&self, max: usize, max_receive_count: Option<u32>) -> Selection {
        let mut selection = Selection::default();
        let exhausted = |m: &Message| max_receive_count.is_some_and(|limit| m.delivery.receive_count >= limit);
        if !self.is_fifo() {
            for &seq in &self.ready {
                if selection.deliver.len() >= max {
                    break;
                }
                let Some(m) = self.messages.get(&seq) else { continue };
                if exhausted(m) { selection.dead_letter.push(seq) } else { selection.deliver.push(seq) }
            }
            return selection;
        }
        let mut visited: HashSet<&str> = HashSet::new();
        for &seq in &self.ready {
            if selection.deliver.len() >= max {
                break;
            }
            let Some(m) = self.messages.get(&seq) else { continue };
            let group = m.message_group_id.as_deref().unwrap_or_default();
            if !visited.insert(group) {
                continue;
            }
            let Some(g) = self.groups.get(group) else { continue };
            if g.inflight > 0 || g.members.first() != Some(&seq) {
                // A message of the group is in flight, or an older one is delayed: the
                // group waits, even if an earlier message became visible again.
                continue;
            }
            for &member in &g.members {
                if selection.deliver.len() >= max || !self.ready.contains(&member) {
                    break;
                }
                let Some(m) = self.messages.get(&member) else { break };
                if exhausted(m) { selection.dead_letter.push(member) } else { selection.deliver.push(member) }
            }
        }
        selection
    }

    /// Marks a selected message received: one more receive, hidden for the visibility
    /// timeout. Returns the receipt for the handle.
    pub fn mark_received(&mut self, seq: u64, queue_arn: &str, now: i64, visibility_timeout: u32) -> Option<Receipt> {
        let delivery = self.messages.get(&seq)?.delivery;
        self.unplace(seq, delivery);
        let visible_at = now + i64::from(visibility_timeout) * 1000;
        let m = self.messages.get_mut(&seq)?;
        m.delivery.receive_count += 1;
        m.delivery.first_receive_timestamp.get_or_insert(now);
        m.delivery.last_receive_timestamp = Some(now);
        m.delivery.visible_at = visible_at;
        let receipt = Receipt {
            queue_arn: queue_arn.to_string(),
            message_id: m.message_id.clone(),
            seq,
            receive_count: m.delivery.receive_count,
        };
        self.set_inflight(seq, visible_at);
        Some(receipt)
    }

    /// The message a receipt names, if it is still in the queue.
    fn named(&self, receipt: &Receipt) -> Option<&Message> {
        self.messages.get(&receipt.seq).map(|m| &**m).filter(|m| m.message_id == receipt.message_id)
    }

    fn in_flight(m: &Message, now: i64) -> bool {
        m.delivery.receive_count > 0 && m.delivery.visible_at > now
    }

    /// DeleteMessage: `Ok(None)` when the message is already gone (AWS answers success).
    /// A standard queue deletes with any handle of the message; a FIFO queue only with
    /// the newest handle while the message is still in flight.
    pub fn delete(&mut self, receipt: &Receipt, now: i64) -> Result<Option<Message>, DeleteRefusal> {
        let Some(m) = self.named(receipt) else { return Ok(None) };
        if self.is_fifo() && (m.delivery.receive_count != receipt.receive_count || !Self::in_flight(m, now)) {
            return Err(DeleteRefusal::Expired);
        }
        Ok(self.remove(receipt.seq))
    }

    /// ChangeMessageVisibility: hides the message for `timeout` seconds from now (0 makes
    /// it visible at once). Returns the new delivery state.
    pub fn change_visibility(
        &mut self,
        receipt: &Receipt,
        timeout: u32,
        now: i64,
    ) -> Result<Delivery, VisibilityRefusal> {
        let m = self.named(receipt).ok_or(VisibilityRefusal::NotFound)?;
        if !Self::in_flight(m, now) {
            return Err(VisibilityRefusal::NotInflight);
        }
        let visible_at = now + i64::from(timeout) * 1000;
        let received = m.delivery.last_receive_timestamp.unwrap_or(now);
        if visible_at - received > i64::from(VISIBILITY_TIMEOUT_MAX) * 1000 {
            return Err(VisibilityRefusal::BeyondLimit);
        }
        let old = m.delivery;
        self.unplace(receipt.seq, old);
        let mut delivery = old;
        delivery.visible_at = visible_at;
        if let Some(m) = self.messages.get_mut(&receipt.seq) {
            m.delivery = delivery;
        }
        self.place(receipt.seq, delivery, now);
        // Changing visibility ends the chance to replay a receive attempt.
        self.attempts.retain(|_, a| !a.deliveries.iter().any(|(s, _, _)| *s == receipt.seq));
        Ok(delivery)
    }

    /// PurgeQueue: every message goes, and with them the deduplication ids.
    pub fn purge(&mut self, now: i64) {
        self.deduplication.clear();
        self.messages.clear();
        self.ready.clear();
        self.delayed.clear();
        self.inflight.clear();
        self.by_sent.clear();
        self.groups.clear();
        self.attempts.clear();
        self.last_purge = Some(now);
    }

    /// FIFO: repeats the receive made with this ReceiveRequestAttemptId if none of its
    /// messages changed since, resetting their visibility timeout. Returns (seq, handle).
    pub fn replay_attempt(
        &mut self,
        attempt_id: &str,
        now: i64,
        visibility_timeout: u32,
    ) -> Option<Vec<(u64, String)>> {
        let attempt = self.attempts.get(attempt_id)?.clone();
        let unchanged = attempt.deliveries.iter().all(|(seq, count, _)| {
            self.messages.get(seq).is_some_and(|m| m.delivery.receive_count == *count && Self::in_flight(m, now))
        });
        if !unchanged || attempt.expires_at <= now {
            self.attempts.remove(attempt_id);
            return None;
        }
        let visible_at = now + i64::from(visibility_timeout) * 1000;
        for (seq, _, _) in &attempt.deliveries {
            let Some(old) = self.messages.get(seq).map(|m| m.delivery) else { continue };
            self.unplace(*seq, old);
            if let Some(m) = self.messages.get_mut(seq) {
                m.delivery.visible_at = visible_at;
            }
            self.set_inflight(*seq, visible_at);
        }
        Some(attempt.deliveries.into_iter().map(|(seq, _, handle)| (seq, handle)).collect())
    }

    pub fn record_attempt(&mut self, attempt_id: String, now: i64, deliveries: Vec<(u64, u32, String)>) {
        self.attempts.insert(attempt_id, Attempt { expires_at: now + DEDUPLICATION_INTERVAL_MS, deliveries });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    fn queue(fifo: bool) -> QueueState {
        QueueState::new(QueueAttributes::defaults(fifo), IndexMap::new(), 1_000_000)
    }

    fn message(q: &mut QueueState, body: &str, group: Option<&str>, now: i64, delay_ms: i64) -> u64 {
        let seq = q.allocate_seq();
        q.insert(
            Message {
                seq,
                message_id: format!("id-{body}"),
                body: body.to_string(),
                md5_of_body: String::new(),
                message_attributes: IndexMap::new(),
                md5_of_message_attributes: None,
                system_attributes: IndexMap::new(),
                md5_of_message_system_attributes: None,
                sender_id: "000000000000".into(),
                sent_timestamp: now,
                message_group_id: group.map(str::to_string),
                message_deduplication_id: None,
                sequence_number: None,
                dead_letter_queue_source_arn: None,
                delivery: Delivery { visible_at: now + delay_ms, ..Default::default() },
            },
            now,
        );
        seq
    }

    fn receive(q: &mut QueueState, max: usize, now: i64, vt: u32) -> Vec<(String, Receipt)> {
        q.refresh(now);
        let sel = q.select(max, None);
        sel.deliver
            .into_iter()
            .filter_map(|s| {
                let r = q.mark_received(s, ARN, now, vt)?;
                Some((q.get(s)?.body.clone(), r))
            })
            .collect()
    }

    fn bodies(r: &[(String, Receipt)]) -> Vec<&str> {
        r.iter().map(|(b, _)| b.as_str()).collect()
    }

    #[test]
    fn receive_hides_message_until_visibility_timeout_expires() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        assert_eq!(bodies(&receive(&mut q, 10, t, 30)), ["a"]);
        assert_eq!(q.counts(), (0, 1, 0));
        assert!(receive(&mut q, 10, t + 29_999, 30).is_empty());
        let again = receive(&mut q, 10, t + 30_000, 30);
        assert_eq!(bodies(&again), ["a"]);
        assert_eq!(q.get(again[0].1.seq).map(|m| m.delivery.receive_count), Some(2));
    }

    #[test]
    fn delayed_messages_count_as_delayed_until_due() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "later", None, t, 5_000);
        q.refresh(t);
        assert_eq!(q.counts(), (0, 0, 1));
        assert_eq!(q.next_visibility_change(), Some(t + 5_000));
        assert!(receive(&mut q, 1, t + 4_999, 30).is_empty());
        assert_eq!(bodies(&receive(&mut q, 1, t + 5_000, 30)), ["later"]);
    }

    #[test]
    fn retention_drops_old_messages() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "old", None, t, 0);
        message(&mut q, "new", None, t + 1_000, 0);
        let retention = i64::from(q.attributes.message_retention_period) * 1000;
        assert_eq!(q.next_expiry(), Some(t + retention));
        let expired = q.refresh(t + retention);
        assert_eq!(expired.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["old"]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_expiry(), Some(t + 1_000 + retention));
    }

    #[test]
    fn shorter_retention_applies_to_messages_already_in_flight() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        receive(&mut q, 1, t, 600);
        q.attributes.message_retention_period = 60;
        let expired = q.refresh(t + 60_000);
        assert_eq!(expired.messages.len(), 1);
        assert_eq!(q.counts(), (0, 0, 0));
        assert_eq!(q.next_expiry(), None);
    }

    #[test]
    fn deduplication_ids_expire_with_the_refresh_that_passes_them() {
        let mut q = queue(true);
        let t = 1_000_000;
        let original = crate::fifo::Original { message_id: "m".into(), sequence_number: "1".into() };
        q.deduplication.record("d".into(), original, t);
        assert_eq!(q.next_expiry(), Some(t + DEDUPLICATION_INTERVAL_MS));
        assert!(q.refresh(t + DEDUPLICATION_INTERVAL_MS - 1).deduplication_keys.is_empty());
        assert_eq!(q.refresh(t + DEDUPLICATION_INTERVAL_MS).deduplication_keys, ["d"]);
        assert_eq!(q.next_expiry(), None);
    }

    #[test]
    fn fifo_group_stays_blocked_while_a_later_message_is_in_flight() {
        let mut q = queue(true);
        let t = 1_000_000;
        for body in ["1", "2", "3"] {
            message(&mut q, body, Some("g"), t, 0);
        }
        let got = receive(&mut q, 2, t, 30);
        assert_eq!(bodies(&got), ["1", "2"]);
        // "1" is visible again, "2" is still in flight: the group delivers nothing,
        // neither "1" (that would deliver it twice while "2" is being processed) nor "3".
        q.change_visibility(&got[0].1, 0, t + 1_000).unwrap();
        assert!(receive(&mut q, 10, t + 1_000, 30).is_empty());
        assert_eq!(q.counts(), (2, 1, 0));
        // Once "2" is visible again the group is delivered in order.
        assert_eq!(bodies(&receive(&mut q, 10, t + 30_000, 30)), ["1", "2", "3"]);
    }

    #[test]
    fn fifo_group_blocked_by_expired_earlier_and_inflight_later_message() {
        let mut q = queue(true);
        let t = 1_000_000;
        message(&mut q, "1", Some("g"), t, 0);
        message(&mut q, "2", Some("g"), t, 0);
        message(&mut q, "x", Some("other"), t, 0);
        let first = receive(&mut q, 1, t, 10);
        assert_eq!(bodies(&first), ["1"]);
        // "1" times out; receive it and "2" again, then let "1" time out first.
        let both = receive(&mut q, 2, t + 10_000, 10);
        assert_eq!(bodies(&both), ["1", "2"]);
        q.change_visibility(&both[1].1, 60, t + 10_000).unwrap();
        // "1" is visible at t + 20 s, "2" in flight until t + 70 s: only the other group.
        assert_eq!(bodies(&receive(&mut q, 10, t + 20_000, 600)), ["x"]);
        assert!(receive(&mut q, 10, t + 69_999, 10).is_empty());
        assert_eq!(bodies(&receive(&mut q, 10, t + 70_000, 10)), ["1", "2"]);
    }

    #[test]
    fn fifo_queue_delay_is_retroactive() {
        let mut q = queue(true);
        let t = 1_000_000;
        message(&mut q, "a", Some("g"), t, 0);
        q.attributes.delay_seconds = 60;
        let changed = q.apply_queue_delay(t + 1_000);
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].1.visible_at, t + 60_000);
        q.refresh(t + 1_000);
        assert_eq!(q.counts(), (0, 0, 1));
        assert!(receive(&mut q, 10, t + 59_999, 30).is_empty());
        assert_eq!(bodies(&receive(&mut q, 10, t + 60_000, 30)), ["a"]);
        // Received messages are not delayed again.
        q.attributes.delay_seconds = 900;
        assert!(q.apply_queue_delay(t + 61_000).is_empty());
    }

    #[test]
    fn standard_queue_delay_is_not_retroactive() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        q.attributes.delay_seconds = 60;
        assert!(q.apply_queue_delay(t).is_empty());
        assert_eq!(bodies(&receive(&mut q, 10, t, 30)), ["a"]);
    }

    #[test]
    fn purge_forgets_deduplication_ids() {
        let mut q = queue(true);
        let original = crate::fifo::Original { message_id: "m".into(), sequence_number: "1".into() };
        q.deduplication.record("d".into(), original, 1_000_000);
        q.purge(1_000_001);
        assert_eq!(q.deduplication.check("d", 1_000_002), None);
    }

    #[test]
    fn fifo_group_is_blocked_while_a_message_is_in_flight() {
        let mut q = queue(true);
        let t = 1_000_000;
        for (body, group) in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")] {
            message(&mut q, body, Some(group), t, 0);
        }
        // One receive returns as much of one group as it can, in order.
        assert_eq!(bodies(&receive(&mut q, 2, t, 30)), ["a1", "a2"]);
        // Group a is in flight; group b is still available.
        assert_eq!(bodies(&receive(&mut q, 10, t, 30)), ["b1", "b2"]);
        assert!(receive(&mut q, 10, t, 30).is_empty());
    }

    #[test]
    fn fifo_order_is_kept_after_visibility_expires() {
        let mut q = queue(true);
        let t = 1_000_000;
        for body in ["1", "2", "3"] {
            message(&mut q, body, Some("g"), t, 0);
        }
        let first = receive(&mut q, 1, t, 10);
        assert_eq!(bodies(&first), ["1"]);
        assert!(receive(&mut q, 10, t + 5_000, 10).is_empty());
        // "1" comes back first once its timeout is over.
        assert_eq!(bodies(&receive(&mut q, 10, t + 10_000, 10)), ["1", "2", "3"]);
    }

    #[test]
    fn fifo_delete_unblocks_the_group_and_needs_a_live_handle() {
        let mut q = queue(true);
        let t = 1_000_000;
        message(&mut q, "1", Some("g"), t, 0);
        message(&mut q, "2", Some("g"), t, 0);
        let r = receive(&mut q, 1, t, 10);
        let (_, receipt) = &r[0];
        assert_eq!(q.delete(receipt, t + 10_000), Err(DeleteRefusal::Expired));
        let r = receive(&mut q, 1, t + 10_000, 10);
        let stale = receipt.clone();
        assert_eq!(q.delete(&stale, t + 10_001), Err(DeleteRefusal::Expired));
        assert!(q.delete(&r[0].1, t + 10_001).unwrap().is_some());
        assert_eq!(q.delete(&r[0].1, t + 10_001), Ok(None));
        assert_eq!(bodies(&receive(&mut q, 10, t + 10_001, 10)), ["2"]);
    }

    #[test]
    fn standard_delete_accepts_an_older_handle() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        let first = receive(&mut q, 1, t, 1);
        receive(&mut q, 1, t + 1_000, 1);
        assert!(q.delete(&first[0].1, t + 1_001).unwrap().is_some());
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn change_visibility_rules() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        let r = receive(&mut q, 1, t, 30);
        let receipt = &r[0].1;
        q.change_visibility(receipt, 0, t + 1).unwrap();
        q.refresh(t + 1);
        assert_eq!(q.counts(), (1, 0, 0));
        assert_eq!(q.change_visibility(receipt, 10, t + 1), Err(VisibilityRefusal::NotInflight));
        let r = receive(&mut q, 1, t + 2, 30);
        assert_eq!(q.change_visibility(&r[0].1, 43_200, t + 1_002), Err(VisibilityRefusal::BeyondLimit));
        q.change_visibility(&r[0].1, 43_199, t + 1_002).unwrap();
        let gone = Receipt { seq: 999, ..r[0].1.clone() };
        assert_eq!(q.change_visibility(&gone, 1, t), Err(VisibilityRefusal::NotFound));
    }

    #[test]
    fn messages_over_max_receive_count_are_selected_for_dead_letter() {
        let mut q = queue(false);
        let t = 1_000_000;
        message(&mut q, "a", None, t, 0);
        receive(&mut q, 1, t, 0);
        receive(&mut q, 1, t, 0);
        q.refresh(t);
        let sel = q.select(10, Some(2));
        assert!(sel.deliver.is_empty());
        assert_eq!(sel.dead_letter.len(), 1);
    }

    #[test]
    fn receive_attempt_replays_unchanged_messages() {
        let mut q = queue(true);
        let t = 1_000_000;
        message(&mut q, "1", Some("g"), t, 0);
        let r = receive(&mut q, 1, t, 30);
        let (seq, count) = (r[0].1.seq, r[0].1.receive_count);
        q.record_attempt("attempt".into(), t, vec![(seq, count, "handle".into())]);
        assert_eq!(q.replay_attempt("attempt", t + 1_000, 30), Some(vec![(seq, "handle".to_string())]));
        assert_eq!(q.get(seq).map(|m| m.delivery.visible_at), Some(t + 31_000));
        q.change_visibility(&r[0].1, 0, t + 2_000).unwrap();
        assert_eq!(q.replay_attempt("attempt", t + 2_000, 30), None);
    }
}
