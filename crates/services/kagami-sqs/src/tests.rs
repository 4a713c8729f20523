//! Provider-level tests: the typed API end to end, including long polling, the emulated
//! clock and durable reloads. The clock is process-wide, so these tests run one at a time.

use crate::SqsProvider;
use crate::generated::*;
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store, clock};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ctx() -> RequestContext {
    RequestContext::system("000000000000", "us-east-1", "sqs")
}

async fn queue(p: &SqsProvider, name: &str, attributes: &[(&str, &str)]) -> String {
    let attributes = attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let input = CreateQueueRequest { queue_name: name.into(), attributes: Some(attributes), tags: None };
    p.create_queue(&ctx(), input).await.unwrap().queue_url.unwrap()
}

async fn send(p: &SqsProvider, url: &str, body: &str) -> SendMessageResult {
    let input = SendMessageRequest { queue_url: url.into(), message_body: body.into(), ..Default::default() };
    p.send_message(&ctx(), input).await.unwrap()
}

async fn receive(p: &SqsProvider, url: &str, wait: Option<i32>) -> Vec<Message> {
    let input = ReceiveMessageRequest {
        queue_url: url.into(),
        max_number_of_messages: Some(10),
        wait_time_seconds: wait,
        message_system_attribute_names: Some(vec!["All".into()]),
        ..Default::default()
    };
    p.receive_message(&ctx(), input).await.unwrap().messages.unwrap_or_default()
}

fn receive_count(m: &Message) -> Option<&str> {
    m.attributes.as_ref()?.get("ApproximateReceiveCount").map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_returns_as_soon_as_a_message_is_sent() {
    let _serial = SERIAL.lock().await;
    let p = Arc::new(SqsProvider::new(&ServiceEnv::ephemeral()).unwrap());
    let url = queue(&p, "lp", &[]).await;
    let sender = {
        let (p, url) = (Arc::clone(&p), url.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            send(&p, &url, "wake").await
        })
    };
    let started = Instant::now();
    let got = receive(&p, &url, Some(20)).await;
    assert_eq!(got.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(sender.await.unwrap().message_id, got[0].message_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_advance_ends_delays_and_wakes_long_polls() {
    let _serial = SERIAL.lock().await;
    let p = Arc::new(SqsProvider::new(&ServiceEnv::ephemeral()).unwrap());
    let url = queue(&p, "delayed", &[("DelaySeconds", "900")]).await;
    send(&p, &url, "later").await;
    assert!(receive(&p, &url, None).await.is_empty());
    let poller = {
        let (p, url) = (Arc::clone(&p), url.clone());
        tokio::spawn(async move { receive(&p, &url, Some(20)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    clock::advance(Duration::from_secs(900));
    let got = poller.await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn visibility_timeout_ends_with_the_clock() {
    let _serial = SERIAL.lock().await;
    let p = SqsProvider::new(&ServiceEnv::ephemeral()).unwrap();
    let url = queue(&p, "vt", &[("VisibilityTimeout", "120")]).await;
    send(&p, &url, "x").await;
    assert_eq!(receive(&p, &url, None).await.len(), 1);
    clock::advance(Duration::from_secs(119));
    assert!(receive(&p, &url, None).await.is_empty());
    clock::advance(Duration::from_secs(2));
    let again = receive(&p, &url, None).await;
    assert_eq!(receive_count(&again[0]), Some("2"));
}

#[tokio::test]
async fn exhausted_messages_move_to_the_dead_letter_queue() {
    let _serial = SERIAL.lock().await;
    let p = SqsProvider::new(&ServiceEnv::ephemeral()).unwrap();
    let dlq = queue(&p, "dlq", &[]).await;
    let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1}"#;
    let src = queue(&p, "src", &[("RedrivePolicy", policy), ("VisibilityTimeout", "0")]).await;
    send(&p, &src, "poison").await;
    assert_eq!(receive(&p, &src, None).await.len(), 1);
    assert!(receive(&p, &src, None).await.is_empty());
    let moved = receive(&p, &dlq, None).await;
    let attrs = moved[0].attributes.clone().unwrap_or_default();
    assert_eq!(
        attrs.get("DeadLetterQueueSourceArn").map(String::as_str),
        Some("arn:aws:sqs:us-east-1:000000000000:src")
    );
}

#[tokio::test]
async fn durable_state_reloads_with_receive_counts() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let env = || ServiceEnv { store: Store::open(dir.path()).unwrap(), ..ServiceEnv::ephemeral() };
    let (url, kept, deleted) = {
        let p = SqsProvider::new(&env()).unwrap();
        let url = queue(&p, "durable", &[("VisibilityTimeout", "0")]).await;
        let kept = send(&p, &url, "kept").await.message_id.unwrap();
        let deleted = send(&p, &url, "deleted").await.message_id.unwrap();
        for m in receive(&p, &url, None).await {
            if m.message_id.as_deref() == Some(deleted.as_str()) {
                let input = DeleteMessageRequest { queue_url: url.clone(), receipt_handle: m.receipt_handle.unwrap() };
                p.delete_message(&ctx(), input).await.unwrap();
            }
        }
        (url, kept, deleted)
    };
    let p = SqsProvider::new(&env()).unwrap();
    let got = receive(&p, &url, None).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id.as_deref(), Some(kept.as_str()));
    assert_ne!(got[0].message_id.as_deref(), Some(deleted.as_str()));
    assert_eq!(receive_count(&got[0]), Some("2"));
}

#[tokio::test]
async fn malformed_input_uses_sqs_codes() {
    let p = SqsProvider::new(&ServiceEnv::ephemeral()).unwrap();
    let missing =
        p.input_error("GetQueueUrl", kagami_protocol::shapes::ShapeError::Missing { member: "QueueName".into() });
    assert_eq!(
        (missing.code.as_str(), missing.query_code.as_deref(), missing.message.as_str()),
        ("MissingParameter", Some("MissingParameter"), "The request must contain the parameter QueueName.")
    );
    let invalid: ServiceError = p.input_error(
        "ReceiveMessage",
        kagami_protocol::shapes::ShapeError::Invalid {
            member: "MaxNumberOfMessages".into(),
            detail: "expected integer".into(),
        },
    );
    assert_eq!(invalid.code, "InvalidParameterValue");
}

#[tokio::test]
async fn queue_does_not_exist_is_worded_for_the_protocol_of_the_request() {
    let p = SqsProvider::new(&ServiceEnv::ephemeral()).unwrap();
    let input = || GetQueueUrlRequest { queue_name: "missing".into(), ..Default::default() };
    let json = p.get_queue_url(&ctx(), input()).await.unwrap_err();
    assert_eq!(json.message, "The specified queue does not exist.");
    let mut query = ctx();
    query.protocol = kagami_core::Protocol::Query;
    let e = p.get_queue_url(&query, input()).await.unwrap_err();
    assert_eq!(e.message, "The specified queue does not exist for this wsdl version.");
    assert_eq!(e.query_code.as_deref(), Some("AWS.SimpleQueueService.NonExistentQueue"));
}

#[tokio::test]
async fn deduplication_ids_and_deleted_queue_marks_survive_a_reload() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let env = || ServiceEnv { store: Store::open(dir.path()).unwrap(), ..ServiceEnv::ephemeral() };
    let fifo_send = |url: &str| SendMessageRequest {
        queue_url: url.into(),
        message_body: "x".into(),
        message_group_id: Some("g".into()),
        message_deduplication_id: Some("d".into()),
        ..Default::default()
    };
    let (url, first) = {
        let p = SqsProvider::new(&env()).unwrap();
        let url = queue(&p, "dedup.fifo", &[("FifoQueue", "true")]).await;
        let first = p.send_message(&ctx(), fifo_send(&url)).await.unwrap();
        let gone = queue(&p, "gone", &[]).await;
        p.delete_queue(&ctx(), DeleteQueueRequest { queue_url: gone }).await.unwrap();
        (url, first)
    };
    let p = SqsProvider::new(&env()).unwrap();
    let again = p.send_message(&ctx(), fifo_send(&url)).await.unwrap();
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.sequence_number, first.sequence_number);
    assert_eq!(receive(&p, &url, None).await.len(), 1);
    let input = CreateQueueRequest { queue_name: "gone".into(), ..Default::default() };
    let e = p.create_queue(&ctx(), input).await.unwrap_err();
    assert_eq!(e.code, "QueueDeletedRecently");
    assert_eq!(e.query_code.as_deref(), Some("AWS.SimpleQueueService.QueueDeletedRecently"));
    assert_eq!(e.status, 400);
}

#[tokio::test]
async fn stored_move_tasks_reload_and_orphans_are_dropped() {
    use crate::persistence::{self, MoveTaskRecord};
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let p = SqsProvider::new(&ServiceEnv { store: store.clone(), ..ServiceEnv::ephemeral() }).unwrap();
    queue(&p, "dlq", &[]).await;
    let arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
    let record = |status: &str| MoveTaskRecord {
        task_handle: format!("handle-{status}"),
        source_arn: arn.into(),
        destination_arn: None,
        max_per_second: None,
        started_timestamp: 1,
        to_move: 3,
        moved: 2,
        status: status.into(),
        failure_reason: None,
    };
    let key = persistence::queue_key("000000000000", "us-east-1", "dlq");
    store
        .commit(vec![
            persistence::put_move_task(&persistence::move_task_key(&key, 1, "a"), &record("CANCELLING")),
            persistence::put_move_task(&persistence::move_task_key("000000000000/us-east-1/gone", 1, "b"), &record("RUNNING")),
        ])
        .await
        .unwrap();
    drop(p);
    let p = SqsProvider::new(&ServiceEnv { store: store.clone(), ..ServiceEnv::ephemeral() }).unwrap();
    let listed = p
        .list_message_move_tasks(&ctx(), ListMessageMoveTasksRequest { source_arn: arn.into(), max_results: Some(10) })
        .await
        .unwrap()
        .results
        .unwrap_or_default();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status.as_deref(), Some("CANCELLED"));
    assert_eq!(listed[0].approximate_number_of_messages_moved, Some(2));
    // Commits are applied in order: once this one is, so is the orphan's deletion.
    store.commit(vec![kagami_core::store::StoreOp::delete(persistence::MOVE_TASKS, "flush")]).await.unwrap();
    drop(p);
    let keys: Vec<String> = store.scan(persistence::MOVE_TASKS).unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&key));
}

#[tokio::test]
async fn extreme_numbers_and_foreign_receipt_handles_are_refused_with_sqs_codes() {
    let _serial = SERIAL.lock().await;
    let p = SqsProvider::new(&ServiceEnv::ephemeral()).unwrap();
    let url = queue(&p, "hostile", &[]).await;
    let extremes = [Some(i32::MAX), Some(i32::MIN), Some(-1)];
    for n in extremes {
        for input in [
            ReceiveMessageRequest { max_number_of_messages: n, ..Default::default() },
            ReceiveMessageRequest { visibility_timeout: n, ..Default::default() },
            ReceiveMessageRequest { wait_time_seconds: n, ..Default::default() },
        ] {
            let input = ReceiveMessageRequest { queue_url: url.clone(), ..input };
            let e = p.receive_message(&ctx(), input).await.unwrap_err();
            assert_eq!(e.code, "InvalidParameterValue", "{n:?}: {}", e.message);
        }
        let input = SendMessageRequest {
            queue_url: url.clone(),
            message_body: "x".into(),
            delay_seconds: n,
            ..Default::default()
        };
        assert_eq!(p.send_message(&ctx(), input).await.unwrap_err().code, "InvalidParameterValue");
    }
    send(&p, &url, "x").await;
    let handle = receive(&p, &url, None).await[0].receipt_handle.clone().unwrap();
    for timeout in [i32::MAX, i32::MIN] {
        let input = ChangeMessageVisibilityRequest {
            queue_url: url.clone(),
            receipt_handle: handle.clone(),
            visibility_timeout: timeout,
        };
        assert_eq!(p.change_message_visibility(&ctx(), input).await.unwrap_err().code, "InvalidParameterValue");
    }
    // Multi-byte text where base64 is expected, base64 of bytes that are not UTF-8, and
    // base64 of text that is no handle.
    for bad in ["é漢字🦀", "/w==", "YWJj"] {
        let input = DeleteMessageRequest { queue_url: url.clone(), receipt_handle: bad.into() };
        let e = p.delete_message(&ctx(), input).await.unwrap_err();
        assert_eq!(e.code, "ReceiptHandleIsInvalid", "{bad:?}");
    }
}
