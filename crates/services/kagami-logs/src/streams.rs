//! Log streams: create, delete, describe.

use crate::errors::{constraint, invalid, store_failed, stream_not_found};
use crate::generated::*;
use crate::groups::resolve_group_name;
use crate::pagination;
use crate::state::{EVENTS, Group, Logs, STREAMS, Stream, StreamRecord, group_mut, stream_key};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock};

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
const MAX_STREAM_NAME: usize = 512;
/// DescribeLogStreams returns at most 50 streams a page.
const MAX_DESCRIBE_STREAMS: i32 = 50;

pub(crate) fn validate_stream_name(name: &str) -> Result<(), LogsError> {
    if name.is_empty() {
        return Err(constraint(name, "logStreamName", "Member must have length greater than or equal to 1"));
    }
    if name.len() > MAX_STREAM_NAME {
        return Err(constraint(name, "logStreamName", "Member must have length less than or equal to 512"));
    }
    if name.contains([':', '*']) {
        return Err(constraint(name, "logStreamName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

pub(crate) fn describe(group: &Group, stream: &Stream) -> LogStream {
    LogStream {
        log_stream_name: Some(stream.rec.name.clone()),
        creation_time: Some(stream.rec.creation_time),
        first_event_timestamp: stream.rec.first_event,
        last_event_timestamp: stream.rec.last_event,
        last_ingestion_time: stream.rec.last_ingestion,
        upload_sequence_token: Some(stream.upload_sequence_token()),
        arn: Some(format!("{}:log-stream:{}", group.arn_without_star(), stream.rec.name)),
        // Deprecated by AWS: 0 for every stream created since June 2019.
        stored_bytes: Some(0),
    }
}

impl Logs {
    pub async fn create_log_stream(&self, ctx: &RequestContext, input: CreateLogStreamRequest) -> Result<(), ServiceError> {
        validate_stream_name(&input.log_stream_name)?;
        let commit = self.with_partition(ctx, |p| {
            let group = group_mut(p, &input.log_group_name)?;
            if group.streams.contains_key(&input.log_stream_name) {
                return Err(LogsError::ResourceAlreadyExistsException("The specified log stream already exists".into()));
            }
            let stream = Stream {
                rec: StreamRecord {
                    group: group.rec.name.clone(),
                    name: input.log_stream_name.clone(),
                    creation_time: clock::now_millis(),
                    first_event: None,
                    last_event: None,
                    last_ingestion: None,
                    next_seq: 0,
                    uploads: 1,
                },
                events: Vec::new(),
            };
            let op = group.stream_record_op(&stream);
            group.streams.insert(input.log_stream_name.clone(), stream);
            Ok(self.store.submit(vec![op]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn delete_log_stream(&self, ctx: &RequestContext, input: DeleteLogStreamRequest) -> Result<(), ServiceError> {
        let commit = self.with_partition(ctx, |p| {
            let group = group_mut(p, &input.log_group_name)?;
            if group.streams.remove(&input.log_stream_name).is_none() {
                return Err(stream_not_found());
            }
            let key = stream_key(&group.key(), &input.log_stream_name);
            Ok(self.store.submit(vec![StoreOp::delete(STREAMS, key.clone()), StoreOp::delete_prefix(EVENTS, format!("{key}:"))]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn describe_log_streams(
        &self,
        ctx: &RequestContext,
        input: DescribeLogStreamsRequest,
    ) -> Result<DescribeLogStreamsResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE_STREAMS, MAX_DESCRIBE_STREAMS)?;
        let name = resolve_group_name(input.log_group_name.as_deref(), input.log_group_identifier.as_deref())?;
        let by_time = match input.order_by.as_deref().unwrap_or("LogStreamName") {
            "LogStreamName" => false,
            "LastEventTime" => true,
            other => {
                return Err(constraint(other, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]").into());
            }
        };
        if by_time && input.log_stream_name_prefix.is_some() {
            return Err(invalid("Cannot order by LastEventTime with a logStreamNamePrefix.").into());
        }
        let (mut streams, commit) = self.with_partition(ctx, |p| {
            let group = group_mut(p, &name)?;
            let mut ops = Vec::new();
            group.expire(clock::now_millis(), &mut ops);
            let group = &*group;
            let streams: Vec<(Option<i64>, LogStream)> = group
                .streams
                .values()
                .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|pre| s.rec.name.starts_with(pre)))
                .map(|s| (s.rec.last_event, describe(group, s)))
                .collect();
            Ok::<_, LogsError>((streams, self.store.submit(ops)))
        })?;
        commit.wait().await.map_err(store_failed)?;
        if by_time {
            // Stable: streams with equal times stay in name order.
            streams.sort_by_key(|(t, _)| *t);
        }
        if input.descending.unwrap_or(false) {
            streams.reverse();
        }
        let streams = streams.into_iter().map(|(_, s)| s).collect();
        let (log_streams, next_token) = pagination::page(streams, input.next_token.as_deref(), limit)?;
        Ok(DescribeLogStreamsResponse { log_streams: Some(log_streams), next_token })
    }
}
