//! `GET /_kagami/sns/subscription-tokens[?TopicArn=…]`: the subscriptions awaiting
//! confirmation with their tokens, so tests can confirm email and HTTP subscriptions
//! that kagami cannot reach. Looking changes nothing.

use crate::state::Sns;
use kagami_core::{InternalRequest, InternalResponse};
use serde_json::json;

impl Sns {
    pub fn internal(&self, req: &InternalRequest) -> Option<InternalResponse> {
        if req.method != "GET" || req.path.trim_end_matches('/') != "/subscription-tokens" {
            return None;
        }
        let topic = req.query.iter().find(|(k, _)| k == "TopicArn").map(|(_, v)| v.as_str());
        let subscriptions: Vec<_> = self
            .pending_subscriptions()
            .into_iter()
            .filter(|s| topic.is_none_or(|t| t == s.topic_arn))
            .map(|s| {
                json!({
                    "SubscriptionArn": s.arn,
                    "TopicArn": s.topic_arn,
                    "Protocol": s.protocol,
                    "Endpoint": s.endpoint,
                    "Token": s.token,
                })
            })
            .collect();
        Some(InternalResponse { status: 200, body: json!({ "subscriptions": subscriptions }) })
    }
}
