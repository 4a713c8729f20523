//! The emulated clock. Every service reads time here, so `POST /_kagami/clock` can move
//! SQS delays, visibility timeouts, retention and credential expiry forward in tests.

use crate::Timestamp;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

static OFFSET_MILLIS: AtomicI64 = AtomicI64::new(0);
static ADVANCED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Milliseconds since the epoch, emulated. Saturates rather than wraps however far
/// the clock has been advanced.
pub fn now_millis() -> i64 {
    let real = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis();
    i64::try_from(real).unwrap_or(i64::MAX).saturating_add(OFFSET_MILLIS.load(Ordering::Relaxed))
}

pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}

pub fn now_secs() -> i64 {
    now_millis().div_euclid(1000)
}

/// Moves the emulated clock forward and wakes everything waiting on it. The offset
/// saturates: `POST /_kagami/clock` may be called with any amount, any number of times.
pub fn advance(by: Duration) {
    // The closure always returns Some, so the update cannot fail.
    let _ = OFFSET_MILLIS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| Some(offset_after(o, by)));
    ADVANCED.notify_waiters();
}

fn offset_after(offset: i64, by: Duration) -> i64 {
    offset.saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX))
}

/// Sleeps until the emulated time reaches `deadline_millis`, waking early when the
/// clock is advanced past it.
pub async fn sleep_until(deadline_millis: i64) {
    loop {
        // Registered before the clock is read: an advance in between still wakes us.
        let advanced = ADVANCED.notified();
        let remaining = deadline_millis.saturating_sub(now_millis());
        if remaining <= 0 {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(remaining.unsigned_abs())) => {}
            _ = advanced => {}
        }
    }
}

/// Resolves the next time the clock is advanced, counting from this call (not from
/// the first poll): call it before reading the state it guards, then await it.
pub fn advanced() -> Notified<'static> {
    LazyLock::force(&ADVANCED).notified()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_saturate_however_far_the_clock_is_advanced() {
        assert_eq!(offset_after(0, Duration::from_secs(60)), 60_000);
        assert_eq!(offset_after(0, Duration::MAX), i64::MAX);
        assert_eq!(offset_after(i64::MAX - 5, Duration::from_secs(1)), i64::MAX);
        assert_eq!(offset_after(i64::MAX, Duration::MAX), i64::MAX);
    }

    #[tokio::test]
    async fn advancing_wakes_sleepers_and_waiters() {
        let deadline = now_millis() + 3_600_000;
        let woken = advanced();
        let sleeper = sleep_until(deadline);
        tokio::pin!(sleeper);
        assert!(tokio::time::timeout(Duration::from_millis(20), &mut sleeper).await.is_err(), "asleep for an hour");
        advance(Duration::from_secs(3600));
        let five_secs = Duration::from_secs(5);
        assert!(tokio::time::timeout(five_secs, woken).await.is_ok(), "advance wakes waiters registered before it");
        assert!(tokio::time::timeout(five_secs, sleeper).await.is_ok(), "advance past the deadline ends the sleep");
        assert!(now_millis() >= deadline);
    }

    #[tokio::test]
    async fn deadlines_long_past_return_at_once() {
        let done = tokio::time::timeout(Duration::from_secs(5), sleep_until(i64::MIN)).await;
        assert!(done.is_ok(), "i64::MIN - now must not wrap into a sleep of centuries");
    }
}
