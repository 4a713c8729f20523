//! CreateEventSourceMapping, GetEventSourceMapping, UpdateEventSourceMapping,
//! DeleteEventSourceMapping and ListEventSourceMappings, with AWS's validation.
//! <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>

use super::filter::Filters;
use super::record::{Kind, Mapping};
use super::source::Source;
use super::{EventSourceMappings, MAPPINGS};
use crate::errors::validation;
use crate::function::function_arn;
use crate::generated::*;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Value, clock};

/// BatchSize: the model allows 1-10000 for every source; SQS defaults to 10, streams to
/// 100, and a FIFO queue takes at most 10.
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-BatchSize>
const MAX_BATCH_SIZE: i32 = 10_000;
const SQS_DEFAULT_BATCH_SIZE: i32 = 10;
const STREAM_DEFAULT_BATCH_SIZE: i32 = 100;
const FIFO_MAX_BATCH_SIZE: i32 = 10;
/// Above this batch size an SQS mapping needs a batching window.
const SQS_UNWINDOWED_MAX: i32 = 10;
const MAX_BATCHING_WINDOW: i32 = 300;
/// MaximumRetryAttempts -1..10000, MaximumRecordAgeInSeconds -1..604800 (the model; the
/// service also refuses 0..59),
/// ParallelizationFactor 1..10, TumblingWindowInSeconds 0..900, MaximumConcurrency 2..1000.
const MAX_RETRY_ATTEMPTS: i32 = 10_000;
const MAX_RECORD_AGE: i32 = 604_800;
const MIN_RECORD_AGE: i32 = 60;
const MAX_PARALLELIZATION: i32 = 10;
const MAX_TUMBLING_WINDOW: i32 = 900;
const MIN_CONCURRENCY: i32 = 2;
const MAX_CONCURRENCY: i32 = 1000;
/// ListEventSourceMappings: MaxItems 1-10000, 100 a page by default.
const LIST_DEFAULT: usize = 100;

fn invalid(message: impl Into<String>) -> ServiceError {
    LambdaError::InvalidParameterValueException(message.into()).into()
}

fn resource_not_found() -> ServiceError {
    LambdaError::ResourceNotFoundException("The resource you requested does not exist.".into()).into()
}

fn range(member: &str, value: Option<i32>, min: i32, max: i32) -> Result<(), ServiceError> {
    match value {
        Some(v) if v < min => Err(validation(&format!(
            "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        ))),
        Some(v) if v > max => Err(validation(&format!(
            "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
        _ => Ok(()),
    }
}

/// The model's limits on numbers, common to create and update.
struct Limits<'a> {
    batch_size: Option<i32>,
    window: Option<i32>,
    retries: Option<i32>,
    record_age: Option<i32>,
    parallelization: Option<i32>,
    tumbling: Option<i32>,
    scaling: Option<&'a ScalingConfig>,
    response_types: Option<&'a [String]>,
}

/// The limits of a Create or Update request (their fields share names, not a type).
macro_rules! limits_of {
    ($input:expr) => {
        Limits {
            batch_size: $input.batch_size,
            window: $input.maximum_batching_window_in_seconds,
            retries: $input.maximum_retry_attempts,
            record_age: $input.maximum_record_age_in_seconds,
            parallelization: $input.parallelization_factor,
            tumbling: $input.tumbling_window_in_seconds,
            scaling: $input.scaling_config.as_ref(),
            response_types: $input.function_response_types.as_deref(),
        }
    };
}

impl Limits<'_> {
    fn check(&self) -> Result<(), ServiceError> {
        range("batchSize", self.batch_size, 1, MAX_BATCH_SIZE)?;
        range("maximumBatchingWindowInSeconds", self.window, 0, MAX_BATCHING_WINDOW)?;
        range("maximumRetryAttempts", self.retries, -1, MAX_RETRY_ATTEMPTS)?;
        range("maximumRecordAgeInSeconds", self.record_age, -1, MAX_RECORD_AGE)?;
        range("parallelizationFactor", self.parallelization, 1, MAX_PARALLELIZATION)?;
        range("tumblingWindowInSeconds", self.tumbling, 0, MAX_TUMBLING_WINDOW)?;
        range(
            "scalingConfig.maximumConcurrency",
            self.scaling.and_then(|s| s.maximum_concurrency),
            MIN_CONCURRENCY,
            MAX_CONCURRENCY,
        )?;
        if let Some(types) = self.response_types
            && let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures")
        {
            return Err(validation(&format!(
                "Value '[{bad}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]"
            )));
        }
        Ok(())
    }
}

/// MaximumRecordAgeInSeconds: -1 (forever) or at least a minute, beyond the model's range.
fn check_record_age(age: Option<i32>) -> Result<(), ServiceError> {
    match age {
        Some(a) if a != -1 && a < MIN_RECORD_AGE => {
            Err(invalid(format!("MaximumRecordAgeInSeconds must be either -1 (forever) or between {MIN_RECORD_AGE} and {MAX_RECORD_AGE} (inclusive)")))
        }
        _ => Ok(()),
    }
}

fn filter_patterns(criteria: Option<&FilterCriteria>) -> Result<Option<Vec<String>>, ServiceError> {
    let Some(criteria) = criteria else { return Ok(None) };
    let mut patterns = Vec::new();
    for f in criteria.filters.iter().flatten() {
        let p = f.pattern.clone().ok_or_else(|| invalid("Invalid filter pattern definition."))?;
        patterns.push(p);
    }
    if Filters::parse(&patterns).is_none() {
        return Err(invalid("Invalid filter pattern definition."));
    }
    // An empty FilterCriteria clears the filters.
    Ok((!patterns.is_empty()).then_some(patterns))
}

/// The OnFailure destination of a stream mapping: kagami delivers to SQS queues.
fn on_failure(kind: Kind, config: Option<&DestinationConfig>) -> Result<Option<String>, ServiceError> {
    let Some(config) = config else { return Ok(None) };
    if kind == Kind::Sqs || config.on_success.as_ref().is_some_and(|s| s.destination.is_some()) {
        return Err(invalid("Unsupported DestinationConfig parameter for given event source mapping type."));
    }
    let destination = config.on_failure.as_ref().and_then(|f| f.destination.clone()).filter(|d| !d.is_empty());
    if let Some(d) = &destination
        && !matches!(Source::parse(d), Source::Sqs { .. })
        && !d.starts_with("arn:aws:sns:")
    {
        return Err(invalid(format!("The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination={d})) is invalid.")));
    }
    Ok(destination)
}

impl EventSourceMappings {
    /// The function a mapping names, as (its ARN with qualifier, its context).
    fn function_arn(&self, ctx: &RequestContext, name: &str) -> Result<String, ServiceError> {
        let (base, qualifier) = crate::validate::function_name(name)?;
        match self.lambda.function(ctx, name, None) {
            Ok(_) => {}
            Err(e) if e.code == "ResourceNotFoundException" => return Err(invalid("Function does not exist")),
            Err(e) => return Err(e),
        }
        let arn = function_arn(&ctx.region, &ctx.account_id, base);
        Ok(match qualifier {
            Some(q) => format!("{arn}:{q}"),
            None => arn,
        })
    }

    /// Checks that the queue exists, as AWS does by reading it with the function's role.
    async fn check_queue(&self, region: &str, account: &str, name: &str) -> Result<(), ServiceError> {
        if super::sqs::queue_url(&self.peers, region, account, name).await.is_err() {
            return Err(invalid(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.",
            ));
        }
        Ok(())
    }

    /// Checks that the stream (and the Kinesis consumer) exists.
    async fn check_stream(&self, arn: &str, source: &Source) -> Result<(), ServiceError> {
        let calls: Vec<(&str, &str, &str, &str)> = match source {
            Source::DynamoDbStream { region, account } => {
                vec![(region.as_str(), account.as_str(), "dynamodbstreams", "DescribeStream")]
            }
            Source::Kinesis { region, account, consumer, .. } => {
                let mut calls = vec![(region.as_str(), account.as_str(), "kinesis", "DescribeStreamSummary")];
                if consumer.is_some() {
                    calls.push((region.as_str(), account.as_str(), "kinesis", "DescribeStreamConsumer"));
                }
                calls
            }
            _ => return Err(invalid(format!("Stream not found: {arn}"))),
        };
        for (region, account, service, op) in calls {
            let ctx = self.peers.system_context(account, region, "lambda");
            let mut input = Value::map();
            match (source, op) {
                (Source::Kinesis { stream, .. }, "DescribeStreamSummary") => input.insert("StreamName", Value::from(stream.as_str())),
                (_, "DescribeStreamConsumer") => input.insert("ConsumerARN", Value::from(arn)),
                _ => input.insert("StreamArn", Value::from(arn)),
            }
            match self.peers.call(&ctx, service, op, input).await {
                Ok(_) => {}
                Err(e) if e.code == "ResourceNotFoundException" || e.code == "ValidationException" => {
                    return Err(invalid(format!("Stream not found: {arn}")));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: CreateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        let Some(arn) = input.event_source_arn.clone() else {
            return Err(invalid("Unrecognized event source, must be kafka or specify an EventSourceArn"));
        };
        limits_of!(input).check()?;
        if let Some(p) = &input.starting_position
            && !matches!(p.as_str(), "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP")
        {
            return Err(validation(&format!(
                "Value '{p}' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
            )));
        }
        let source = Source::parse(&arn);
        let kind = match &source {
            Source::Sqs { .. } => Kind::Sqs,
            Source::DynamoDbStream { .. } => Kind::DynamoDbStream,
            Source::Kinesis { .. } => Kind::Kinesis,
            Source::Other => {
                return Err(invalid(format!(
                    "Unrecognized event source: kagami reads SQS queues, DynamoDB streams and Kinesis streams, not {arn}"
                )));
            }
        };
        let batch_size = input.batch_size.unwrap_or(if kind == Kind::Sqs { SQS_DEFAULT_BATCH_SIZE } else { STREAM_DEFAULT_BATCH_SIZE });
        let window = input.maximum_batching_window_in_seconds.unwrap_or(0);
        if source.is_stream() {
            let Some(position) = &input.starting_position else {
                return Err(invalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."));
            };
            if input.starting_position_timestamp.is_some() && position != "AT_TIMESTAMP" {
                return Err(invalid("Timestamp only valid with StartingPosition AT_TIMESTAMP"));
            }
            if matches!(source, Source::DynamoDbStream { .. }) && position == "AT_TIMESTAMP" {
                return Err(invalid(format!("Unsupported starting position for arn type: {arn}")));
            }
            if position == "AT_TIMESTAMP" && input.starting_position_timestamp.is_none() {
                return Err(invalid("StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP"));
            }
            check_record_age(input.maximum_record_age_in_seconds)?;
        } else {
            if input.starting_position.is_some() || input.starting_position_timestamp.is_some() {
                return Err(invalid("StartingPosition is not valid for SQS event sources."));
            }
            if batch_size > SQS_UNWINDOWED_MAX && window == 0 {
                return Err(invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"));
            }
            if let Source::Sqs { name, .. } = &source
                && name.ends_with(".fifo")
                && batch_size > FIFO_MAX_BATCH_SIZE
            {
                return Err(invalid(format!("BatchSize {batch_size} exceeds the max of {FIFO_MAX_BATCH_SIZE}")));
            }
        }
        let filters = filter_patterns(input.filter_criteria.as_ref())?;
        let on_failure = on_failure(kind, input.destination_config.as_ref())?;
        let fn_arn = self.function_arn(ctx, &input.function_name)?;
        match &source {
            Source::Sqs { region, account, name } => self.check_queue(region, account, name).await?,
            _ => self.check_stream(&arn, &source).await?,
        }

        let m = Mapping {
            uuid: kagami_core::ids::uuid_v4(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            kind,
            event_source_arn: arn.clone(),
            function_arn: fn_arn.clone(),
            enabled: input.enabled.unwrap_or(true),
            batch_size,
            maximum_batching_window_in_seconds: window,
            starting_position: input.starting_position,
            starting_position_timestamp: input.starting_position_timestamp.map(|t| t.as_millis()),
            filters,
            maximum_concurrency: input.scaling_config.and_then(|s| s.maximum_concurrency),
            function_response_types: input.function_response_types.unwrap_or_default(),
            maximum_record_age_in_seconds: input.maximum_record_age_in_seconds,
            bisect_batch_on_function_error: input.bisect_batch_on_function_error,
            maximum_retry_attempts: input.maximum_retry_attempts,
            parallelization_factor: input.parallelization_factor,
            tumbling_window_in_seconds: input.tumbling_window_in_seconds,
            on_failure,
            last_modified_millis: clock::now_millis(),
            last_processing_result: None,
        };
        let commit = {
            let mut mappings = self.mappings.write();
            if let Some(existing) = mappings.values().find(|o| {
                o.account == m.account && o.region == m.region && o.event_source_arn == arn && o.function_arn == fn_arn
            }) {
                let name = crate::validate::function_name(&input.function_name).map(|(n, _)| n.to_string()).unwrap_or_default();
                let message = match kind {
                    Kind::Sqs => format!(
                        "An event source mapping with SQS arn (\" {arn} \") and function (\" {name} \") already exists. Please update or delete the existing mapping with UUID {}",
                        existing.uuid
                    ),
                    Kind::DynamoDbStream | Kind::Kinesis => format!(
                        "The event source arn (\" {arn} \") and function (\" {name} \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                        existing.uuid
                    ),
                };
                return Err(LambdaError::ResourceConflictException(message).into());
            }
            mappings.insert(m.uuid.clone(), m.clone());
            self.submit(&m)
        };
        Self::durable(commit, &m.uuid).await?;
        if m.starting_position.as_deref() == Some("LATEST") {
            match &source {
                Source::DynamoDbStream { region, account } => {
                    let reader = super::dynamodb::DynamoDbReader::new(&self.peers, &arn, region, account);
                    super::stream_poller::take_first_iterators(self, &m.uuid, &reader).await;
                }
                Source::Kinesis { region, account, stream, .. } => {
                    let reader = super::kinesis::KinesisReader::new(&self.peers, region, account, stream);
                    super::stream_poller::take_first_iterators(self, &m.uuid, &reader).await;
                }
                _ => {}
            }
        }
        if m.enabled {
            self.start(&m);
        }
        Ok(m.configuration("Creating"))
    }

    /// A mapping of the caller's account and region.
    fn mapping(&self, ctx: &RequestContext, uuid: &str) -> Result<Mapping, ServiceError> {
        self.get(uuid).filter(|m| m.account == ctx.account_id && m.region == ctx.region).ok_or_else(resource_not_found)
    }

    pub fn get_mapping(&self, ctx: &RequestContext, uuid: &str) -> Result<EventSourceMappingConfiguration, ServiceError> {
        let m = self.mapping(ctx, uuid)?;
        Ok(m.configuration(m.settled_state()))
    }

    pub async fn update(
        &self,
        ctx: &RequestContext,
        input: UpdateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ServiceError> {
        let current = self.mapping(ctx, &input.uuid)?;
        limits_of!(input).check()?;
        let mut m = current.clone();
        if let Some(name) = &input.function_name {
            m.function_arn = self.function_arn(ctx, name)?;
        }
        if let Some(b) = input.batch_size {
            m.batch_size = b;
        }
        if let Some(w) = input.maximum_batching_window_in_seconds {
            m.maximum_batching_window_in_seconds = w;
        }
        if m.kind == Kind::Sqs {
            if m.batch_size > SQS_UNWINDOWED_MAX && m.maximum_batching_window_in_seconds == 0 {
                return Err(invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"));
            }
            if m.event_source_arn.ends_with(".fifo") && m.batch_size > FIFO_MAX_BATCH_SIZE {
                return Err(invalid(format!("BatchSize {} exceeds the max of {FIFO_MAX_BATCH_SIZE}", m.batch_size)));
            }
        }
        if input.filter_criteria.is_some() {
            m.filters = filter_patterns(input.filter_criteria.as_ref())?;
        }
        if input.destination_config.is_some() {
            m.on_failure = on_failure(m.kind, input.destination_config.as_ref())?;
        }
        if let Some(s) = input.scaling_config {
            m.maximum_concurrency = s.maximum_concurrency;
        }
        if let Some(t) = input.function_response_types {
            m.function_response_types = t;
        }
        if input.maximum_record_age_in_seconds.is_some() {
            check_record_age(input.maximum_record_age_in_seconds)?;
            m.maximum_record_age_in_seconds = input.maximum_record_age_in_seconds;
        }
        if input.maximum_retry_attempts.is_some() {
            m.maximum_retry_attempts = input.maximum_retry_attempts;
        }
        if input.bisect_batch_on_function_error.is_some() {
            m.bisect_batch_on_function_error = input.bisect_batch_on_function_error;
        }
        if input.parallelization_factor.is_some() {
            m.parallelization_factor = input.parallelization_factor;
        }
        if input.tumbling_window_in_seconds.is_some() {
            m.tumbling_window_in_seconds = input.tumbling_window_in_seconds;
        }
        if let Some(e) = input.enabled {
            m.enabled = e;
        }
        m.last_modified_millis = clock::now_millis();
        let state = match (current.enabled, m.enabled) {
            (true, false) => "Disabling",
            (false, true) => "Enabling",
            _ => "Updating",
        };
        let commit = {
            let mut mappings = self.mappings.write();
            mappings.insert(m.uuid.clone(), m.clone());
            self.submit(&m)
        };
        Self::durable(commit, &m.uuid).await?;
        if m.enabled && !current.enabled {
            self.start(&m);
        } else if !m.enabled {
            self.stop(&m.uuid);
        }
        Ok(m.configuration(state))
    }

    pub async fn delete(&self, ctx: &RequestContext, uuid: &str) -> Result<EventSourceMappingConfiguration, ServiceError> {
        let m = self.mapping(ctx, uuid)?;
        self.stop(uuid);
        let commit = {
            let mut mappings = self.mappings.write();
            mappings.remove(uuid);
            self.store.submit(vec![StoreOp::delete(MAPPINGS, uuid.to_string()), StoreOp::delete_prefix(super::CHECKPOINTS, format!("{uuid}/"))])
        };
        self.forget_checkpoints(uuid);
        Self::durable(commit, uuid).await?;
        Ok(m.configuration("Deleting"))
    }

    pub fn list(&self, ctx: &RequestContext, input: ListEventSourceMappingsRequest) -> Result<ListEventSourceMappingsResponse, ServiceError> {
        range("maxItems", input.max_items, 1, MAX_BATCH_SIZE)?;
        let max = input.max_items.and_then(|n| usize::try_from(n).ok()).unwrap_or(LIST_DEFAULT);
        let function = match &input.function_name {
            Some(name) => {
                let (base, qualifier) = crate::validate::function_name(name)?;
                let arn = function_arn(&ctx.region, &ctx.account_id, base);
                Some(match qualifier {
                    Some(q) => format!("{arn}:{q}"),
                    None => arn,
                })
            }
            None => None,
        };
        let mappings = self.mappings.read();
        let mut page = Vec::new();
        let mut next_marker = None;
        for (uuid, m) in mappings.iter() {
            if m.account != ctx.account_id || m.region != ctx.region {
                continue;
            }
            if input.marker.as_ref().is_some_and(|after| uuid <= after) {
                continue;
            }
            if input.event_source_arn.as_ref().is_some_and(|a| *a != m.event_source_arn) {
                continue;
            }
            if function.as_ref().is_some_and(|f| *f != m.function_arn) {
                continue;
            }
            if page.len() == max {
                next_marker = page.last().and_then(|c: &EventSourceMappingConfiguration| c.uuid.clone());
                break;
            }
            page.push(m.configuration(m.settled_state()));
        }
        Ok(ListEventSourceMappingsResponse { next_marker, event_source_mappings: Some(page) })
    }
}
