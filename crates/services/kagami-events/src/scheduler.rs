//! Scheduled rules fire on the emulated clock: one task sleeps until the earliest
//! firing of any enabled scheduled rule (waking when rules change or the clock is
//! advanced) and sends each due rule's targets AWS's "Scheduled Event".
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html

use crate::delivery::Delivery;
use crate::state::Events;
use kagami_core::{Timestamp, clock, ids};
use serde_json::json;
use std::sync::Arc;

/// Periods missed at once (the clock advanced by hours over a rate(1 minute) rule) fire
/// at most this many times; later ones are skipped.
const MAX_CATCH_UP: usize = 10;

pub(crate) fn start(events: &Arc<Events>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    let me = Arc::clone(events);
    handle.spawn(async move { me.run_schedules().await });
}

impl Events {
    async fn run_schedules(self: Arc<Self>) {
        loop {
            let changed = self.schedule_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next = self.fire_due(clock::now_millis());
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = clock::sleep_until(at) => {}
                        _ = &mut changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Fires every rule due at `now`; returns when the next one is due.
    fn fire_due(self: &Arc<Self>, now: i64) -> Option<i64> {
        let mut deliveries = Vec::new();
        let mut earliest: Option<i64> = None;
        {
            let mut partitions = self.partitions.lock();
            for partition in partitions.values_mut() {
                for bus in partition.buses.values_mut() {
                    for rule in bus.rules.values_mut() {
                        let (Some(mut at), Some(schedule)) = (rule.next_fire, rule.schedule.clone()) else { continue };
                        let mut fired = 0;
                        while at <= now && fired < MAX_CATCH_UP {
                            let event = Arc::new(json!({
                                "version": "0",
                                "id": ids::uuid_v4(),
                                "detail-type": "Scheduled Event",
                                "source": "aws.events",
                                "account": rule.rec.account,
                                "time": Timestamp::from_millis(at.div_euclid(1000) * 1000).to_iso8601(),
                                "region": rule.rec.region,
                                "resources": [rule.arn()],
                                "detail": {},
                            }));
                            for target in &rule.targets {
                                deliveries.push(Delivery::new(rule, target, &event, 0));
                            }
                            fired += 1;
                            at = schedule.next_after(rule.rec.created, at).unwrap_or(i64::MAX);
                        }
                        if at <= now {
                            at = schedule.next_after(rule.rec.created, now).unwrap_or(i64::MAX);
                        }
                        rule.next_fire = (at != i64::MAX).then_some(at);
                        if let Some(at) = rule.next_fire {
                            earliest = Some(earliest.map_or(at, |e| e.min(at)));
                        }
                    }
                }
            }
        }
        // Submitted, not awaited: nobody waits for a schedule's answer, and the records
        // reach the disk before any of these deliveries' later changes.
        drop(self.submit_pending(&deliveries));
        for d in deliveries {
            self.spawn_delivery(d);
        }
        earliest
    }
}
