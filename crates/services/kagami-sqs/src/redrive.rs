//! Dead-letter queues: moving messages that were received too often, and finding the
//! queues that use a given dead-letter queue.

use crate::generated::*;
use crate::message::{Delivery, Message};
use crate::persistence;
use crate::queues::paginate;
use crate::state::{Queue, Sqs};
use kagami_core::RequestContext;
use kagami_core::store::Commit;
use std::sync::Arc;

impl Sqs {
    /// Moves messages taken out of `source` into `target`. Both records go in one commit,
    /// so a crash leaves each message in exactly one of the queues.
    pub(crate) fn move_to_dead_letter_queue(
        &self,
        source: &Queue,
        target: &Queue,
        messages: Vec<Message>,
        now: i64,
    ) -> Commit {
        let durable = self.store.is_durable();
        let mut ops = Vec::new();
        let commit = {
            let mut state = target.state.lock();
            for mut m in messages {
                let old_seq = m.seq;
                m.seq = state.allocate_seq();
                m.dead_letter_queue_source_arn = Some(source.arn.clone());
                // A FIFO dead-letter queue resets the enqueue time (and so the retention
                // period); a standard one keeps the original.
                if target.fifo {
                    m.sent_timestamp = now;
                    m.sequence_number = Some(state.sequencer.next(now));
                }
                m.delivery = Delivery { visible_at: now, ..m.delivery };
                if durable {
                    ops.push(persistence::put_message(&target.key, &m));
                    ops.extend(persistence::delete_message(&source.key, old_seq));
                }
                state.insert(m, now);
            }
            self.store.submit(ops)
        };
        target.notify.notify_waiters();
        commit
    }

    /// The queues in the dead-letter queue's account and region whose RedrivePolicy names it.
    pub(crate) fn dead_letter_sources(&self, dead_letter_queue: &Queue) -> Vec<Arc<Queue>> {
        self.queues_in(&dead_letter_queue.account, &dead_letter_queue.region)
            .into_iter()
            .filter(|q| {
                let state = q.state.lock();
                state
                    .attributes
                    .redrive_policy
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_target_arn == dead_letter_queue.arn)
            })
            .collect()
    }

    pub fn list_dead_letter_source_queues(
        &self,
        ctx: &RequestContext,
        input: ListDeadLetterSourceQueuesRequest,
    ) -> Result<ListDeadLetterSourceQueuesResult, SqsError> {
        let queue = self.resolve(ctx, &input.queue_url)?;
        let sources = self.dead_letter_sources(&queue);
        let (page, next_token) = paginate(sources, input.next_token.as_deref(), input.max_results)?;
        Ok(ListDeadLetterSourceQueuesResult {
            queue_urls: page.iter().map(|q| self.url_of(ctx, q)).collect(),
            next_token,
        })
    }
}
