//! Asynchronous invocation settings of a function, version or alias: Put/Get/Update/
//! Delete/ListFunctionEventInvokeConfig[s] (retry attempts, maximum event age and the
//! OnSuccess/OnFailure destinations that `async_invoke.rs` acts on).
//! https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html

use crate::errors::validation;
use crate::function::LATEST;
use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use serde::{Deserialize, Serialize};

/// https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
pub const MAX_RETRY_ATTEMPTS: i32 = 2;
pub const MIN_EVENT_AGE: i32 = 60;
pub const MAX_EVENT_AGE: i32 = 21_600;
/// ListFunctionEventInvokeConfigs page size ceiling.
const MAX_ITEMS: i32 = 50;

/// One configuration, as stored under `account/region/name:qualifier`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    pub function_arn: String,
    pub maximum_retry_attempts: Option<i32>,
    pub maximum_event_age_in_seconds: Option<i32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
    pub last_modified_millis: i64,
}

impl EventInvokeConfig {
    pub fn output(&self) -> FunctionEventInvokeConfig {
        FunctionEventInvokeConfig {
            last_modified: Some(Timestamp::from_millis(self.last_modified_millis)),
            function_arn: Some(self.function_arn.clone()),
            maximum_retry_attempts: self.maximum_retry_attempts,
            maximum_event_age_in_seconds: self.maximum_event_age_in_seconds,
            destination_config: Some(DestinationConfig {
                on_success: Some(OnSuccess { destination: self.on_success.clone() }),
                on_failure: Some(OnFailure { destination: self.on_failure.clone() }),
            }),
        }
    }
}

/// What a request names: the key of its configuration and the qualified ARN it reports.
struct Named {
    key: String,
    arn: String,
    function_name: String,
}

impl Lambda {
    fn event_config_target(&self, ctx: &RequestContext, function_name: &str, qualifier: Option<&str>) -> Result<Named, ServiceError> {
        let target = self.control_target(ctx, function_name, qualifier)?;
        let q = target.qualifier.clone().unwrap_or_else(|| LATEST.to_string());
        Ok(Named { key: target.qualified_key(), arn: format!("{}:{q}", target.function.arn()), function_name: target.function.name.clone() })
    }

    pub async fn put_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: PutFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        let named = self.event_config_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        check_limits(input.maximum_retry_attempts, input.maximum_event_age_in_seconds)?;
        let (on_success, on_failure) = destinations(input.destination_config.as_ref());
        self.check_destinations(ctx, &named.function_name, on_success.as_deref(), on_failure.as_deref())?;
        let config = EventInvokeConfig {
            function_arn: named.arn,
            maximum_retry_attempts: input.maximum_retry_attempts,
            maximum_event_age_in_seconds: input.maximum_event_age_in_seconds,
            on_success,
            on_failure,
            last_modified_millis: clock::now_millis(),
        };
        self.asynchronous.configs.put(&named.key, config.clone()).await?;
        Ok(config.output())
    }

    pub async fn update_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        let named = self.event_config_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        check_limits(input.maximum_retry_attempts, input.maximum_event_age_in_seconds)?;
        let (on_success, on_failure) = destinations(input.destination_config.as_ref());
        self.check_destinations(ctx, &named.function_name, on_success.as_deref(), on_failure.as_deref())?;
        let missing = no_config(&named.arn);
        self.asynchronous
            .configs
            .change(&named.key, |current| {
                let Some(current) = current else { return Err(missing) };
                let mut next = current.clone();
                if input.maximum_retry_attempts.is_some() {
                    next.maximum_retry_attempts = input.maximum_retry_attempts;
                }
                if input.maximum_event_age_in_seconds.is_some() {
                    next.maximum_event_age_in_seconds = input.maximum_event_age_in_seconds;
                }
                if let Some(d) = &input.destination_config {
                    if d.on_success.is_some() {
                        next.on_success = on_success;
                    }
                    if d.on_failure.is_some() {
                        next.on_failure = on_failure;
                    }
                }
                next.last_modified_millis = clock::now_millis();
                let out = next.output();
                Ok((Some(next), out))
            })
            .await
    }

    pub fn get_function_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: GetFunctionEventInvokeConfigRequest,
    ) -> Result<FunctionEventInvokeConfig, ServiceError> {
        let named = self.event_config_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        self.asynchronous.configs.get(&named.key).map(|c| c.output()).ok_or_else(|| no_config(&named.arn))
    }

    pub async fn delete_function_event_invoke_config(&self, ctx: &RequestContext, input: DeleteFunctionEventInvokeConfigRequest) -> Result<(), ServiceError> {
        let named = self.event_config_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        let missing = no_config(&named.arn);
        self.asynchronous.configs.change(&named.key, |current| if current.is_some() { Ok((None, ())) } else { Err(missing) }).await
    }

    pub fn list_function_event_invoke_configs(
        &self,
        ctx: &RequestContext,
        input: ListFunctionEventInvokeConfigsRequest,
    ) -> Result<ListFunctionEventInvokeConfigsResponse, ServiceError> {
        let max = crate::paging::max_items(input.max_items, MAX_ITEMS, MAX_ITEMS as usize)?;
        let f = self.control_function(ctx, &input.function_name)?;
        let prefix = format!("{}:", f.key());
        let all = self.asynchronous.configs.under(&prefix);
        let start = input.marker.as_deref().map(|m| format!("{prefix}{m}"));
        let mut page = Vec::new();
        let mut next_marker = None;
        let mut last: Option<&str> = None;
        for (key, c) in &all {
            if start.as_ref().is_some_and(|s| key <= s) {
                continue;
            }
            if page.len() == max {
                next_marker = last.map(|k| k.trim_start_matches(&prefix).to_string());
                break;
            }
            page.push(c.output());
            last = Some(key);
        }
        Ok(ListFunctionEventInvokeConfigsResponse { function_event_invoke_configs: Some(page), next_marker })
    }

    /// AWS's destination checks: an ARN of SQS, SNS, EventBridge or Lambda; a function
    /// must exist and may not be its own destination.
    fn check_destinations(&self, ctx: &RequestContext, function_name: &str, on_success: Option<&str>, on_failure: Option<&str>) -> Result<(), ServiceError> {
        let mut valid = true;
        for (member, arn) in [("onFailure", on_failure), ("onSuccess", on_success)].into_iter().filter_map(|(m, a)| Some((m, a?))) {
            let parts: Vec<&str> = arn.splitn(7, ':').collect();
            if parts.len() < 6 || parts.first() != Some(&"arn") {
                return Err(validation(&format!(
                    "Value '{arn}' at 'destinationConfig.{member}.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: ^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}})?:(\\d{{12}})?:(.*)"
                )));
            }
            match parts.get(2).copied() {
                Some("lambda") => {
                    let target = parts.get(6).map(|rest| rest.split(':').next().unwrap_or_default()).unwrap_or_default();
                    let mut dest_ctx = ctx.clone();
                    dest_ctx.region = parts.get(3).copied().unwrap_or_default().to_string();
                    dest_ctx.account_id = parts.get(4).copied().unwrap_or_default().to_string();
                    if self.control_function(&dest_ctx, target).is_err() {
                        return Err(invalid(format!("The destination ARN {arn} is invalid.")));
                    }
                    if target == function_name && dest_ctx.account_id == ctx.account_id && dest_ctx.region == ctx.region {
                        return Err(invalid("You can't specify the function as a destination for itself.".into()));
                    }
                }
                Some("sqs" | "sns" | "events") => {}
                _ => valid = false,
            }
        }
        if valid {
            return Ok(());
        }
        let part = |kind: &str, d: Option<&str>| d.map_or_else(|| "null".to_string(), |d| format!("{kind}(destination={d})"));
        Err(invalid(format!(
            "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) is invalid.",
            part("OnSuccess", on_success),
            part("OnFailure", on_failure)
        )))
    }
}

fn invalid(message: String) -> ServiceError {
    LambdaError::InvalidParameterValueException(message).into()
}

fn no_config(arn: &str) -> ServiceError {
    LambdaError::ResourceNotFoundException(format!("The function {arn} doesn't have an EventInvokeConfig")).into()
}

fn destinations(d: Option<&DestinationConfig>) -> (Option<String>, Option<String>) {
    let on_success = d.and_then(|d| d.on_success.as_ref()).and_then(|s| s.destination.clone()).filter(|s| !s.is_empty());
    let on_failure = d.and_then(|d| d.on_failure.as_ref()).and_then(|s| s.destination.clone()).filter(|s| !s.is_empty());
    (on_success, on_failure)
}

fn check_limits(retries: Option<i32>, age: Option<i32>) -> Result<(), ServiceError> {
    match retries {
        Some(n) if n < 0 => {
            return Err(validation(&format!("Value '{n}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0")));
        }
        Some(n) if n > MAX_RETRY_ATTEMPTS => {
            return Err(validation(&format!(
                "Value '{n}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to {MAX_RETRY_ATTEMPTS}"
            )));
        }
        _ => {}
    }
    match age {
        Some(n) if n < MIN_EVENT_AGE => Err(validation(&format!(
            "Value '{n}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to {MIN_EVENT_AGE}"
        ))),
        Some(n) if n > MAX_EVENT_AGE => Err(validation(&format!(
            "Value '{n}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to {MAX_EVENT_AGE}"
        ))),
        _ => Ok(()),
    }
}
