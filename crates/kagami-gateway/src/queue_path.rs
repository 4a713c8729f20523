//! SQS query requests addressed by path: SDKs from before SQS spoke JSON (and
//! hand-written clients) post `Action=SendMessage&MessageBody=...` to the queue URL
//! itself, `/<account>/<queue-name>`, without a `QueueUrl` parameter. AWS takes the
//! queue from the path; so does kagami, before the provider sees the input.

use crate::detect;
use kagami_core::Value;
use kagami_model::{Operation, ServiceModel};
use kagami_protocol::Protocol;

const QUEUE_URL: &str = "QueueUrl";

/// Sets `QueueUrl` of an SQS query-protocol input from the request path when the
/// operation takes one and the request does not name it.
pub(crate) fn fill_queue_url(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    input: &mut Value,
    host: &str,
    path: &str,
) {
    if model.name != "sqs" || protocol != Protocol::Query || !detect::is_queue_url_path(path) {
        return;
    }
    let takes_queue_url = op
        .input
        .as_ref()
        .and_then(|r| model.shapes.get(&r.shape))
        .is_some_and(|s| s.members.contains_key(QUEUE_URL));
    if !takes_queue_url || input.get(QUEUE_URL).is_some() {
        return;
    }
    let url = if host.is_empty() {
        path.to_string()
    } else {
        format!("http://{host}{path}")
    };
    input.insert(QUEUE_URL, Value::Str(url));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqs() -> &'static ServiceModel {
        kagami_model::service("sqs").unwrap().model()
    }

    fn filled(protocol: Protocol, action: &str, mut input: Value, path: &str) -> Option<String> {
        let op = &sqs().operations[action];
        fill_queue_url(sqs(), protocol, op, &mut input, "localhost:4566", path);
        input
            .get(QUEUE_URL)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    #[test]
    fn query_requests_to_a_queue_url_act_on_that_queue() {
        assert_eq!(
            filled(
                Protocol::Query,
                "SendMessage",
                Value::map(),
                "/000000000000/orders"
            ),
            Some("http://localhost:4566/000000000000/orders".to_string())
        );
    }

    #[test]
    fn an_explicit_queue_url_wins_over_the_path() {
        let mut input = Value::map();
        input.insert(QUEUE_URL, Value::Str("http://h/111111111111/other".into()));
        assert_eq!(
            filled(
                Protocol::Query,
                "SendMessage",
                input,
                "/000000000000/orders"
            ),
            Some("http://h/111111111111/other".to_string())
        );
    }

    #[test]
    fn other_paths_protocols_and_operations_are_left_alone() {
        assert_eq!(
            filled(Protocol::Query, "SendMessage", Value::map(), "/"),
            None
        );
        assert_eq!(
            filled(
                Protocol::Json,
                "SendMessage",
                Value::map(),
                "/000000000000/orders"
            ),
            None
        );
        assert_eq!(
            filled(
                Protocol::Query,
                "ListQueues",
                Value::map(),
                "/000000000000/orders"
            ),
            None
        );
    }
}
