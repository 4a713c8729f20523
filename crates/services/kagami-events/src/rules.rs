//! Rules: put, describe, list, delete, enable, disable, and the rules that name a target.

use crate::buses::finish;
use crate::errors::{constraint, invalid_pattern, limit_exceeded, rule_not_found, validation};
use crate::generated::*;
use crate::pattern::Pattern;
use crate::state::{BusRef, DEFAULT_BUS, Events, RULES, Rule, RuleRecord};
use crate::validate;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, clock};
use std::collections::BTreeMap;
use std::sync::Arc;

/// At most 300 rules per event bus.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
const MAX_RULES_PER_BUS: usize = 300;
/// An event pattern is at most 4096 characters.
/// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
const MAX_PATTERN_LENGTH: usize = 4096;
const MAX_SCHEDULE_LENGTH: usize = 256;
const STATES: &[&str] = &["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"];

/// The bus a rule operation names: always in the caller's account and region.
pub(crate) fn bus_of(ctx: &RequestContext, name_or_arn: Option<&str>) -> String {
    BusRef::resolve(&ctx.account_id, &ctx.region, name_or_arn).name
}

pub(crate) fn parse_pattern(text: &str) -> Result<Pattern, EventsError> {
    if text.len() > MAX_PATTERN_LENGTH {
        return Err(constraint("...", "eventPattern", "Member must have length less than or equal to 4096"));
    }
    Pattern::parse(text).map_err(|reason| invalid_pattern(&reason))
}

fn describe(rule: &Rule) -> DescribeRuleResponse {
    DescribeRuleResponse {
        name: Some(rule.rec.name.clone()),
        arn: Some(rule.arn()),
        event_pattern: rule.rec.event_pattern.clone(),
        schedule_expression: rule.rec.schedule_expression.clone(),
        state: Some(rule.rec.state.clone()),
        description: rule.rec.description.clone(),
        role_arn: rule.rec.role_arn.clone(),
        managed_by: None,
        event_bus_name: Some(rule.rec.bus.clone()),
        created_by: Some(rule.rec.account.clone()),
    }
}

impl Events {
    pub async fn put_rule(&self, ctx: &RequestContext, input: PutRuleRequest) -> Result<PutRuleResponse, ServiceError> {
        validate::rule_name(&input.name, "name")?;
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        if input.event_pattern.is_none() && input.schedule_expression.is_none() {
            return Err(validation("Parameter(s) EventPattern or ScheduleExpression must be specified.").into());
        }
        let pattern = input.event_pattern.as_deref().map(parse_pattern).transpose()?.map(Arc::new);
        let schedule = match input.schedule_expression.as_deref() {
            None => None,
            Some(s) if s.len() > MAX_SCHEDULE_LENGTH => {
                return Err(constraint(s, "scheduleExpression", "Member must have length less than or equal to 256").into());
            }
            Some(s) => Some(crate::schedule::parse(s).ok_or_else(|| validation("Parameter ScheduleExpression is not valid."))?),
        };
        if schedule.is_some() && bus != DEFAULT_BUS {
            return Err(validation("ScheduleExpression is supported only on the default event bus.").into());
        }
        let state = input.state.clone().unwrap_or_else(|| "ENABLED".into());
        if !STATES.contains(&state.as_str()) {
            return Err(constraint(&state, "state", "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]").into());
        }
        if input.description.as_ref().is_some_and(|d| d.len() > 512) {
            return Err(constraint("...", "description", "Member must have length less than or equal to 512").into());
        }
        let tags = validate::tags(input.tags)?;
        let now = clock::now_millis();
        let (arn, commit) = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let b = p.bus_mut(&bus)?;
            let existing = b.rules.remove(&input.name);
            if existing.is_none() && b.rules.len() >= MAX_RULES_PER_BUS {
                return Err(limit_exceeded());
            }
            // An update keeps the rule's targets and tags: PutRule's Tags apply to new rules.
            let (targets, tags, created) = match existing {
                Some(r) => (r.targets, r.rec.tags, if r.rec.schedule_expression == input.schedule_expression { r.rec.created } else { now }),
                None => (Vec::new(), tags, now),
            };
            let mut rule = Rule {
                rec: RuleRecord {
                    account: ctx.account_id.clone(),
                    region: ctx.region.clone(),
                    bus: bus.clone(),
                    name: input.name.clone(),
                    event_pattern: input.event_pattern.clone(),
                    schedule_expression: input.schedule_expression.clone(),
                    state,
                    description: input.description.clone(),
                    role_arn: input.role_arn.clone(),
                    tags,
                    created,
                    targets: Vec::new(),
                },
                pattern,
                schedule,
                targets,
                next_fire: None,
            };
            rule.reschedule(now);
            let arn = rule.arn();
            let commit = self.store.submit(vec![rule.record_op()]);
            b.rules.insert(input.name.clone(), rule);
            Ok((arn, commit))
        })?;
        self.schedule_changed.notify_waiters();
        finish(commit).await?;
        Ok(PutRuleResponse { rule_arn: Some(arn) })
    }

    pub async fn describe_rule(&self, ctx: &RequestContext, input: DescribeRuleRequest) -> Result<DescribeRuleResponse, ServiceError> {
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        Ok(self.with_partition(&ctx.account_id, &ctx.region, |p| p.rule_mut(&bus, &input.name).map(|r| describe(r)))?)
    }

    pub async fn list_rules(&self, ctx: &RequestContext, input: ListRulesRequest) -> Result<ListRulesResponse, ServiceError> {
        let limit = validate::limit(input.limit)?;
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let prefix = input.name_prefix.unwrap_or_default();
        let all: Vec<crate::generated::Rule> = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let b = p.bus_mut(&bus)?;
            Ok::<_, EventsError>(
                b.rules
                    .values()
                    .filter(|r| r.rec.name.starts_with(&prefix))
                    .map(|r| {
                        let d = describe(r);
                        crate::generated::Rule {
                            name: d.name,
                            arn: d.arn,
                            event_pattern: d.event_pattern,
                            state: d.state,
                            description: d.description,
                            schedule_expression: d.schedule_expression,
                            role_arn: d.role_arn,
                            managed_by: None,
                            event_bus_name: d.event_bus_name,
                        }
                    })
                    .collect(),
            )
        })?;
        let (page, next) = validate::page(all, input.next_token.as_deref(), limit)?;
        Ok(ListRulesResponse { rules: Some(page), next_token: next })
    }

    pub async fn delete_rule(&self, ctx: &RequestContext, input: DeleteRuleRequest) -> Result<(), ServiceError> {
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let b = p.bus_mut(&bus)?;
            // Deleting a rule that does not exist succeeds, as AWS's does.
            let Some(rule) = b.rules.get(&input.name) else { return Ok(None) };
            if !rule.targets.is_empty() {
                return Err(validation("Rule can't be deleted since it has targets."));
            }
            let key = rule.key();
            b.rules.remove(&input.name);
            Ok(Some(self.store.submit(vec![StoreOp::delete(RULES, key)])))
        })?;
        self.schedule_changed.notify_waiters();
        match commit {
            Some(c) => finish(c).await,
            None => Ok(()),
        }
    }

    pub async fn enable_rule(&self, ctx: &RequestContext, input: EnableRuleRequest) -> Result<(), ServiceError> {
        self.set_state(ctx, &input.name, input.event_bus_name.as_deref(), "ENABLED").await
    }

    pub async fn disable_rule(&self, ctx: &RequestContext, input: DisableRuleRequest) -> Result<(), ServiceError> {
        self.set_state(ctx, &input.name, input.event_bus_name.as_deref(), "DISABLED").await
    }

    async fn set_state(&self, ctx: &RequestContext, name: &str, bus: Option<&str>, state: &str) -> Result<(), ServiceError> {
        let bus = bus_of(ctx, bus);
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let rule = p.rule_mut(&bus, name)?;
            rule.rec.state = state.to_string();
            rule.reschedule(clock::now_millis());
            Ok::<_, EventsError>(self.store.submit(vec![rule.record_op()]))
        })?;
        self.schedule_changed.notify_waiters();
        finish(commit).await
    }

    pub async fn list_rule_names_by_target(
        &self,
        ctx: &RequestContext,
        input: ListRuleNamesByTargetRequest,
    ) -> Result<ListRuleNamesByTargetResponse, ServiceError> {
        let limit = validate::limit(input.limit)?;
        let bus = bus_of(ctx, input.event_bus_name.as_deref());
        let names: Vec<String> = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let b = p.bus_mut(&bus)?;
            Ok::<_, EventsError>(
                b.rules.values().filter(|r| r.targets.iter().any(|t| t.arn == input.target_arn)).map(|r| r.rec.name.clone()).collect(),
            )
        })?;
        let (page, next) = validate::page(names, input.next_token.as_deref(), limit)?;
        Ok(ListRuleNamesByTargetResponse { rule_names: Some(page), next_token: next })
    }

    pub async fn test_event_pattern(&self, _ctx: &RequestContext, input: TestEventPatternRequest) -> Result<TestEventPatternResponse, ServiceError> {
        let pattern = parse_pattern(&input.event_pattern)?;
        let event: serde_json::Value = serde_json::from_str(&input.event).map_err(|_| validation("Parameter Event is not valid."))?;
        // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html
        for field in ["id", "account", "source", "time", "region", "resources", "detail-type"] {
            if event.get(field).is_none() {
                return Err(validation("Parameter Event is not valid.").into());
            }
        }
        Ok(TestEventPatternResponse { result: Some(pattern.matches(&event)) })
    }

    /// Tags of a rule or event bus, by ARN.
    pub(crate) fn with_tags<R>(
        &self,
        ctx: &RequestContext,
        arn: &str,
        write: bool,
        f: impl FnOnce(&mut BTreeMap<String, String>) -> R,
    ) -> Result<(R, Option<Commit>), EventsError> {
        let invalid = || validation(format!("Parameter ResourceARN is not valid. Reason: {arn} is not a valid ARN for an EventBridge rule or event bus."));
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _, "events", region, account, resource] = parts.as_slice() else { return Err(invalid()) };
        if *account != ctx.account_id || *region != ctx.region {
            return Err(EventsError::ResourceNotFoundException(format!("Resource {arn} does not exist.")));
        }
        self.with_partition(account, region, |p| {
            if let Some(bus) = resource.strip_prefix("event-bus/") {
                let b = p.bus_mut(bus)?;
                let r = f(&mut b.rec.tags);
                return Ok((r, write.then(|| self.store.submit(vec![b.record_op()]))));
            }
            let Some(path) = resource.strip_prefix("rule/") else { return Err(invalid()) };
            let (bus, name) = path.rsplit_once('/').unwrap_or((DEFAULT_BUS, path));
            let rule = p.bus_mut(bus)?.rules.get_mut(name).ok_or_else(|| rule_not_found(name, bus))?;
            let r = f(&mut rule.rec.tags);
            Ok((r, write.then(|| self.store.submit(vec![rule.record_op()]))))
        })
    }
}
