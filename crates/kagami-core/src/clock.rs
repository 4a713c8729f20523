//! The emulated clock. Every service reads time here, so `POST /_kagami/clock` can move
//! SQS delays, visibility timeouts, retention and credential expiry forward in tests.

use crate::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

static OFFSET_MILLIS: AtomicI64 = AtomicI64::new(0);
static ADVANCED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Milliseconds since the epoch, emulated.
pub fn now_millis() -> i64 {
    let real = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as i64;
    real + OFFSET_MILLIS.load(Ordering::Relaxed)
}

pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}

pub fn now_secs() -> i64 {
    now_millis().div_euclid(1000)
}

/// Moves the emulated clock forward and wakes everything waiting on it.
pub fn advance(by: Duration) {
    OFFSET_MILLIS.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    ADVANCED.notify_waiters();
}

/// Sleeps until the emulated time reaches `deadline_millis`, waking early when the
/// clock is advanced past it.
pub async fn sleep_until(deadline_millis: i64) {
    loop {
        let remaining = deadline_millis - now_millis();
        if remaining <= 0 {
            return;
        }
        let advanced = ADVANCED.notified();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(remaining as u64)) => {}
            _ = advanced => {}
        }
    }
}

/// Resolves the next time the clock is advanced (for waiters that also wait on other events).
pub async fn advanced() {
    ADVANCED.notified().await
}
