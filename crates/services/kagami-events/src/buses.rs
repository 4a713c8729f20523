//! Event buses: create, delete, describe, list, update, and the resource policy that
//! PutPermission and RemovePermission edit.

use crate::errors::{bus_not_found, limit_exceeded, store_failed, validation};
use crate::generated::*;
use crate::state::{BUSES, Bus, BusRef, DEFAULT_BUS, Events, bus_key};
use crate::validate;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use serde_json::{Value as Json, json};

/// At most 100 event buses per account and region.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
const MAX_BUSES: usize = 100;
const PUT_EVENTS_ACTION: &str = "events:PutEvents";

pub(crate) async fn finish(commit: Commit) -> Result<(), ServiceError> {
    commit.wait().await.map_err(store_failed)
}

fn dead_letter(bus: &Bus) -> Option<DeadLetterConfig> {
    bus.rec.dead_letter_arn.clone().map(|arn| DeadLetterConfig { arn: Some(arn) })
}

fn log_config(bus: &Bus) -> Option<LogConfig> {
    bus.rec.log_config.as_ref().and_then(|j| kagami_protocol::shapes::FromValue::from_value(crate::json::from_json(j)).ok())
}

fn log_config_json(config: Option<LogConfig>) -> Option<Json> {
    config.map(|c| crate::json::to_json(&kagami_protocol::shapes::IntoValue::into_value(c)))
}

impl Events {
    pub async fn create_event_bus(&self, ctx: &RequestContext, input: CreateEventBusRequest) -> Result<CreateEventBusResponse, ServiceError> {
        validate::bus_name(&input.name)?;
        if let Some(source) = &input.event_source_name {
            // kagami has no partner event sources to associate a bus with.
            return Err(EventsError::ResourceNotFoundException(format!("Event source {source} does not exist.")).into());
        }
        let tags = validate::tags(input.tags)?;
        let (response, commit) = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            if p.buses.contains_key(&input.name) {
                return Err(EventsError::ResourceAlreadyExistsException(format!("Event bus {} already exists.", input.name)));
            }
            if p.buses.len() >= MAX_BUSES {
                return Err(limit_exceeded());
            }
            let mut bus = Bus::new(&ctx.account_id, &ctx.region, &input.name);
            bus.rec.description = input.description.clone();
            bus.rec.kms_key_identifier = input.kms_key_identifier.clone();
            bus.rec.dead_letter_arn = input.dead_letter_config.as_ref().and_then(|d| d.arn.clone());
            bus.rec.log_config = log_config_json(input.log_config.clone());
            bus.rec.tags = tags;
            let response = CreateEventBusResponse {
                event_bus_arn: Some(bus.arn()),
                description: input.description.clone(),
                kms_key_identifier: input.kms_key_identifier.clone(),
                dead_letter_config: dead_letter(&bus),
                log_config: input.log_config.clone(),
            };
            let commit = self.store.submit(vec![bus.record_op()]);
            p.buses.insert(input.name.clone(), bus);
            Ok((response, commit))
        })?;
        finish(commit).await?;
        Ok(response)
    }

    pub async fn delete_event_bus(&self, ctx: &RequestContext, input: DeleteEventBusRequest) -> Result<(), ServiceError> {
        if input.name == DEFAULT_BUS {
            return Err(validation("Cannot delete event bus default.").into());
        }
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            // Deleting a bus that does not exist succeeds, as AWS's does.
            let Some(bus) = p.buses.get(&input.name) else { return Ok(None) };
            if !bus.rules.is_empty() {
                return Err(validation("EventBus can't be deleted since it has rules."));
            }
            p.buses.remove(&input.name);
            Ok(Some(self.store.submit(vec![StoreOp::delete(BUSES, bus_key(&ctx.account_id, &ctx.region, &input.name))])))
        })?;
        match commit {
            Some(c) => finish(c).await,
            None => Ok(()),
        }
    }

    pub async fn describe_event_bus(&self, ctx: &RequestContext, input: DescribeEventBusRequest) -> Result<DescribeEventBusResponse, ServiceError> {
        let r = BusRef::resolve(&ctx.account_id, &ctx.region, input.name.as_deref());
        let out = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let bus = p.buses.get(&r.name).ok_or_else(|| bus_not_found(&r.name))?;
            Ok::<_, EventsError>(DescribeEventBusResponse {
                name: Some(bus.rec.name.clone()),
                arn: Some(bus.arn()),
                description: bus.rec.description.clone(),
                kms_key_identifier: bus.rec.kms_key_identifier.clone(),
                dead_letter_config: dead_letter(bus),
                policy: bus.rec.policy.clone(),
                log_config: log_config(bus),
                creation_time: Some(Timestamp::from_millis(bus.rec.creation_time)),
                last_modified_time: Some(Timestamp::from_millis(bus.rec.last_modified_time)),
                managed_by: None,
            })
        })?;
        Ok(out)
    }

    pub async fn list_event_buses(&self, ctx: &RequestContext, input: ListEventBusesRequest) -> Result<ListEventBusesResponse, ServiceError> {
        let limit = validate::limit(input.limit)?;
        let prefix = input.name_prefix.unwrap_or_default();
        let all: Vec<EventBus> = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            p.buses
                .values()
                .filter(|b| b.rec.name.starts_with(&prefix))
                .map(|b| EventBus {
                    name: Some(b.rec.name.clone()),
                    arn: Some(b.arn()),
                    description: b.rec.description.clone(),
                    policy: b.rec.policy.clone(),
                    creation_time: Some(Timestamp::from_millis(b.rec.creation_time)),
                    last_modified_time: Some(Timestamp::from_millis(b.rec.last_modified_time)),
                    managed_by: None,
                })
                .collect()
        });
        let (page, next) = validate::page(all, input.next_token.as_deref(), limit)?;
        Ok(ListEventBusesResponse { event_buses: Some(page), next_token: next })
    }

    pub async fn update_event_bus(&self, ctx: &RequestContext, input: UpdateEventBusRequest) -> Result<UpdateEventBusResponse, ServiceError> {
        let r = BusRef::resolve(&ctx.account_id, &ctx.region, input.name.as_deref());
        let (out, commit) = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let bus = p.bus_mut(&r.name)?;
            if input.description.is_some() {
                bus.rec.description = input.description.clone();
            }
            if input.kms_key_identifier.is_some() {
                bus.rec.kms_key_identifier = input.kms_key_identifier.clone();
            }
            if let Some(d) = &input.dead_letter_config {
                bus.rec.dead_letter_arn = d.arn.clone();
            }
            if input.log_config.is_some() {
                bus.rec.log_config = log_config_json(input.log_config.clone());
            }
            bus.rec.last_modified_time = clock::now_millis();
            let out = UpdateEventBusResponse {
                arn: Some(bus.arn()),
                name: Some(bus.rec.name.clone()),
                kms_key_identifier: bus.rec.kms_key_identifier.clone(),
                description: bus.rec.description.clone(),
                dead_letter_config: dead_letter(bus),
                log_config: log_config(bus),
            };
            Ok::<_, EventsError>((out, self.store.submit(vec![bus.record_op()])))
        })?;
        finish(commit).await?;
        Ok(out)
    }

    pub async fn put_permission(&self, ctx: &RequestContext, input: PutPermissionRequest) -> Result<(), ServiceError> {
        let r = BusRef::resolve(&ctx.account_id, &ctx.region, input.event_bus_name.as_deref());
        let statement = match &input.policy {
            Some(policy) => {
                let doc: Json = serde_json::from_str(policy).map_err(|_| validation("Parameter Policy is not valid JSON."))?;
                if !doc.is_object() {
                    return Err(validation("Parameter Policy is not valid JSON.").into());
                }
                None
            }
            None => Some(statement_of(&input, &r, ctx)?),
        };
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let bus = p.bus_mut(&r.name)?;
            let arn = bus.arn();
            bus.rec.policy = match statement {
                None => input.policy.clone(),
                Some(statement) => {
                    let mut doc: Json = bus
                        .rec
                        .policy
                        .as_deref()
                        .and_then(|p| serde_json::from_str::<Json>(p).ok()).filter(Json::is_object)
                        .unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
                    let sid = statement["Sid"].clone();
                    let mut list = take_statements(&mut doc);
                    if list.iter().any(|s| s["Sid"] == sid) {
                        return Err(EventsError::ResourceAlreadyExistsException("Statement with the provided id already exists.".into()));
                    }
                    let mut statement = statement;
                    statement["Resource"] = Json::from(arn);
                    list.push(statement);
                    doc["Statement"] = Json::Array(list);
                    Some(doc.to_string())
                }
            };
            bus.rec.last_modified_time = clock::now_millis();
            Ok(self.store.submit(vec![bus.record_op()]))
        })?;
        finish(commit).await
    }

    pub async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionRequest) -> Result<(), ServiceError> {
        let r = BusRef::resolve(&ctx.account_id, &ctx.region, input.event_bus_name.as_deref());
        let remove_all = input.remove_all_permissions.unwrap_or(false);
        if !remove_all && input.statement_id.is_none() {
            return Err(validation("Parameter StatementId is required when RemoveAllPermissions is not true.").into());
        }
        let commit = self.with_partition(&ctx.account_id, &ctx.region, |p| {
            let bus = p.bus_mut(&r.name)?;
            if remove_all {
                bus.rec.policy = None;
            } else {
                let mut doc: Json = bus
                    .rec
                    .policy
                    .as_deref()
                    .and_then(|p| serde_json::from_str::<Json>(p).ok()).filter(Json::is_object)
                    .ok_or_else(|| EventsError::ResourceNotFoundException("EventBus does not have a policy.".into()))?;
                let sid = input.statement_id.clone().unwrap_or_default();
                let mut list = take_statements(&mut doc);
                let before = list.len();
                list.retain(|s| s["Sid"].as_str() != Some(sid.as_str()));
                if list.len() == before {
                    return Err(EventsError::ResourceNotFoundException("Statement with the provided id does not exist.".into()));
                }
                let empty = list.is_empty();
                doc["Statement"] = Json::Array(list);
                bus.rec.policy = (!empty).then(|| doc.to_string());
            }
            bus.rec.last_modified_time = clock::now_millis();
            Ok(self.store.submit(vec![bus.record_op()]))
        })?;
        finish(commit).await
    }
}

/// Takes the policy's statements out as a list, whatever shape the stored policy had.
fn take_statements(doc: &mut Json) -> Vec<Json> {
    match doc.get_mut("Statement").map(Json::take) {
        Some(Json::Array(list)) => list,
        None | Some(Json::Null) => Vec::new(),
        Some(single) => vec![single],
    }
}

/// The statement PutPermission's Action, Principal, StatementId and Condition describe.
fn statement_of(input: &PutPermissionRequest, bus: &BusRef, ctx: &RequestContext) -> Result<Json, EventsError> {
    let (Some(action), Some(principal), Some(sid)) = (&input.action, &input.principal, &input.statement_id) else {
        return Err(validation("One or more of the parameters Action, Principal, StatementId or Policy must be specified."));
    };
    if action != PUT_EVENTS_ACTION {
        return Err(validation("Provided value in parameter 'action' is not supported."));
    }
    let principal_json = match principal.as_str() {
        "*" => Json::from("*"),
        p if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) => {
            json!({"AWS": format!("arn:{}:iam::{p}:root", kagami_core::arn::partition_of_region(&ctx.region))})
        }
        _ => return Err(validation("Parameter Principal must be a 12-digit AWS account ID or '*'.")),
    };
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_json,
        "Action": action,
        "Resource": crate::state::bus_arn(&bus.account, &bus.region, &bus.name),
    });
    if let Some(c) = &input.condition {
        statement["Condition"] = json!({ c.type_.clone(): { c.key.clone(): c.value.clone() } });
    }
    Ok(statement)
}
