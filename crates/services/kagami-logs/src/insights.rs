//! CloudWatch Logs Insights: StartQuery runs the query over the events of its log
//! groups at once (the language `insights_query.rs` implements); the query reports
//! Running until its results are first read, then Complete, so StopQuery has a query
//! to stop. Queries live in memory, as AWS keeps them only for a while.

use crate::errors::invalid;
use crate::generated::*;
use crate::insights_query::{self, Row};
use crate::pagination;
use crate::state::{Event, Logs, group_mut};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock, ids};
use serde_json::Value as Json;

/// StartQuery returns 1,000 rows unless `limit` says otherwise, at most 10,000.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html
const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: i32 = 10_000;
/// A query names at most 50 log groups.
const MAX_QUERY_GROUPS: usize = 50;
const MAX_DESCRIBE_QUERIES: i32 = 1000;

#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub id: String,
    pub account: String,
    pub region: String,
    pub query_string: String,
    pub groups: Vec<String>,
    pub create_time: i64,
    pub status: String,
    pub results: Vec<Vec<ResultField>>,
    pub statistics: QueryStatistics,
}

pub(crate) fn format_time(ms: i64) -> String {
    // Insights prints times as `2024-01-31 12:00:00.000`.
    Timestamp::from_millis(ms).to_iso8601_millis().trim_end_matches('Z').replacen('T', " ", 1)
}

/// The fields Insights discovers in a JSON message: nested keys joined with dots.
fn flatten(prefix: &str, value: &Json, row: &mut Row) {
    match value {
        Json::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, row);
            }
        }
        Json::String(s) => {
            row.insert(prefix.to_string(), s.clone());
        }
        Json::Null => {}
        other => {
            row.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The opaque `@ptr` of an event, which GetLogRecord takes back. Group and stream names
/// cannot contain ':'.
pub(crate) fn pointer(group: &str, stream: &str, seq: u64) -> String {
    STANDARD.encode(format!("{group}:{stream}:{seq}"))
}

pub(crate) fn parse_pointer(ptr: &str) -> Option<(String, String, u64)> {
    let raw = String::from_utf8(STANDARD.decode(ptr).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let (group, stream, seq) = (parts.next()?, parts.next()?, parts.next()?.parse().ok()?);
    Some((group.to_string(), stream.to_string(), seq))
}

/// The fields Insights gives an event: the system fields, then those discovered in a
/// JSON message.
pub(crate) fn event_row(account: &str, group: &str, stream: &str, e: &Event) -> Row {
    let mut row = Row::new();
    row.insert("@timestamp".into(), format_time(e.timestamp));
    row.insert("@message".into(), e.message.clone());
    row.insert("@logStream".into(), stream.to_string());
    row.insert("@log".into(), format!("{account}:{group}"));
    row.insert("@ingestionTime".into(), format_time(e.ingestion_time));
    if let Ok(json @ Json::Object(_)) = serde_json::from_str::<Json>(&e.message) {
        flatten("", &json, &mut row);
    }
    row.insert("@ptr".into(), pointer(group, stream, e.seq));
    row
}

impl Logs {
    pub fn start_query(&self, ctx: &RequestContext, input: StartQueryRequest) -> Result<StartQueryResponse, ServiceError> {
        let mut groups: Vec<String> = Vec::new();
        let given = [input.log_group_name.is_some(), input.log_group_names.is_some(), input.log_group_identifiers.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(invalid("Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.").into());
        }
        groups.extend(input.log_group_name);
        groups.extend(input.log_group_names.unwrap_or_default());
        groups.extend(
            input
                .log_group_identifiers
                .unwrap_or_default()
                .into_iter()
                .map(|id| crate::groups::group_name_of_arn(&id).map(str::to_string).unwrap_or(id)),
        );
        if groups.len() > MAX_QUERY_GROUPS {
            return Err(invalid("A query can specify at most 50 log groups.").into());
        }
        if input.end_time < input.start_time {
            return Err(invalid("End time should not be before the start time").into());
        }
        let limit = match input.limit {
            None => DEFAULT_LIMIT,
            Some(l) => pagination::limit(Some(l), MAX_LIMIT, MAX_LIMIT)?,
        };
        let commands = insights_query::parse(&input.query_string).map_err(LogsError::MalformedQueryException)?;
        let (start_ms, end_ms) = (input.start_time.saturating_mul(1000), input.end_time.saturating_mul(1000).saturating_add(999));
        let id = ids::uuid_v4();
        let (rows, scanned, bytes) = self.with_partition(ctx, |p| {
            let mut rows = Vec::new();
            let (mut scanned, mut bytes) = (0usize, 0usize);
            for name in &groups {
                let group = group_mut(p, name).map_err(|_| {
                    LogsError::ResourceNotFoundException(format!("Log group '{name}' does not exist for account ID '{}'", ctx.account_id))
                })?;
                for stream in group.streams.values() {
                    for e in &stream.events {
                        if e.timestamp < start_ms || e.timestamp > end_ms {
                            continue;
                        }
                        scanned += 1;
                        bytes += e.message.len();
                        let row = event_row(&ctx.account_id, &group.rec.name, &stream.rec.name, e);
                        rows.push((e.timestamp, row));
                    }
                }
            }
            Ok::<_, LogsError>((rows, scanned, bytes))
        })?;
        let mut rows = rows;
        // Without a sort command, the newest events come first.
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        let (mut out, display, aggregated) = insights_query::run(&commands, rows.into_iter().map(|(_, r)| r).collect());
        out.truncate(limit);
        let matched = out.len();
        let display = display.unwrap_or_else(|| vec!["@timestamp".into(), "@message".into(), "@logStream".into(), "@log".into()]);
        let results: Vec<Vec<ResultField>> = out
            .into_iter()
            .map(|row| {
                let mut fields: Vec<ResultField> = display
                    .iter()
                    .filter_map(|f| row.get(f).map(|v| ResultField { field: Some(f.clone()), value: Some(v.clone()) }))
                    .collect();
                if !aggregated && let Some(ptr) = row.get("@ptr") {
                    fields.push(ResultField { field: Some("@ptr".into()), value: Some(ptr.clone()) });
                }
                fields
            })
            .collect();
        let query = Query {
            id: id.clone(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            query_string: input.query_string,
            groups,
            create_time: clock::now_millis(),
            status: "Running".into(),
            statistics: QueryStatistics {
                records_matched: Some(matched as f64),
                records_scanned: Some(scanned as f64),
                bytes_scanned: Some(bytes as f64),
                log_groups_scanned: None,
                ..Default::default()
            },
            results,
        };
        self.queries.lock().push(query);
        Ok(StartQueryResponse { query_id: Some(id) })
    }

    pub fn get_query_results(&self, ctx: &RequestContext, input: GetQueryResultsRequest) -> Result<GetQueryResultsResponse, ServiceError> {
        let mut queries = self.queries.lock();
        let q = queries
            .iter_mut()
            .find(|q| q.id == input.query_id && q.account == ctx.account_id && q.region == ctx.region)
            .ok_or_else(|| LogsError::ResourceNotFoundException("Query does not exist.".into()))?;
        if q.status == "Running" {
            q.status = "Complete".into();
        }
        let results = if q.status == "Cancelled" { Vec::new() } else { q.results.clone() };
        Ok(GetQueryResultsResponse {
            query_language: Some("CWLI".into()),
            results: Some(results),
            statistics: Some(q.statistics.clone()),
            status: Some(q.status.clone()),
            ..Default::default()
        })
    }

    pub fn stop_query(&self, ctx: &RequestContext, input: StopQueryRequest) -> Result<StopQueryResponse, ServiceError> {
        let mut queries = self.queries.lock();
        let q = queries
            .iter_mut()
            .find(|q| q.id == input.query_id && q.account == ctx.account_id && q.region == ctx.region)
            .ok_or_else(|| LogsError::ResourceNotFoundException("Query does not exist.".into()))?;
        if q.status != "Running" && q.status != "Scheduled" {
            return Err(invalid(format!("Query {} is not running", q.id)).into());
        }
        q.status = "Cancelled".into();
        Ok(StopQueryResponse { success: Some(true) })
    }

    pub fn describe_queries(&self, ctx: &RequestContext, input: DescribeQueriesRequest) -> Result<DescribeQueriesResponse, ServiceError> {
        let limit = pagination::limit(input.max_results, MAX_DESCRIBE_QUERIES, MAX_DESCRIBE_QUERIES)?;
        if let Some(s) = input.status.as_deref()
            && !matches!(s, "Scheduled" | "Running" | "Complete" | "Failed" | "Cancelled" | "Timeout" | "Unknown")
        {
            return Err(crate::errors::constraint(s, "status", "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]").into());
        }
        let queries: Vec<QueryInfo> = self
            .queries
            .lock()
            .iter()
            .rev()
            .filter(|q| q.account == ctx.account_id && q.region == ctx.region)
            .filter(|q| input.log_group_name.as_ref().is_none_or(|g| q.groups.contains(g)))
            .filter(|q| input.status.as_ref().is_none_or(|s| &q.status == s))
            .map(|q| QueryInfo {
                query_language: Some("CWLI".into()),
                query_id: Some(q.id.clone()),
                query_string: Some(q.query_string.clone()),
                status: Some(q.status.clone()),
                create_time: Some(q.create_time),
                log_group_name: q.groups.first().cloned(),
                ..Default::default()
            })
            .collect();
        let (queries, next_token) = pagination::page(queries, input.next_token.as_deref(), limit)?;
        Ok(DescribeQueriesResponse { queries: Some(queries), next_token })
    }
}
