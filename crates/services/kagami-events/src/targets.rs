//! Targets of a rule: put, remove, list.

use crate::buses::finish;
use crate::errors::{constraint, limit_exceeded};
use crate::generated::*;
use crate::rules::bus_of;
use crate::state::Events;
use crate::transform::valid_path;
use crate::validate;
use kagami_core::{RequestContext, ServiceError};

/// A rule has at most five targets; one PutTargets call names at most ten.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
const MAX_TARGETS_PER_RULE: usize = 5;
const MAX_TARGETS_PER_CALL: usize = 10;
/// RemoveTargets names at most 100 ids.
const MAX_REMOVE_IDS: usize = 100;
/// Input, InputPath and an InputTemplate are at most 8192 characters.
/// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html
const MAX_INPUT: usize = 8192;

/// Why a target cannot be put, as PutTargets' FailedEntries report it.
fn target_problem(t: &Target) -> Option<String> {
    let parts: Vec<&str> = t.arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() {
        return Some(format!("Parameter {} is not valid.", t.arn));
    }
    let given = [t.input.is_some(), t.input_path.is_some(), t.input_transformer.is_some()].iter().filter(|b| **b).count();
    if given > 1 {
        return Some(format!("Only one of Input, InputPath, or InputTransformer must be provided for target {}.", t.id));
    }
    if let Some(input) = &t.input
        && (input.len() > MAX_INPUT || serde_json::from_str::<serde_json::Value>(input).is_err())
    {
        return Some(format!("Input is not valid JSON text for target {}.", t.id));
    }
    if let Some(path) = &t.input_path
        && !valid_path(path)
    {
        return Some(format!("InputPath is not a valid JSON path for target {}.", t.id));
    }
    if let Some(tr) = &t.input_transformer {
        if tr.input_template.is_empty() || tr.input_template.len() > MAX_INPUT {
            return Some(format!("InputTemplate for target {} must have a length between 1 and 8192.", t.id));
        }
        for (key, path) in tr.input_paths_map.iter().flatten() {
            if key.starts_with("aws.") {
                return Some(format!("InputTransformer for target {} is not valid: aws.* input path names are reserved.", t.id));
            }
            if !valid_path(path) {
                return Some(format!("InputTransformer for target {} is not valid: {path} is not a valid JSON path.", t.id));
            }
        }
    }
    if parts[2] == "sqs" && parts[5].ends_with(".fifo") && t.sqs_parameters.as_ref().and_then(|p| p.message_group_id.as_ref()).is_none() {
        return Some(format!("Parameter(s) SqsParameters must be specified for target: {}.", t.id));
    }
    None
}

impl Events {
    pub async fn put_targets(&self, ctx: &RequestContext, input: PutTargetsRequest) -> Result<PutTargetsResponse, ServiceError> {
        validate::rule_name(&input.rule, "rule")?;
        if input.targets.is_empty() || input.targets.len() > MAX_TARGETS_PER_CALL {
            return Err(constraint("[...]", "targets", "Member must have length less than or equal to 10").into());
        }
        for t in &input.targets {
            validate::target_id(&t.id)?;
        }
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let (failed, commit) = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let rule = p.rule_mut(&bus, &input.rule)?;
            let mut failed = Vec::new();
            let mut targets = rule.targets.clone();
            for t in input.targets {
                if let Some(message) = target_problem(&t) {
                    failed.push(PutTargetsResultEntry { target_id: Some(t.id.clone()), error_code: Some("ValidationException".into()), error_message: Some(message) });
                    continue;
                }
                match targets.iter_mut().find(|x| x.id == t.id) {
                    Some(existing) => *existing = t,
                    None => targets.push(t),
                }
            }
            if targets.len() > MAX_TARGETS_PER_RULE {
                return Err(limit_exceeded());
            }
            rule.targets = targets;
            Ok::<_, EventsError>((failed, self.store.submit(vec![rule.record_op()])))
        })?;
        finish(commit).await?;
        Ok(PutTargetsResponse { failed_entry_count: Some(i32::try_from(failed.len()).unwrap_or(i32::MAX)), failed_entries: Some(failed) })
    }

    pub async fn remove_targets(&self, ctx: &RequestContext, input: RemoveTargetsRequest) -> Result<RemoveTargetsResponse, ServiceError> {
        validate::rule_name(&input.rule, "rule")?;
        if input.ids.is_empty() || input.ids.len() > MAX_REMOVE_IDS {
            return Err(constraint("[...]", "ids", "Member must have length less than or equal to 100").into());
        }
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let rule = p.rule_mut(&bus, &input.rule)?;
            rule.targets.retain(|t| !input.ids.contains(&t.id));
            Ok::<_, EventsError>(self.store.submit(vec![rule.record_op()]))
        })?;
        finish(commit).await?;
        Ok(RemoveTargetsResponse { failed_entry_count: Some(0), failed_entries: Some(Vec::new()) })
    }

    pub async fn list_targets_by_rule(&self, ctx: &RequestContext, input: ListTargetsByRuleRequest) -> Result<ListTargetsByRuleResponse, ServiceError> {
        let limit = validate::limit(input.limit)?;
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let targets = self.with_partition(&ctx.account_id, &ctx.region, |p| p.rule_mut(&bus, &input.rule).map(|r| r.targets.clone()))?;
        let (page, next) = validate::page(targets, input.next_token.as_deref(), limit)?;
        Ok(ListTargetsByRuleResponse { targets: Some(page), next_token: next })
    }
}
