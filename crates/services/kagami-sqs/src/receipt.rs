//! Receipt handles: opaque to clients, different on every receive, and carrying what
//! SQS needs to find the message again (queue, message, and which receive issued it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What a receipt handle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub queue_arn: String,
    pub message_id: String,
    pub seq: u64,
    /// The message's receive count when this handle was issued: the newest handle of a
    /// message is the one whose count equals the message's.
    pub receive_count: u32,
}

impl Receipt {
    pub fn encode(&self) -> String {
        // Random bytes make each handle unique, as AWS's are, even for a re-issued count.
        let nonce = fastrand_hex();
        STANDARD.encode(format!("{nonce} {} {} {} {}", self.queue_arn, self.message_id, self.seq, self.receive_count))
    }

    /// `None` for anything that is not a handle kagami issued.
    pub fn decode(handle: &str) -> Option<Receipt> {
        let bytes = STANDARD.decode(handle.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split(' ');
        let _nonce = parts.next()?;
        let queue_arn = parts.next()?.to_string();
        let message_id = parts.next()?.to_string();
        let seq = parts.next()?.parse().ok()?;
        let receive_count = parts.next()?.parse().ok()?;
        if parts.next().is_some() || !queue_arn.starts_with("arn:") {
            return None;
        }
        Some(Receipt { queue_arn, message_id, seq, receive_count })
    }
}

fn fastrand_hex() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_differ_per_issue() {
        let r = Receipt {
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            message_id: "5fea7756-0ea4-451a-a703-a558b933e274".into(),
            seq: 42,
            receive_count: 3,
        };
        let a = r.encode();
        let b = r.encode();
        assert_ne!(a, b);
        assert_eq!(Receipt::decode(&a), Some(r.clone()));
        assert_eq!(Receipt::decode(&b), Some(r));
    }

    #[test]
    fn garbage_is_not_a_handle() {
        assert_eq!(Receipt::decode("not-a-handle"), None);
        assert_eq!(Receipt::decode(""), None);
        assert_eq!(Receipt::decode(&STANDARD.encode("a b c")), None);
    }
}
