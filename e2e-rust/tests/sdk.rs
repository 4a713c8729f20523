//! aws-sdk-rust against the release binary: the Rust SDK speaks the JSON protocol to
//! SQS and the query protocol to STS, and must see AWS's shapes and error codes.

use kagami_e2e_rust::{config, start};

#[tokio::test]
async fn sqs_send_receive_delete_round_trip() {
    let k = start();
    let sqs = aws_sdk_sqs::Client::new(&config(&k.endpoint, "test", "test", None).await);
    let url = sqs.create_queue().queue_name("e2e-rust").send().await.unwrap().queue_url.unwrap();
    assert!(url.ends_with("/000000000000/e2e-rust"), "{url}");
    let sent = sqs.send_message().queue_url(&url).message_body("hello from rust").send().await.unwrap();
    assert_eq!(sent.md5_of_message_body.as_deref(), Some("c2d91083db45a033f3a16b252cf8394e"));
    let got = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let messages = got.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body.as_deref(), Some("hello from rust"));
    assert_eq!(messages[0].message_id, sent.message_id);
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(messages[0].receipt_handle.clone().unwrap())
        .send()
        .await
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages], "0");
}

#[tokio::test]
async fn sqs_missing_queue_is_queue_does_not_exist() {
    let k = start();
    let sqs = aws_sdk_sqs::Client::new(&config(&k.endpoint, "test", "test", None).await);
    let err = sqs.get_queue_url().queue_name("no-such-queue").send().await.unwrap_err();
    let service_err = err.into_service_error();
    assert!(service_err.is_queue_does_not_exist(), "{service_err:?}");
}

#[tokio::test]
async fn sts_assumed_role_credentials_identify_the_role() {
    let k = start();
    let sts = aws_sdk_sts::Client::new(&config(&k.endpoint, "test", "test", None).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account.as_deref(), Some("000000000000"));
    assert_eq!(me.arn.as_deref(), Some("arn:aws:iam::000000000000:root"));

    let assumed = sts
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/e2e")
        .role_session_name("rust-session")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials.unwrap();
    assert!(creds.access_key_id.starts_with("ASIA"));
    let as_role = aws_sdk_sts::Client::new(
        &config(&k.endpoint, &creds.access_key_id, &creds.secret_access_key, Some(creds.session_token)).await,
    );
    let who = as_role.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account.as_deref(), Some("111111111111"));
    assert_eq!(who.arn.as_deref(), Some("arn:aws:sts::111111111111:assumed-role/e2e/rust-session"));
}

#[tokio::test]
async fn sqs_fifo_batch_keeps_group_order_and_deduplicates() {
    use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
    let k = start();
    let sqs = aws_sdk_sqs::Client::new(&config(&k.endpoint, "test", "test", None).await);
    let url = sqs
        .create_queue()
        .queue_name("e2e.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let entries: Vec<_> = ["first", "second", "first"]
        .iter()
        .enumerate()
        .map(|(i, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(*body)
                .message_group_id("g")
                .build()
                .unwrap()
        })
        .collect();
    let sent = sqs.send_message_batch().queue_url(&url).set_entries(Some(entries)).send().await.unwrap();
    assert_eq!(sent.successful.len(), 3);
    assert!(sent.failed.is_empty());
    // The third entry repeats the first body: content-based deduplication drops it but
    // still reports success with the first message's id.
    assert_eq!(sent.successful[0].message_id, sent.successful[2].message_id);

    let got = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<_> = got.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect();
    assert_eq!(bodies, vec!["first".to_string(), "second".to_string()]);
}

#[tokio::test]
async fn sts_rejects_a_too_short_role_session_name() {
    let k = start();
    let sts = aws_sdk_sts::Client::new(&config(&k.endpoint, "test", "test", None).await);
    let err = sts
        .assume_role()
        .role_arn("arn:aws:iam::000000000000:role/r")
        .role_session_name("x")
        .send()
        .await
        .unwrap_err();
    let meta = err.into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&meta), Some("ValidationError"));
}
