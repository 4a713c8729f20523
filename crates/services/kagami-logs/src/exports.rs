//! Export tasks: CreateExportTask writes the group's events of a time range to kagami's
//! S3 (through Peers, in the caller's account and region) in AWS's layout,
//! `<prefix>/<taskId>/<stream>/000000.gz`, one `<ISO-8601 time> <message>` line per
//! event, after the `<prefix>/aws-logs-write-test` object AWS writes to check the
//! bucket. The task finishes within the request, so DescribeExportTasks already reports
//! COMPLETED (or FAILED) and CancelExportTask finds it finished.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html

use crate::errors::{constraint, group_not_found, invalid, store_failed};
use crate::generated::*;
use crate::pagination;
use crate::resources::{ExportTaskRecord, export_task_op};
use crate::state::Logs;
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, Timestamp, Value, clock, ids};
use kagami_protocol::encoding::gzip;
use kagami_protocol::{ByteStream, StreamSlot};

/// AWS's default destinationPrefix.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html
const DEFAULT_PREFIX: &str = "exportedlogs";
/// DescribeExportTasks: limit 1 to 50.
const MAX_DESCRIBE: i32 = 50;
const STATUS_CODES: &[&str] = &["CANCELLED", "COMPLETED", "FAILED", "PENDING", "PENDING_CANCEL", "RUNNING"];
const WRITE_TEST_BODY: &[u8] = b"Permission Check Successful";

fn describe(t: &ExportTaskRecord) -> ExportTask {
    ExportTask {
        task_id: Some(t.id.clone()),
        task_name: t.name.clone(),
        log_group_name: Some(t.log_group_name.clone()),
        from: Some(t.from),
        to: Some(t.to),
        destination: Some(t.destination.clone()),
        destination_prefix: Some(t.destination_prefix.clone()),
        status: Some(ExportTaskStatus { code: Some(t.status.clone()), message: Some(t.message.clone()) }),
        execution_info: Some(ExportTaskExecutionInfo { creation_time: Some(t.creation_time), completion_time: t.completion_time }),
    }
}

/// `dir/key` with the prefix's slashes trimmed; an empty prefix adds nothing.
fn join(prefix: &str, rest: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() { rest.to_string() } else { format!("{prefix}/{rest}") }
}

impl Logs {
    async fn put_object(&self, ctx: &RequestContext, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), ServiceError> {
        let length = body.len();
        let stream = ByteStream::from_bytes(Bytes::from(body)).with_content_length(Some(length as u64));
        let mut input = IndexMap::new();
        input.insert("Bucket".to_string(), Value::Str(bucket.into()));
        input.insert("Key".to_string(), Value::Str(key.into()));
        input.insert("ContentLength".to_string(), Value::Int(i64::try_from(length).unwrap_or(i64::MAX)));
        input.insert("Body".to_string(), Value::Stream(StreamSlot::new(stream)));
        let system = self.peers.system_context(&ctx.account_id, &ctx.region, "logs");
        self.peers.call(&system, "s3", "PutObject", Value::Map(input)).await.map(|_| ())
    }

    pub async fn create_export_task(&self, ctx: &RequestContext, input: CreateExportTaskRequest) -> Result<CreateExportTaskResponse, ServiceError> {
        if input.from < 0 {
            return Err(constraint(input.from, "from", "Member must have value greater than or equal to 0").into());
        }
        if input.from > input.to {
            return Err(invalid(format!(
                "Specified time range of '{}' and '{}' is not valid. Please make sure the values are within the retention period of the log group and from value is less than the to value",
                input.from, input.to
            ))
            .into());
        }
        if input.destination.is_empty() {
            return Err(constraint("", "destination", "Member must have length greater than or equal to 1").into());
        }
        // Every stream's lines, taken under the lock; S3 is written after it is released.
        let files: Vec<(String, String)> = self.with_partition(ctx, |p| {
            let group = p.get(&input.log_group_name).ok_or_else(group_not_found)?;
            Ok::<_, LogsError>(
                group
                    .streams
                    .values()
                    .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|pre| s.rec.name.starts_with(pre)))
                    .filter_map(|s| {
                        let mut text = String::new();
                        for e in s.events.iter().filter(|e| e.timestamp >= input.from && e.timestamp <= input.to) {
                            text.push_str(&Timestamp::from_millis(e.timestamp).to_iso8601_millis());
                            text.push(' ');
                            text.push_str(&e.message);
                            text.push('\n');
                        }
                        (!text.is_empty()).then(|| (s.rec.name.clone(), text))
                    })
                    .collect(),
            )
        })?;
        let prefix = input.destination_prefix.clone().unwrap_or_else(|| DEFAULT_PREFIX.into());
        match self.put_object(ctx, &input.destination, &join(&prefix, "aws-logs-write-test"), WRITE_TEST_BODY.to_vec()).await {
            Err(e) if e.code == "NoSuchBucket" => {
                return Err(invalid("The given bucket does not exist. Please make sure the bucket is valid.").into());
            }
            Err(e) => return Err(invalid(format!("Unable to write to the S3 bucket: {}", e.message)).into()),
            Ok(()) => {}
        }
        let id = ids::uuid_v4();
        let mut task = ExportTaskRecord {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            id: id.clone(),
            name: input.task_name,
            log_group_name: input.log_group_name,
            from: input.from,
            to: input.to,
            destination: input.destination,
            destination_prefix: prefix,
            status: "COMPLETED".into(),
            message: "Completed successfully".into(),
            creation_time: clock::now_millis(),
            completion_time: None,
        };
        for (stream, text) in files {
            let key = join(&task.destination_prefix, &format!("{id}/{stream}/000000.gz"));
            if let Err(e) = self.put_object(ctx, &task.destination, &key, gzip(text.as_bytes())).await {
                task.status = "FAILED".into();
                task.message = format!("Failed to write {key}: {}", e.message);
                break;
            }
        }
        task.completion_time = Some(clock::now_millis());
        let commit = self.with_resources(ctx, |r| {
            let op = export_task_op(&task);
            r.export_tasks.push(task);
            self.store.submit(vec![op])
        });
        commit.wait().await.map_err(store_failed)?;
        Ok(CreateExportTaskResponse { task_id: Some(id) })
    }

    pub fn describe_export_tasks(&self, ctx: &RequestContext, input: DescribeExportTasksRequest) -> Result<DescribeExportTasksResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE, MAX_DESCRIBE)?;
        if let Some(code) = input.status_code.as_deref()
            && !STATUS_CODES.contains(&code)
        {
            return Err(constraint(code, "statusCode", "Member must satisfy enum value set: [CANCELLED, COMPLETED, FAILED, PENDING, PENDING_CANCEL, RUNNING]").into());
        }
        let tasks: Vec<ExportTask> = self.with_resources(ctx, |r| {
            r.export_tasks
                .iter()
                .rev()
                .filter(|t| input.task_id.as_ref().is_none_or(|id| &t.id == id))
                .filter(|t| input.status_code.as_ref().is_none_or(|c| &t.status == c))
                .map(describe)
                .collect()
        });
        let (export_tasks, next_token) = pagination::page(tasks, input.next_token.as_deref(), limit)?;
        Ok(DescribeExportTasksResponse { export_tasks: Some(export_tasks), next_token })
    }

    pub fn cancel_export_task(&self, ctx: &RequestContext, input: CancelExportTaskRequest) -> Result<(), ServiceError> {
        self.with_resources(ctx, |r| {
            if !r.export_tasks.iter().any(|t| t.id == input.task_id) {
                return Err(LogsError::ResourceNotFoundException("The specified export task does not exist.".into()).into());
            }
            // Tasks run to completion within CreateExportTask: none is left to cancel.
            Err(LogsError::InvalidOperationException("The specified export task has already finished".into()).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn keys_join_prefix_and_path() {
        assert_eq!(join("exportedlogs", "t/s/000000.gz"), "exportedlogs/t/s/000000.gz");
        assert_eq!(join("a/b/", "x"), "a/b/x");
        assert_eq!(join("", "x"), "x");
    }
}
