//! The service as other services reach it through `Peers`: operation names and input
//! `Value`s with the model's member names.

use crate::new_service;
use kagami_core::{RequestContext, ServiceEnv, Value};

fn input(pairs: &[(&str, &str)]) -> Value {
    let mut v = Value::map();
    for (k, s) in pairs {
        v.insert(*k, Value::from(*s));
    }
    v
}

#[tokio::test]
async fn a_peer_publishes_with_topic_arn_and_message_only() {
    let sns = new_service(&ServiceEnv::ephemeral()).unwrap();
    let ctx = RequestContext::system("111111111111", "eu-west-1", "lambda");
    let out = sns.handle(&ctx, "CreateTopic", input(&[("Name", "failures")])).await.unwrap();
    let arn = out.get("TopicArn").and_then(Value::as_str).unwrap().to_string();
    assert_eq!(arn, "arn:aws:sns:eu-west-1:111111111111:failures");
    // A subscriber whose queue cannot be reached does not fail the publish.
    let sub = input(&[("TopicArn", &arn), ("Protocol", "sqs"), ("Endpoint", "arn:aws:sqs:eu-west-1:111111111111:q")]);
    sns.handle(&ctx, "Subscribe", sub).await.unwrap();
    let out = sns.handle(&ctx, "Publish", input(&[("TopicArn", &arn), ("Message", "{\"failed\":true}")])).await.unwrap();
    assert_eq!(out.get("MessageId").and_then(Value::as_str).map(str::len), Some(36));
}

#[tokio::test]
async fn a_missing_required_member_is_a_validation_error() {
    let sns = new_service(&ServiceEnv::ephemeral()).unwrap();
    let ctx = RequestContext::system("111111111111", "us-east-1", "lambda");
    let err = sns.handle(&ctx, "Publish", input(&[("TopicArn", "arn:aws:sns:us-east-1:111111111111:t")])).await.unwrap_err();
    assert_eq!(err.code, "ValidationError");
    assert!(err.message.contains("'message'"), "{}", err.message);
    let err = sns.handle(&ctx, "Publish", input(&[("TopicArn", "arn:aws:sns:us-east-1:111111111111:t"), ("Message", "m")])).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.message.as_str()), ("NotFound", "Topic does not exist"));
}
