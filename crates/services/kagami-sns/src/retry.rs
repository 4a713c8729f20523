//! The retry policy of HTTP/S deliveries: the subscription's DeliveryPolicy
//! (`healthyRetryPolicy`), else the topic's (`http.defaultHealthyRetryPolicy`), else
//! AWS's default of 3 retries 20 seconds apart.
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// AWS's default healthy retry policy for HTTP/S.
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_DELAY_SECONDS: u32 = 20;
/// "numRetries": at most 100 in a delivery policy.
pub const MAX_RETRIES: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub retries: u32,
    /// Retries made at once before the delayed ones.
    pub no_delay_retries: u32,
    pub min_delay_seconds: u32,
    pub max_delay_seconds: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: DEFAULT_RETRIES,
            no_delay_retries: 0,
            min_delay_seconds: DEFAULT_DELAY_SECONDS,
            max_delay_seconds: DEFAULT_DELAY_SECONDS,
        }
    }
}

fn number(policy: &Json, key: &str) -> Option<u32> {
    policy.get(key)?.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn from_json(policy: &Json) -> RetryPolicy {
    let d = RetryPolicy::default();
    let min = number(policy, "minDelayTarget").unwrap_or(d.min_delay_seconds);
    RetryPolicy {
        retries: number(policy, "numRetries").unwrap_or(d.retries).min(MAX_RETRIES),
        no_delay_retries: number(policy, "numNoDelayRetries").unwrap_or(0),
        min_delay_seconds: min,
        max_delay_seconds: number(policy, "maxDelayTarget").unwrap_or(d.max_delay_seconds).max(min),
    }
}

impl RetryPolicy {
    pub fn resolve(subscription_policy: Option<&str>, topic_policy: Option<&str>) -> RetryPolicy {
        let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Json>(s).ok());
        if let Some(p) = parse(subscription_policy).as_ref().and_then(|j| j.get("healthyRetryPolicy")) {
            return from_json(p);
        }
        if let Some(p) = parse(topic_policy).as_ref().and_then(|j| j.pointer("/http/defaultHealthyRetryPolicy")) {
            return from_json(p);
        }
        RetryPolicy::default()
    }

    /// Seconds to wait before retry `n` (1-based): none for the first
    /// `no_delay_retries`, then growing linearly from the minimum to the maximum delay.
    pub fn delay_before(&self, n: u32) -> u32 {
        if n <= self.no_delay_retries {
            return 0;
        }
        let delayed = self.retries.saturating_sub(self.no_delay_retries).max(1);
        let step = n - self.no_delay_retries - 1;
        let span = self.max_delay_seconds - self.min_delay_seconds;
        self.min_delay_seconds + span * step / delayed.saturating_sub(1).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_policy_wins_over_topic_policy_and_default() {
        assert_eq!(RetryPolicy::resolve(None, None), RetryPolicy::default());
        let topic = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":9}}}"#;
        let sub = r#"{"healthyRetryPolicy":{"numRetries":0}}"#;
        assert_eq!(RetryPolicy::resolve(None, Some(topic)).retries, 5);
        assert_eq!(RetryPolicy::resolve(Some(sub), Some(topic)).retries, 0);
        let p = RetryPolicy::resolve(None, Some(topic));
        assert_eq!((p.delay_before(1), p.delay_before(5)), (1, 9));
        let p = RetryPolicy { no_delay_retries: 1, ..RetryPolicy::default() };
        assert_eq!((p.delay_before(1), p.delay_before(2)), (0, 20));
    }
}
