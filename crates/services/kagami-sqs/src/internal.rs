//! `GET /_kagami/sqs/messages?QueueUrl=…[&Region=…]`: every message of a queue with its
//! state (visible, in flight, delayed), for tests. Looking changes nothing.

use crate::message::MessageAttribute;
use crate::state::Sqs;
use crate::url::{parse_queue_url, queue_url};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use kagami_core::{DEFAULT_ACCOUNT_ID, DEFAULT_REGION, InternalRequest, InternalResponse, clock};
use serde_json::{Value, json};

fn error(status: u16, message: &str) -> InternalResponse {
    InternalResponse { status, body: json!({ "error": message }) }
}

fn attributes_json(attrs: &IndexMap<String, MessageAttribute>) -> Value {
    let map: serde_json::Map<String, Value> = attrs
        .iter()
        .map(|(name, a)| {
            let mut v = json!({ "DataType": a.data_type });
            if let Some(s) = &a.string_value {
                v["StringValue"] = json!(s);
            }
            if let Some(b) = &a.binary_value {
                v["BinaryValue"] = json!(STANDARD.encode(b));
            }
            (name.clone(), v)
        })
        .collect();
    Value::Object(map)
}

impl Sqs {
    pub fn internal(&self, req: &InternalRequest) -> Option<InternalResponse> {
        if req.method != "GET" || req.path.trim_end_matches('/') != "/messages" {
            return None;
        }
        let param = |name: &str| req.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(url) = param("QueueUrl") else {
            return Some(error(400, "The request must contain the parameter QueueUrl."));
        };
        let Some(r) = parse_queue_url(url) else {
            return Some(error(400, "QueueUrl does not name a queue."));
        };
        let account = r.account.unwrap_or(DEFAULT_ACCOUNT_ID);
        // Without a region in the URL or the query, the default region wins, then any.
        let queue = match param("Region").or(r.region) {
            Some(region) => self.queue(account, region, r.name),
            None => {
                let mut found = self.queues_named(account, r.name);
                found.sort_by_key(|q| q.region != DEFAULT_REGION);
                found.into_iter().next()
            }
        };
        let Some(queue) = queue else {
            return Some(error(404, "The specified queue does not exist."));
        };
        let now = clock::now_millis();
        let state = queue.state.lock();
        let messages: Vec<Value> = state
            .messages_in_order()
            .into_iter()
            .map(|m| {
                let d = m.delivery;
                let status = if d.visible_at <= now {
                    "VISIBLE"
                } else if d.receive_count == 0 {
                    "DELAYED"
                } else {
                    "INFLIGHT"
                };
                let mut system = json!({
                    "SenderId": m.sender_id,
                    "SentTimestamp": m.sent_timestamp.to_string(),
                    "ApproximateReceiveCount": d.receive_count.to_string(),
                });
                if let Some(t) = d.first_receive_timestamp {
                    system["ApproximateFirstReceiveTimestamp"] = json!(t.to_string());
                }
                for (name, value) in [
                    ("MessageGroupId", &m.message_group_id),
                    ("MessageDeduplicationId", &m.message_deduplication_id),
                    ("SequenceNumber", &m.sequence_number),
                    ("DeadLetterQueueSourceArn", &m.dead_letter_queue_source_arn),
                ] {
                    if let Some(v) = value {
                        system[name] = json!(v);
                    }
                }
                json!({
                    "MessageId": m.message_id,
                    "Body": m.body,
                    "MD5OfBody": m.md5_of_body,
                    "Attributes": system,
                    "MessageAttributes": attributes_json(&m.message_attributes),
                    "Status": status,
                    "ReceiveCount": d.receive_count,
                    "VisibleAt": d.visible_at,
                })
            })
            .collect();
        let host = if req.host.is_empty() { "localhost:4566" } else { req.host.as_str() };
        Some(InternalResponse {
            status: 200,
            body: json!({
                "QueueUrl": queue_url(host, &queue.account, &queue.name),
                "QueueArn": queue.arn,
                "Messages": messages,
            }),
        })
    }
}
