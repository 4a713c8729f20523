//! Log events: PutLogEvents, GetLogEvents and FilterLogEvents.

use crate::errors::{constraint, invalid, invalid_token, store_failed};
use crate::generated::*;
use crate::groups::resolve_group_name;
use crate::pattern::Pattern;
use crate::state::{EVENTS, Event, Group, Logs, MILLIS_PER_DAY, SubscriptionFilterRecord, event_key, group_mut, stream_key, stream_mut};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock};

/// PutLogEvents quotas.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
/// Counted for every event on top of its message.
pub(crate) const EVENT_OVERHEAD_BYTES: usize = 26;
/// Events more than 2 hours in the future, or older than 14 days, are rejected.
const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
const MAX_AGE_MS: i64 = 14 * MILLIS_PER_DAY;
/// A batch may not span more than 24 hours.
const MAX_BATCH_SPAN_MS: i64 = MILLIS_PER_DAY;
/// GetLogEvents / FilterLogEvents return at most 10,000 events or 1 MB a page.
const MAX_EVENTS_PAGE: i32 = 10_000;
const MAX_PAGE_BYTES: usize = 1_048_576;

/// Events a subscription filter matched, to deliver once the lock is released.
pub(crate) struct Delivery {
    pub filter: SubscriptionFilterRecord,
    pub group: String,
    pub stream: String,
    pub events: Vec<(String, i64, String)>,
}

/// An event's position in its stream, as GetLogEvents' tokens carry it.
type Position = (i64, u64);

fn token(direction: char, (ts, seq): Position) -> String {
    format!("{direction}/{ts:020}{seq:036}")
}

fn parse_token(token: &str) -> Option<(char, Position)> {
    let (direction, digits) = token.split_once('/')?;
    let direction = match direction {
        "f" => 'f',
        "b" => 'b',
        _ => return None,
    };
    if digits.len() != 56 {
        return None;
    }
    let ts = digits.get(..20)?.parse().ok()?;
    let seq = digits.get(20..)?.parse().ok()?;
    Some((direction, (ts, seq)))
}

/// The 56-digit id FilterLogEvents gives each event.
pub(crate) fn event_id(stream: &str, event: &Event) -> String {
    // FNV-1a: stable across restarts, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in stream.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:020}{:020}{:016}", event.timestamp.max(0), h, event.seq % 10_000_000_000_000_000)
}

fn in_range(e: &Event, start: Option<i64>, end: Option<i64>) -> bool {
    start.is_none_or(|s| e.timestamp >= s) && end.is_none_or(|t| e.timestamp < t)
}

fn output(e: &Event) -> OutputLogEvent {
    OutputLogEvent { timestamp: Some(e.timestamp), message: Some(e.message.clone()), ingestion_time: Some(e.ingestion_time) }
}

fn event_bytes(e: &Event) -> usize {
    e.message.len() + EVENT_OVERHEAD_BYTES
}

impl Logs {
    pub async fn put_log_events(&self, ctx: &RequestContext, input: PutLogEventsRequest) -> Result<PutLogEventsResponse, ServiceError> {
        let events = input.log_events;
        if events.is_empty() {
            return Err(constraint("[]", "logEvents", "Member must have length greater than or equal to 1").into());
        }
        if events.len() > MAX_BATCH_EVENTS {
            return Err(constraint("[...]", "logEvents", "Member must have length less than or equal to 10000").into());
        }
        if let Some(i) = events.iter().position(|e| e.message.is_empty()) {
            return Err(constraint("", &format!("logEvents.{}.member.message", i + 1), "Member must have length greater than or equal to 1").into());
        }
        let size: usize = events.iter().map(|e| e.message.len() + EVENT_OVERHEAD_BYTES).sum();
        if size > MAX_BATCH_BYTES {
            return Err(invalid(format!("Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")).into());
        }
        let (min, max) = events.iter().fold((i64::MAX, i64::MIN), |(lo, hi), e| (lo.min(e.timestamp), hi.max(e.timestamp)));
        if max.saturating_sub(min) > MAX_BATCH_SPAN_MS {
            return Err(invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.").into());
        }
        let now = clock::now_millis();
        let (response, deliveries, commit) = self.with_partition(ctx, |p| {
            let group = group_mut(p, &input.log_group_name)?;
            let retention_cutoff = group.rec.retention_in_days.map(|d| now.saturating_sub(i64::from(d).saturating_mul(MILLIS_PER_DAY)));
            let group_key = group.key();
            let filters = group.rec.subscription_filters.clone();
            let group_name = group.rec.name.clone();
            let stream = stream_mut(group, &input.log_stream_name)?;
            let key = stream_key(&group_key, &stream.rec.name);
            let mut rejected = RejectedLogEventsInfo::default();
            let mut ops = Vec::new();
            let mut accepted = Vec::new();
            for (i, e) in events.into_iter().enumerate() {
                let index = i32::try_from(i).unwrap_or(i32::MAX);
                if e.timestamp > now + MAX_FUTURE_MS {
                    rejected.too_new_log_event_start_index.get_or_insert(index);
                    continue;
                }
                if e.timestamp < now - MAX_AGE_MS {
                    rejected.too_old_log_event_end_index = Some(index);
                    continue;
                }
                if retention_cutoff.is_some_and(|c| e.timestamp < c) {
                    rejected.expired_log_event_end_index = Some(index);
                    continue;
                }
                let event = Event { timestamp: e.timestamp, ingestion_time: now, message: e.message, seq: stream.rec.next_seq };
                stream.rec.next_seq += 1;
                ops.push(StoreOp::put_json(EVENTS, event_key(&key, event.seq), &event));
                stream.rec.first_event = Some(stream.rec.first_event.map_or(event.timestamp, |f| f.min(event.timestamp)));
                stream.rec.last_event = Some(stream.rec.last_event.map_or(event.timestamp, |l| l.max(event.timestamp)));
                let at = stream.events.partition_point(|x| x.position() <= event.position());
                accepted.push(event.clone());
                stream.events.insert(at, event);
            }
            stream.rec.uploads += 1;
            stream.rec.last_ingestion = Some(now);
            let stream_name = stream.rec.name.clone();
            let token = stream.upload_sequence_token();
            let deliveries = deliveries(&filters, &group_name, &stream_name, &accepted);
            let group = &*group_mut(p, &input.log_group_name)?;
            if let Some(s) = group.streams.get(&stream_name) {
                ops.push(group.stream_record_op(s));
            }
            let any_rejected = rejected != RejectedLogEventsInfo::default();
            let response = PutLogEventsResponse {
                next_sequence_token: Some(token),
                rejected_log_events_info: any_rejected.then_some(rejected),
                ..Default::default()
            };
            Ok::<_, LogsError>((response, deliveries, self.store.submit(ops)))
        })?;
        commit.wait().await.map_err(store_failed)?;
        for d in deliveries {
            self.deliver(ctx, d).await;
        }
        Ok(response)
    }

    pub async fn get_log_events(&self, ctx: &RequestContext, input: GetLogEventsRequest) -> Result<GetLogEventsResponse, ServiceError> {
        let limit = crate::pagination::limit(input.limit, MAX_EVENTS_PAGE, MAX_EVENTS_PAGE)?;
        let name = resolve_group_name(input.log_group_name.as_deref(), input.log_group_identifier.as_deref())?;
        let given = match input.next_token.as_deref() {
            None => None,
            Some(t) => Some(parse_token(t).ok_or_else(|| invalid("The specified nextToken is invalid."))?),
        };
        let (start, end) = (input.start_time, input.end_time);
        let (response, commit) = self.with_partition(ctx, |p| {
            let group = group_mut(p, &name)?;
            let mut ops = Vec::new();
            group.expire(clock::now_millis(), &mut ops);
            let stream = stream_mut(group, &input.log_stream_name)?;
            let candidates = stream.events.iter().filter(|e| in_range(e, start, end));
            let forward = match given {
                Some((d, _)) => d == 'f',
                None => input.start_from_head.unwrap_or(false),
            };
            let mut bytes = 0;
            let mut fits = |e: &Event, taken: usize| {
                bytes += event_bytes(e);
                taken < limit && bytes <= MAX_PAGE_BYTES
            };
            let mut page: Vec<&Event> = Vec::new();
            if forward {
                let from = given.map_or((i64::MIN, 0), |(_, pos)| pos);
                for e in candidates.filter(|e| e.position() >= from) {
                    if !fits(e, page.len()) {
                        break;
                    }
                    page.push(e);
                }
            } else {
                let before = given.map(|(_, pos)| pos);
                for e in candidates.rev().filter(|e| before.is_none_or(|b| e.position() < b)) {
                    if !fits(e, page.len()) {
                        break;
                    }
                    page.push(e);
                }
                page.reverse();
            }
            let (f, b) = match (page.first(), page.last(), given) {
                (Some(first), Some(last), _) => (token('f', (last.timestamp, last.seq + 1)), token('b', first.position())),
                (_, _, Some((_, pos))) => (token('f', pos), token('b', pos)),
                _ => {
                    let pos = (start.unwrap_or(0), 0);
                    (token('f', pos), token('b', pos))
                }
            };
            let response = GetLogEventsResponse {
                events: Some(page.into_iter().map(output).collect()),
                next_forward_token: Some(f),
                next_backward_token: Some(b),
            };
            Ok::<_, LogsError>((response, self.store.submit(ops)))
        })?;
        commit.wait().await.map_err(store_failed)?;
        Ok(response)
    }

    pub async fn filter_log_events(&self, ctx: &RequestContext, input: FilterLogEventsRequest) -> Result<FilterLogEventsResponse, ServiceError> {
        let limit = crate::pagination::limit(input.limit, MAX_EVENTS_PAGE, MAX_EVENTS_PAGE)?;
        let name = resolve_group_name(input.log_group_name.as_deref(), input.log_group_identifier.as_deref())?;
        if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
            return Err(invalid("You cannot specify both logStreamNames and logStreamNamePrefix.").into());
        }
        let pattern = Pattern::parse(input.filter_pattern.as_deref().unwrap_or("")).map_err(invalid)?;
        let after = match input.next_token.as_deref() {
            None => None,
            Some(t) => Some(parse_filter_token(t).ok_or_else(invalid_token)?),
        };
        let (start, end) = (input.start_time, input.end_time);
        let (response, commit) = self.with_partition(ctx, |p| {
            let group = group_mut(p, &name)?;
            let mut ops = Vec::new();
            group.expire(clock::now_millis(), &mut ops);
            let group: &Group = group;
            let streams: Vec<_> = group
                .streams
                .values()
                .filter(|s| input.log_stream_names.as_ref().is_none_or(|names| names.contains(&s.rec.name)))
                .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|pre| s.rec.name.starts_with(pre)))
                .collect();
            let mut matched: Vec<(&str, &Event)> = streams
                .iter()
                .flat_map(|s| s.events.iter().map(move |e| (s.rec.name.as_str(), e)))
                .filter(|(_, e)| in_range(e, start, end) && pattern.matches(&e.message))
                .filter(|(s, e)| after.as_ref().is_none_or(|a| (e.timestamp, *s, e.seq) > (a.0, a.2.as_str(), a.1)))
                .collect();
            matched.sort_by(|(s1, e1), (s2, e2)| (e1.timestamp, *s1, e1.seq).cmp(&(e2.timestamp, *s2, e2.seq)));
            let mut bytes = 0;
            let mut page = Vec::new();
            for (s, e) in &matched {
                bytes += event_bytes(e);
                if page.len() >= limit || bytes > MAX_PAGE_BYTES {
                    break;
                }
                page.push((*s, *e));
            }
            let next_token = (page.len() < matched.len()).then(|| page.last().map(|(s, e)| filter_token(e.timestamp, e.seq, s))).flatten();
            let events = page
                .into_iter()
                .map(|(s, e)| FilteredLogEvent {
                    log_stream_name: Some(s.to_string()),
                    timestamp: Some(e.timestamp),
                    message: Some(e.message.clone()),
                    ingestion_time: Some(e.ingestion_time),
                    event_id: Some(event_id(s, e)),
                })
                .collect();
            let searched = streams
                .iter()
                .map(|s| SearchedLogStream { log_stream_name: Some(s.rec.name.clone()), searched_completely: Some(true) })
                .collect();
            let response = FilterLogEventsResponse { events: Some(events), searched_log_streams: Some(searched), next_token };
            Ok::<_, LogsError>((response, self.store.submit(ops)))
        })?;
        commit.wait().await.map_err(store_failed)?;
        Ok(response)
    }
}

/// Which of `events` each subscription filter of the group passes on.
fn deliveries(filters: &[SubscriptionFilterRecord], group: &str, stream: &str, events: &[Event]) -> Vec<Delivery> {
    let mut out = Vec::new();
    for f in filters {
        let Ok(pattern) = Pattern::parse(&f.pattern) else { continue };
        let matched: Vec<(String, i64, String)> = events
            .iter()
            .filter(|e| pattern.matches(&e.message))
            .map(|e| (event_id(stream, e), e.timestamp, e.message.clone()))
            .collect();
        if !matched.is_empty() {
            out.push(Delivery { filter: f.clone(), group: group.to_string(), stream: stream.to_string(), events: matched });
        }
    }
    out
}

fn filter_token(ts: i64, seq: u64, stream: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{ts}:{seq}:{stream}"))
}

fn parse_filter_token(token: &str) -> Option<(i64, u64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let ts = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some((ts, seq, parts.next()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_look_like_aws_tokens() {
        let t = token('f', (1_700_000_000_000, 42));
        assert_eq!(t.len(), 58);
        assert_eq!(parse_token(&t), Some(('f', (1_700_000_000_000, 42))));
        assert_eq!(parse_token("x/123"), None);
        assert_eq!(parse_filter_token(&filter_token(5, 6, "a/b c")), Some((5, 6, "a/b c".to_string())));
    }
}
