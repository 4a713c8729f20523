//! Streams: create, delete, describe, list, retention, mode, encryption, monitoring, limits.

use crate::errors::{constraint, invalid, limit, store_failed, stream_not_found};
use crate::generated::*;
use crate::generated::Shard as ShardShape;
use crate::keys::{even_ranges, parse_shard_id};
use crate::state::{Kinesis, Shard, Stream, StreamRecord, resolve_name, stream_mut};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use std::collections::BTreeMap;

/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html
const MAX_STREAM_NAME: usize = 128;
/// An on-demand stream starts with four shards.
/// https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html
const ON_DEMAND_SHARDS: u32 = 4;
/// Default shard quota per account and region (us-east-1, us-west-2, eu-west-1), and
/// on-demand streams per account.
/// https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
pub(crate) const SHARD_LIMIT: i32 = 500;
pub(crate) const ON_DEMAND_STREAM_LIMIT: i32 = 50;
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_IncreaseStreamRetentionPeriod.html
pub(crate) const MIN_RETENTION_HOURS: i32 = 24;
pub(crate) const MAX_RETENTION_HOURS: i32 = 8760;
/// Page sizes: the model accepts up to 10,000, the service returns at most its default
/// (DescribeStream and ListStreams 100, ListShards 1000) and pages on.
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListShards.html
const MODEL_MAX_LIMIT: i32 = 10_000;
const DESCRIBE_STREAM_PAGE: i32 = 100;
const LIST_SHARDS_PAGE: i32 = 1000;
const LIST_STREAMS_PAGE: i32 = 100;
/// ListShards' NextToken lives 300 seconds.
const LIST_SHARDS_TOKEN_LIFETIME_MS: i64 = 300_000;
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_EnableEnhancedMonitoring.html
const SHARD_LEVEL_METRICS: &[&str] = &[
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

pub(crate) fn validate_stream_name(name: &str) -> Result<(), KinesisError> {
    if name.is_empty() {
        return Err(constraint(name, "streamName", "Member must have length greater than or equal to 1"));
    }
    if name.len() > MAX_STREAM_NAME {
        return Err(constraint(name, "streamName", "Member must have length less than or equal to 128"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(constraint(name, "streamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
    }
    Ok(())
}

fn mode_details(stream: &Stream) -> StreamModeDetails {
    StreamModeDetails { stream_mode: stream.rec.mode.clone() }
}

fn enhanced_monitoring(stream: &Stream) -> Vec<EnhancedMetrics> {
    vec![EnhancedMetrics { shard_level_metrics: Some(stream.rec.shard_level_metrics.clone()) }]
}

fn validate_mode(mode: &str) -> Result<(), KinesisError> {
    if mode == "PROVISIONED" || mode == "ON_DEMAND" {
        return Ok(());
    }
    Err(constraint(mode, "streamModeDetails.streamMode", "Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]"))
}

fn total_open_shards(partition: &crate::state::Partition) -> usize {
    partition.values().map(Stream::open_shard_count).sum()
}

pub(crate) fn shard_limit_error(ctx: &RequestContext, current: usize, additional: usize) -> KinesisError {
    KinesisError::LimitExceededException(format!(
        "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {current}. \
         Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {additional}. \
         Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) \
         for current limits and how to request higher limits.",
        ctx.account_id, ctx.region
    ))
}

fn page_size(n: i32) -> usize {
    usize::try_from(n).unwrap_or(1)
}

fn list_token(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\n"))
}

fn parse_list_token(token: &str) -> Option<Vec<String>> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    Some(raw.split('\n').map(str::to_string).collect())
}

impl Kinesis {
    pub async fn create_stream(&self, ctx: &RequestContext, input: CreateStreamInput) -> Result<(), ServiceError> {
        validate_stream_name(&input.stream_name)?;
        let mode = match (&input.stream_mode_details, input.shard_count) {
            (Some(m), _) => m.stream_mode.clone(),
            (None, Some(_)) => "PROVISIONED".to_string(),
            // Without a shard count a stream is on-demand, as the console creates it.
            (None, None) => "ON_DEMAND".to_string(),
        };
        validate_mode(&mode)?;
        let shards = match (mode.as_str(), input.shard_count) {
            ("ON_DEMAND", _) => ON_DEMAND_SHARDS,
            (_, Some(n)) if n < 1 => return Err(constraint(n, "shardCount", "Member must have value greater than or equal to 1").into()),
            (_, Some(n)) => u32::try_from(n).unwrap_or(u32::MAX),
            (_, None) => return Err(invalid("ShardCount must be specified for a stream in PROVISIONED mode.").into()),
        };
        let now = clock::now_millis();
        let commit = self.with_partition(ctx, |p| {
            if p.contains_key(&input.stream_name) {
                return Err(KinesisError::ResourceInUseException(format!(
                    "Stream {} under account {} already exists.",
                    input.stream_name, ctx.account_id
                )));
            }
            let current = total_open_shards(p);
            let additional = usize::try_from(shards).unwrap_or(usize::MAX);
            if current.saturating_add(additional) > usize::try_from(SHARD_LIMIT).unwrap_or(0) {
                return Err(shard_limit_error(ctx, current, additional));
            }
            let on_demand = p.values().filter(|s| s.rec.mode == "ON_DEMAND").count();
            if mode == "ON_DEMAND" && on_demand >= usize::try_from(ON_DEMAND_STREAM_LIMIT).unwrap_or(0) {
                return Err(KinesisError::LimitExceededException(format!(
                    "This request would exceed the on-demand stream limit for the account {} in {}. Limit: {ON_DEMAND_STREAM_LIMIT}.",
                    ctx.account_id, ctx.region
                )));
            }
            let tags: BTreeMap<String, String> = input.tags.clone().unwrap_or_default().into_iter().collect();
            crate::tags::check_tags(&tags)?;
            let mut stream = Stream {
                rec: StreamRecord {
                    account: ctx.account_id.clone(),
                    region: ctx.region.clone(),
                    name: input.stream_name.clone(),
                    created_ms: now,
                    retention_hours: MIN_RETENTION_HOURS,
                    mode: mode.clone(),
                    tags,
                    encryption_type: "NONE".into(),
                    key_id: None,
                    shard_level_metrics: Vec::new(),
                    consumers: Vec::new(),
                    next_shard_index: shards,
                },
                shards: BTreeMap::new(),
            };
            for (i, range) in (0..shards).zip(even_ranges(shards)) {
                stream.shards.insert(i, Shard::new(i, range, (None, None), now));
            }
            let mut ops = vec![stream.record_op()];
            ops.extend(stream.shards.values().map(|s| stream.shard_op(s)));
            p.insert(input.stream_name.clone(), stream);
            Ok(self.store.submit(ops))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn delete_stream(&self, ctx: &RequestContext, input: DeleteStreamInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let commit = self.with_partition(ctx, |p| {
            let stream = stream_mut(p, ctx, &name)?;
            if !stream.rec.consumers.is_empty() && !input.enforce_consumer_deletion.unwrap_or(false) {
                return Err(KinesisError::ResourceInUseException(format!(
                    "Stream {name} under account {} has registered consumers. Deregister them or set EnforceConsumerDeletion.",
                    ctx.account_id
                )));
            }
            let ops = stream.delete_ops();
            p.remove(&name);
            Ok(self.store.submit(ops))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    /// Runs `f` on a stream after expiring its old records, committing what both changed.
    pub(crate) async fn with_stream<R>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&mut Stream, &mut Vec<kagami_core::store::StoreOp>) -> Result<R, KinesisError>,
    ) -> Result<R, ServiceError> {
        let now = clock::now_millis();
        let (out, commit) = self.with_partition(ctx, |p| {
            let stream = stream_mut(p, ctx, name)?;
            let mut ops = Vec::new();
            stream.expire(now, &mut ops);
            let out = f(stream, &mut ops);
            // Expired records go even when the request fails.
            Ok::<_, KinesisError>((out, self.store.submit(ops)))
        })?;
        commit.wait().await.map_err(store_failed)?;
        Ok(out?)
    }

    pub async fn describe_stream(&self, ctx: &RequestContext, input: DescribeStreamInput) -> Result<DescribeStreamOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let limit = limit(input.limit, "limit", MODEL_MAX_LIMIT, DESCRIBE_STREAM_PAGE)?.min(page_size(DESCRIBE_STREAM_PAGE));
        let after = input.exclusive_start_shard_id.clone();
        self.with_stream(ctx, &name, |stream, _| {
            let after = after.as_deref().map(|id| parse_shard_id(id).map_or(-1, i64::from)).unwrap_or(-1);
            let mut shards: Vec<ShardShape> = stream.shards.values().filter(|s| i64::from(s.rec.index) > after).map(Shard::describe).collect();
            let has_more = shards.len() > limit;
            shards.truncate(limit);
            Ok(DescribeStreamOutput {
                stream_description: StreamDescription {
                    stream_name: stream.rec.name.clone(),
                    stream_arn: stream.arn(),
                    stream_status: "ACTIVE".into(),
                    stream_mode_details: Some(mode_details(stream)),
                    shards,
                    has_more_shards: has_more,
                    retention_period_hours: stream.rec.retention_hours,
                    stream_creation_timestamp: Timestamp::from_millis(stream.rec.created_ms),
                    enhanced_monitoring: enhanced_monitoring(stream),
                    encryption_type: Some(stream.rec.encryption_type.clone()),
                    key_id: stream.rec.key_id.clone(),
                },
            })
        })
        .await
    }

    pub async fn describe_stream_summary(
        &self,
        ctx: &RequestContext,
        input: DescribeStreamSummaryInput,
    ) -> Result<DescribeStreamSummaryOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        self.with_stream(ctx, &name, |stream, _| {
            Ok(DescribeStreamSummaryOutput {
                stream_description_summary: StreamDescriptionSummary {
                    stream_name: stream.rec.name.clone(),
                    stream_arn: stream.arn(),
                    stream_status: "ACTIVE".into(),
                    stream_mode_details: Some(mode_details(stream)),
                    retention_period_hours: stream.rec.retention_hours,
                    stream_creation_timestamp: Timestamp::from_millis(stream.rec.created_ms),
                    enhanced_monitoring: enhanced_monitoring(stream),
                    encryption_type: Some(stream.rec.encryption_type.clone()),
                    key_id: stream.rec.key_id.clone(),
                    open_shard_count: i32::try_from(stream.open_shard_count()).unwrap_or(i32::MAX),
                    consumer_count: Some(i32::try_from(stream.rec.consumers.len()).unwrap_or(i32::MAX)),
                    ..Default::default()
                },
            })
        })
        .await
    }

    pub async fn list_streams(&self, ctx: &RequestContext, input: ListStreamsInput) -> Result<ListStreamsOutput, ServiceError> {
        let limit = limit(input.limit, "limit", MODEL_MAX_LIMIT, LIST_STREAMS_PAGE)?.min(page_size(LIST_STREAMS_PAGE));
        let after = match input.next_token.as_deref() {
            Some(t) => {
                let parts = parse_list_token(t).ok_or_else(|| invalid(format!("Invalid NextToken: {t}")))?;
                parts.into_iter().next()
            }
            None => input.exclusive_start_stream_name.clone(),
        };
        let summaries: Vec<StreamSummary> = self.with_partition(ctx, |p| {
            p.values()
                .filter(|s| after.as_deref().is_none_or(|a| s.rec.name.as_str() > a))
                .map(|s| StreamSummary {
                    stream_name: s.rec.name.clone(),
                    stream_arn: s.arn(),
                    stream_status: "ACTIVE".into(),
                    stream_mode_details: Some(mode_details(s)),
                    stream_creation_timestamp: Some(Timestamp::from_millis(s.rec.created_ms)),
                })
                .collect()
        });
        let has_more = summaries.len() > limit;
        let summaries: Vec<StreamSummary> = summaries.into_iter().take(limit).collect();
        let next_token = if has_more { summaries.last().map(|s| list_token(&[&s.stream_name])) } else { None };
        Ok(ListStreamsOutput {
            stream_names: summaries.iter().map(|s| s.stream_name.clone()).collect(),
            has_more_streams: has_more,
            next_token,
            stream_summaries: Some(summaries),
        })
    }

    pub async fn list_shards(&self, ctx: &RequestContext, input: ListShardsInput) -> Result<ListShardsOutput, ServiceError> {
        let limit = limit(input.max_results, "maxResults", MODEL_MAX_LIMIT, LIST_SHARDS_PAGE)?.min(page_size(LIST_SHARDS_PAGE));
        let (name, created, mut after) = match input.next_token.as_deref() {
            Some(token) => {
                if input.stream_name.is_some() || input.stream_arn.is_some() {
                    return Err(invalid("NextToken and StreamName cannot be provided together.").into());
                }
                if input.exclusive_start_shard_id.is_some() {
                    return Err(invalid("NextToken and ExclusiveStartShardId cannot be provided together.").into());
                }
                let bad = || invalid(format!("Invalid NextToken: {token}"));
                let parts = parse_list_token(token).ok_or_else(bad)?;
                let [name, created, last, issued] = parts.as_slice() else { return Err(bad().into()) };
                let created: i64 = created.parse().map_err(|_| bad())?;
                let last: i64 = last.parse().map_err(|_| bad())?;
                let issued: i64 = issued.parse().map_err(|_| bad())?;
                if clock::now_millis().saturating_sub(issued) > LIST_SHARDS_TOKEN_LIFETIME_MS {
                    return Err(KinesisError::ExpiredNextTokenException(format!("The NextToken {token} has expired.")).into());
                }
                (name.clone(), Some(created), last)
            }
            None => {
                let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
                (name, None, -1)
            }
        };
        if let Some(id) = input.exclusive_start_shard_id.as_deref() {
            after = after.max(parse_shard_id(id).map_or(-1, i64::from));
        }
        let filter = input.shard_filter.clone();
        if let Some(f) = &filter {
            const TYPES: &[&str] = &["AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"];
            if !TYPES.contains(&f.type_.as_str()) {
                return Err(constraint(
                    &f.type_,
                    "shardFilter.type",
                    "Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]",
                )
                .into());
            }
            if f.type_ == "AFTER_SHARD_ID" {
                let id = f.shard_id.as_deref().ok_or_else(|| invalid("ShardId must be specified for a ShardFilter of type AFTER_SHARD_ID."))?;
                after = after.max(parse_shard_id(id).map_or(-1, i64::from));
            }
            if matches!(f.type_.as_str(), "AT_TIMESTAMP" | "FROM_TIMESTAMP") && f.timestamp.is_none() {
                return Err(invalid(format!("Timestamp must be specified for a ShardFilter of type {}.", f.type_)).into());
            }
        }
        let account = ctx.account_id.clone();
        self.with_stream(ctx, &name, |stream, _| {
            if created.is_some_and(|c| c != stream.rec.created_ms) {
                return Err(stream_not_found(&name, &account));
            }
            let keep = |s: &&Shard| -> bool {
                match &filter {
                    None => true,
                    Some(f) => match f.type_.as_str() {
                        "AT_LATEST" => s.is_open(),
                        "AT_TIMESTAMP" => {
                            let t = f.timestamp.map_or(0, |t| t.as_millis());
                            s.rec.created_ms <= t.max(stream.rec.created_ms) && s.rec.closed_ms.is_none_or(|c| c > t)
                        }
                        "FROM_TIMESTAMP" => {
                            let t = f.timestamp.map_or(0, |t| t.as_millis());
                            s.rec.closed_ms.is_none_or(|c| c >= t)
                        }
                        _ => true,
                    },
                }
            };
            let shards: Vec<&Shard> = stream.shards.values().filter(|s| i64::from(s.rec.index) > after).filter(keep).collect();
            let has_more = shards.len() > limit;
            let page: Vec<ShardShape> = shards.into_iter().take(limit).map(Shard::describe).collect();
            let next_token = match (has_more, page.last()) {
                (true, Some(last)) => {
                    let index = parse_shard_id(&last.shard_id).map_or(0, i64::from);
                    let issued = clock::now_millis().to_string();
                    Some(list_token(&[&stream.rec.name, &stream.rec.created_ms.to_string(), &index.to_string(), &issued]))
                }
                _ => None,
            };
            Ok(ListShardsOutput { shards: Some(page), next_token })
        })
        .await
    }

    pub async fn change_retention(&self, ctx: &RequestContext, name: Option<&str>, arn: Option<&str>, hours: i32, increase: bool) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, name, arn)?;
        if hours < MIN_RETENTION_HOURS {
            return Err(invalid(format!(
                "Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too short."
            ))
            .into());
        }
        if hours > MAX_RETENTION_HOURS {
            return Err(invalid(format!(
                "Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too long."
            ))
            .into());
        }
        self.with_stream(ctx, &name, |stream, ops| {
            let current = stream.rec.retention_hours;
            if increase && hours < current {
                return Err(invalid(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
                )));
            }
            if !increase && hours > current {
                return Err(invalid(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
                )));
            }
            stream.rec.retention_hours = hours;
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }

    pub async fn set_encryption(
        &self,
        ctx: &RequestContext,
        name: Option<&str>,
        arn: Option<&str>,
        encryption_type: &str,
        key_id: &str,
        start: bool,
    ) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, name, arn)?;
        if encryption_type != "KMS" && encryption_type != "NONE" {
            return Err(constraint(encryption_type, "encryptionType", "Member must satisfy enum value set: [KMS, NONE]").into());
        }
        if encryption_type != "KMS" {
            return Err(invalid(format!("Invalid EncryptionType {encryption_type}. Only KMS is supported.")).into());
        }
        if key_id.is_empty() {
            return Err(constraint(key_id, "keyId", "Member must have length greater than or equal to 1").into());
        }
        let key_id = key_id.to_string();
        self.with_stream(ctx, &name, |stream, ops| {
            if start {
                stream.rec.encryption_type = "KMS".into();
                stream.rec.key_id = Some(key_id);
            } else {
                stream.rec.encryption_type = "NONE".into();
                stream.rec.key_id = None;
            }
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }

    pub async fn set_monitoring(
        &self,
        ctx: &RequestContext,
        name: Option<&str>,
        arn: Option<&str>,
        metrics: Vec<String>,
        enable: bool,
    ) -> Result<EnhancedMonitoringOutput, ServiceError> {
        let name = resolve_name(ctx, name, arn)?;
        if metrics.is_empty() {
            return Err(constraint("[]", "shardLevelMetrics", "Member must have length greater than or equal to 1").into());
        }
        let mut wanted: Vec<String> = Vec::new();
        for m in &metrics {
            if m == "ALL" {
                wanted.extend(SHARD_LEVEL_METRICS.iter().map(|s| s.to_string()));
            } else if SHARD_LEVEL_METRICS.contains(&m.as_str()) {
                wanted.push(m.clone());
            } else {
                return Err(constraint(
                    format!("[{}]", metrics.join(", ")),
                    "shardLevelMetrics",
                    "Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, OutgoingRecords, IteratorAgeMilliseconds, IncomingRecords, ReadProvisionedThroughputExceeded, WriteProvisionedThroughputExceeded, OutgoingBytes, ALL]]",
                )
                .into());
            }
        }
        self.with_stream(ctx, &name, |stream, ops| {
            let current = stream.rec.shard_level_metrics.clone();
            let mut desired: Vec<String> = current.clone();
            if enable {
                for m in wanted {
                    if !desired.contains(&m) {
                        desired.push(m);
                    }
                }
            } else {
                desired.retain(|m| !wanted.contains(m));
            }
            // Kept in AWS's documented order, whatever order they were enabled in.
            desired.sort_by_key(|m| SHARD_LEVEL_METRICS.iter().position(|s| s == m));
            stream.rec.shard_level_metrics = desired.clone();
            ops.push(stream.record_op());
            Ok(EnhancedMonitoringOutput {
                stream_name: Some(stream.rec.name.clone()),
                current_shard_level_metrics: Some(current),
                desired_shard_level_metrics: Some(desired),
                stream_arn: Some(stream.arn()),
            })
        })
        .await
    }

    pub async fn describe_limits(&self, ctx: &RequestContext) -> Result<DescribeLimitsOutput, ServiceError> {
        let (open, on_demand) = self.with_partition(ctx, |p| (total_open_shards(p), p.values().filter(|s| s.rec.mode == "ON_DEMAND").count()));
        Ok(DescribeLimitsOutput {
            shard_limit: SHARD_LIMIT,
            open_shard_count: i32::try_from(open).unwrap_or(i32::MAX),
            on_demand_stream_count: i32::try_from(on_demand).unwrap_or(i32::MAX),
            on_demand_stream_count_limit: ON_DEMAND_STREAM_LIMIT,
            ..Default::default()
        })
    }

    pub async fn update_stream_mode(&self, ctx: &RequestContext, input: UpdateStreamModeInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, None, Some(&input.stream_arn))?;
        let mode = input.stream_mode_details.stream_mode;
        validate_mode(&mode)?;
        self.with_stream(ctx, &name, |stream, ops| {
            if stream.rec.mode == mode {
                return Err(invalid(format!("Stream {name} is already in {mode} mode.")));
            }
            stream.rec.mode = mode;
            ops.push(stream.record_op());
            Ok(())
        })
        .await
    }
}

