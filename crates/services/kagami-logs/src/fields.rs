//! GetLogGroupFields (which fields a group's recent events carry, and how often) and
//! GetLogRecord (every field of the event an Insights `@ptr` points to).

use crate::errors::invalid;
use crate::generated::*;
use crate::groups::resolve_group_name;
use crate::insights::{event_row, parse_pointer};
use crate::state::{Logs, group_mut};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, clock};

/// With `time`, the 8 minutes either side of it are searched; without, the last 15 minutes.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogGroupFields.html
const AROUND_TIME_MS: i64 = 8 * 60_000;
const RECENT_MS: i64 = 15 * 60_000;

impl Logs {
    pub fn get_log_group_fields(&self, ctx: &RequestContext, input: GetLogGroupFieldsRequest) -> Result<GetLogGroupFieldsResponse, ServiceError> {
        let name = resolve_group_name(input.log_group_name.as_deref(), input.log_group_identifier.as_deref())?;
        let (from, to) = match input.time {
            // `time` is in seconds.
            Some(t) => {
                let ms = t.saturating_mul(1000);
                (ms - AROUND_TIME_MS, ms + AROUND_TIME_MS)
            }
            None => {
                let now = clock::now_millis();
                (now - RECENT_MS, now)
            }
        };
        let (counts, total) = self.with_partition(ctx, |p| {
            let group = group_mut(p, &name)?;
            let mut counts: IndexMap<String, usize> = IndexMap::new();
            let mut total = 0usize;
            for stream in group.streams.values() {
                for e in stream.events.iter().filter(|e| e.timestamp >= from && e.timestamp <= to) {
                    total += 1;
                    for field in event_row(&ctx.account_id, &group.rec.name, &stream.rec.name, e).into_keys() {
                        if field != "@ptr" {
                            *counts.entry(field).or_default() += 1;
                        }
                    }
                }
            }
            Ok::<_, LogsError>((counts, total))
        })?;
        let fields = counts
            .into_iter()
            .map(|(name, n)| LogGroupField { name: Some(name), percent: Some(i32::try_from(n * 100 / total.max(1)).unwrap_or(100)) })
            .collect();
        Ok(GetLogGroupFieldsResponse { log_group_fields: Some(fields) })
    }

    pub fn get_log_record(&self, ctx: &RequestContext, input: GetLogRecordRequest) -> Result<GetLogRecordResponse, ServiceError> {
        let (group, stream, seq) = parse_pointer(&input.log_record_pointer).ok_or_else(|| invalid("The specified log record pointer is invalid."))?;
        let record = self.with_partition(ctx, |p| {
            let g = group_mut(p, &group)?;
            let s = g.streams.get(&stream).ok_or_else(crate::errors::stream_not_found)?;
            let e = s
                .events
                .iter()
                .find(|e| e.seq == seq)
                .ok_or_else(|| LogsError::ResourceNotFoundException("The specified log record does not exist.".into()))?;
            let mut row = event_row(&ctx.account_id, &g.rec.name, &s.rec.name, e);
            row.shift_remove("@ptr");
            // GetLogRecord gives times as epoch milliseconds.
            row.insert("@timestamp".into(), e.timestamp.to_string());
            row.insert("@ingestionTime".into(), e.ingestion_time.to_string());
            Ok::<_, LogsError>(row)
        })?;
        Ok(GetLogRecordResponse { log_record: Some(record) })
    }
}
