//! PutEvents: each entry is checked on its own, becomes an event in AWS's envelope, and
//! goes to the targets of every enabled rule of its bus whose pattern matches it.
//! https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html

use crate::delivery::Delivery;
use crate::errors::{constraint, validation};
use crate::generated::*;
use crate::state::{BusRef, Events};
use kagami_core::store::Commit;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock, ids};
use serde_json::{Value as Json, json};
use std::sync::Arc;

/// At most ten entries, of at most 256 KiB together.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
const MAX_ENTRIES: usize = 10;
const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// What the Time member counts for in the size of an entry.
const TIME_BYTES: usize = 14;
/// Sources reserved for AWS services.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
const AWS_SOURCE_PREFIX: &str = "aws.";
/// A bus that is another bus's target may forward once more, no further: events never loop.
pub(crate) const MAX_BUS_HOPS: u8 = 4;

fn entry_size(e: &PutEventsRequestEntry) -> usize {
    let strings = [&e.source, &e.detail_type, &e.detail].iter().map(|s| s.as_ref().map_or(0, String::len)).sum::<usize>();
    let resources = e.resources.iter().flatten().map(String::len).sum::<usize>();
    strings + resources + if e.time.is_some() { TIME_BYTES } else { 0 }
}

fn entry_error(code: &str, message: String) -> PutEventsResultEntry {
    PutEventsResultEntry { event_id: None, error_code: Some(code.into()), error_message: Some(message) }
}

/// The event an entry describes, or the entry's error.
fn envelope(ctx: &RequestContext, e: &PutEventsRequestEntry, region: &str) -> Result<Json, PutEventsResultEntry> {
    let required = |member: &str| entry_error("InvalidArgument", format!("Parameter {member} is not valid. Reason: {member} is a required argument."));
    let source = e.source.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| required("Source"))?;
    // Only AWS services emit events whose source starts with "aws.".
    if source.starts_with(AWS_SOURCE_PREFIX) {
        return Err(entry_error("NotAuthorizedForSourceException", "Not authorized for the source.".into()));
    }
    let detail_type = e.detail_type.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| required("DetailType"))?;
    let detail_text = e.detail.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| required("Detail"))?;
    let detail: Json = match serde_json::from_str(detail_text) {
        Ok(d @ Json::Object(_)) => d,
        _ => return Err(entry_error("MalformedDetail", "Detail is malformed.".into())),
    };
    let time = e.time.unwrap_or_else(|| Timestamp::from_millis(clock::now_millis()));
    // The envelope's time has seconds precision.
    let time = Timestamp::from_millis(time.as_millis().div_euclid(1000) * 1000).to_iso8601();
    Ok(json!({
        "version": "0",
        "id": ids::uuid_v4(),
        "detail-type": detail_type,
        "source": source,
        "account": ctx.account_id,
        "time": time,
        "region": region,
        "resources": e.resources.clone().unwrap_or_default(),
        "detail": detail,
    }))
}

impl Events {
    pub async fn put_events(self: &Arc<Self>, ctx: &RequestContext, input: PutEventsRequest) -> Result<PutEventsResponse, ServiceError> {
        if input.entries.is_empty() || input.entries.len() > MAX_ENTRIES {
            return Err(constraint("[...]", "entries", "Member must have length less than or equal to 10").into());
        }
        if input.entries.iter().map(entry_size).sum::<usize>() > MAX_REQUEST_BYTES {
            return Err(validation("Total size of the entries in the request is over the limit.").into());
        }
        let mut results = Vec::with_capacity(input.entries.len());
        let mut commits = Vec::new();
        let mut failed = 0;
        for e in &input.entries {
            let bus = BusRef::resolve(&ctx.account_id, &ctx.region, e.event_bus_name.as_deref());
            let result = envelope(ctx, e, &bus.region).map(|event| {
                let id = event["id"].as_str().unwrap_or_default().to_string();
                // AWS accepts events for a bus that does not exist and drops them.
                // https://github.com/aws/aws-cli/issues/9186
                match self.route(&bus, event, 0) {
                    Some(commit) => commits.push(commit),
                    None => tracing::debug!(bus = %bus.name, "event for a bus that does not exist dropped"),
                }
                PutEventsResultEntry { event_id: Some(id), error_code: None, error_message: None }
            });
            if result.is_err() {
                failed += 1;
            }
            results.push(result.unwrap_or_else(|e| e));
        }
        // Nothing is acknowledged before the deliveries it started are durable.
        for commit in commits {
            commit.wait().await.map_err(|e| ServiceError::internal(format!("storing pending deliveries: {e}")))?;
        }
        Ok(PutEventsResponse { failed_entry_count: Some(failed), entries: Some(results) })
    }

    /// Hands `event` to the targets of the matching rules of `bus`, submitting their
    /// records first (awaiting the commit makes them durable); None when there is no such bus.
    pub(crate) fn route(self: &Arc<Self>, bus: &BusRef, event: Json, hops: u8) -> Option<Commit> {
        let event = Arc::new(event);
        let deliveries = self.with_partition(&bus.account, &bus.region, |p| {
            let b = p.buses.get(&bus.name)?;
            let mut out = Vec::new();
            for rule in b.rules.values() {
                if !rule.enabled() || !rule.pattern.as_ref().is_some_and(|pt| pt.matches(&event)) {
                    continue;
                }
                for target in &rule.targets {
                    out.push(Delivery::new(rule, target, &event, hops));
                }
            }
            Some(out)
        })?;
        let commit = self.submit_pending(&deliveries);
        for d in deliveries {
            self.spawn_delivery(d);
        }
        Some(commit)
    }
}
