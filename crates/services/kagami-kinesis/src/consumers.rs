//! Enhanced fan-out consumers, registered and listed. SubscribeToShard is not
//! implemented, so a consumer is a record with a name, an ARN and tags.

use crate::errors::{constraint, invalid, limit};
use crate::generated::*;
use crate::state::{ConsumerRecord, Kinesis, Stream, parse_stream_arn, resolve_name};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html
const MAX_CONSUMERS: usize = 20;
const MAX_CONSUMER_NAME: usize = 128;
/// The model accepts up to 10,000; at most 100 come back a page.
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListStreamConsumers.html
const LIST_CONSUMERS_PAGE: i32 = 100;
const LIST_CONSUMERS_MAX: i32 = 10_000;

fn validate_consumer_name(name: &str) -> Result<(), KinesisError> {
    if name.is_empty() || name.len() > MAX_CONSUMER_NAME {
        return Err(constraint(name, "consumerName", "Member must have length between 1 and 128"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(constraint(name, "consumerName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
    }
    Ok(())
}

fn consumer(c: &ConsumerRecord) -> Consumer {
    Consumer {
        consumer_name: c.name.clone(),
        consumer_arn: c.arn.clone(),
        consumer_status: "ACTIVE".into(),
        consumer_creation_timestamp: Timestamp::from_millis(c.created_ms),
    }
}

/// The stream a consumer ARN (`STREAM_ARN/consumer/NAME:TIMESTAMP`) belongs to.
fn stream_of_consumer_arn(ctx: &RequestContext, arn: &str) -> Result<String, KinesisError> {
    let (stream_arn, _) = arn
        .split_once("/consumer/")
        .ok_or_else(|| constraint(arn, "consumerARN", "Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"))?;
    parse_stream_arn(stream_arn)?;
    resolve_name(ctx, None, Some(stream_arn))
}

/// Which consumer a request means: by ARN, or by stream ARN and name.
fn locate(ctx: &RequestContext, stream_arn: Option<&str>, name: Option<&str>, arn: Option<&str>) -> Result<(String, Selector), KinesisError> {
    match (arn, stream_arn, name) {
        (Some(arn), _, _) => Ok((stream_of_consumer_arn(ctx, arn)?, Selector::Arn(arn.to_string()))),
        (None, Some(stream_arn), Some(name)) => Ok((resolve_name(ctx, None, Some(stream_arn))?, Selector::Name(name.to_string()))),
        _ => Err(invalid("Either ConsumerARN or both ConsumerName and StreamARN must be provided.")),
    }
}

enum Selector {
    Arn(String),
    Name(String),
}

fn find(stream: &Stream, selector: &Selector) -> Result<usize, KinesisError> {
    let position = match selector {
        Selector::Arn(a) => stream.rec.consumers.iter().position(|c| &c.arn == a),
        Selector::Name(n) => stream.rec.consumers.iter().position(|c| &c.name == n),
    };
    position.ok_or_else(|| {
        let what = match selector {
            Selector::Arn(a) => a.clone(),
            Selector::Name(n) => n.clone(),
        };
        KinesisError::ResourceNotFoundException(format!("Consumer {what} under stream {} not found.", stream.rec.name))
    })
}

impl Kinesis {
    pub async fn register_stream_consumer(
        &self,
        ctx: &RequestContext,
        input: RegisterStreamConsumerInput,
    ) -> Result<RegisterStreamConsumerOutput, ServiceError> {
        let name = resolve_name(ctx, None, Some(&input.stream_arn))?;
        validate_consumer_name(&input.consumer_name)?;
        let now = clock::now_millis();
        let tags = input.tags.unwrap_or_default().into_iter().collect();
        crate::tags::check_tags(&tags)?;
        self.with_stream(ctx, &name, |stream, ops| {
            if stream.rec.consumers.iter().any(|c| c.name == input.consumer_name) {
                return Err(KinesisError::ResourceInUseException(format!(
                    "Consumer {} under stream {} already exists for account {}.",
                    input.consumer_name, stream.rec.name, stream.rec.account
                )));
            }
            if stream.rec.consumers.len() >= MAX_CONSUMERS {
                return Err(KinesisError::LimitExceededException(format!(
                    "Consumer limit of {MAX_CONSUMERS} has been reached for stream {}.",
                    stream.rec.name
                )));
            }
            let rec = ConsumerRecord {
                name: input.consumer_name.clone(),
                arn: format!("{}/consumer/{}:{}", stream.arn(), input.consumer_name, now.div_euclid(1000)),
                created_ms: now,
                tags,
            };
            let out = consumer(&rec);
            stream.rec.consumers.push(rec);
            ops.push(stream.record_op());
            Ok(RegisterStreamConsumerOutput { consumer: out })
        })
        .await
    }

    pub async fn describe_stream_consumer(
        &self,
        ctx: &RequestContext,
        input: DescribeStreamConsumerInput,
    ) -> Result<DescribeStreamConsumerOutput, ServiceError> {
        let (name, selector) = locate(ctx, input.stream_arn.as_deref(), input.consumer_name.as_deref(), input.consumer_arn.as_deref())?;
        self.with_stream(ctx, &name, |stream, _| {
            let i = find(stream, &selector)?;
            let c = &stream.rec.consumers[i];
            Ok(DescribeStreamConsumerOutput {
                consumer_description: ConsumerDescription {
                    consumer_name: c.name.clone(),
                    consumer_arn: c.arn.clone(),
                    consumer_status: "ACTIVE".into(),
                    consumer_creation_timestamp: Timestamp::from_millis(c.created_ms),
                    stream_arn: stream.arn(),
                },
            })
        })
        .await
    }

    pub async fn list_stream_consumers(&self, ctx: &RequestContext, input: ListStreamConsumersInput) -> Result<ListStreamConsumersOutput, ServiceError> {
        let name = resolve_name(ctx, None, Some(&input.stream_arn))?;
        let limit = limit(input.max_results, "maxResults", LIST_CONSUMERS_MAX, LIST_CONSUMERS_PAGE)?.min(usize::try_from(LIST_CONSUMERS_PAGE).unwrap_or(1));
        let start = match input.next_token.as_deref() {
            None => 0,
            Some(t) => URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| invalid(format!("Invalid NextToken: {t}")))?,
        };
        self.with_stream(ctx, &name, |stream, _| {
            let all: Vec<Consumer> = stream.rec.consumers.iter().map(consumer).collect();
            let end = start.saturating_add(limit).min(all.len());
            let page = all.get(start.min(end)..end).unwrap_or_default().to_vec();
            let next_token = (end < all.len()).then(|| URL_SAFE_NO_PAD.encode(end.to_string()));
            Ok(ListStreamConsumersOutput { consumers: Some(page), next_token })
        })
        .await
    }

    pub async fn deregister_stream_consumer(&self, ctx: &RequestContext, input: DeregisterStreamConsumerInput) -> Result<(), ServiceError> {
        let (name, selector) = locate(ctx, input.stream_arn.as_deref(), input.consumer_name.as_deref(), input.consumer_arn.as_deref())?;
        self.with_stream(ctx, &name, |stream, ops| {
            let i = find(stream, &selector)?;
            stream.rec.consumers.remove(i);
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }
}
