//! Concurrency: reserved concurrency per function (Put/Get/DeleteFunctionConcurrency),
//! enforced on every invoke by counting the invocations in flight; the account's
//! limits (GetAccountSettings); provisioned concurrency configurations, which kagami
//! stores and reports READY at once (environments start on demand either way).

use crate::function::{Function, LATEST, last_modified};
use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError, clock};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Concurrent executions per account and region, and the part no reservation may take.
/// https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
pub const ACCOUNT_CONCURRENCY: i32 = 1000;
pub const MIN_UNRESERVED: i32 = 100;
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const TOTAL_CODE_SIZE: i64 = 80_530_636_800;
const CODE_SIZE_UNZIPPED: i64 = 262_144_000;
const CODE_SIZE_ZIPPED: i64 = 52_428_800;
/// ListProvisionedConcurrencyConfigs page size ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListProvisionedConcurrencyConfigs.html
const MAX_PROVISIONED_ITEMS: usize = 50;

/// Invocations running now: per function, and per (account, region) for functions
/// that draw on the unreserved pool.
#[derive(Default)]
pub struct InFlight {
    counts: Mutex<(HashMap<String, i32>, HashMap<String, i32>)>,
}

impl InFlight {
    /// Admits one invocation of `function`: within its reservation when it has one,
    /// else within what the reservations of its (account, region) `pool` leave.
    pub fn enter(&self, function: String, pool: String, reserved: Option<i32>, unreserved: i32) -> Result<Running<'_>, ServiceError> {
        let mut counts = self.counts.lock();
        let running = counts.0.get(&function).copied().unwrap_or(0);
        let pool = match reserved {
            Some(limit) if running >= limit => return Err(throttled("ReservedFunctionConcurrentInvocationLimitExceeded")),
            Some(_) => None,
            None => {
                if counts.1.get(&pool).copied().unwrap_or(0) >= unreserved {
                    return Err(throttled("ConcurrentInvocationLimitExceeded"));
                }
                *counts.1.entry(pool.clone()).or_default() += 1;
                Some(pool)
            }
        };
        *counts.0.entry(function.clone()).or_default() += 1;
        Ok(Running { in_flight: self, function, pool })
    }
}

/// One invocation in flight; dropping it ends the count.
pub struct Running<'a> {
    in_flight: &'a InFlight,
    function: String,
    pool: Option<String>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut counts = self.in_flight.counts.lock();
        if let Some(n) = counts.0.get_mut(&self.function) {
            *n -= 1;
            if *n <= 0 {
                counts.0.remove(&self.function);
            }
        }
        if let Some(pool) = &self.pool
            && let Some(n) = counts.1.get_mut(pool)
        {
            *n -= 1;
            if *n <= 0 {
                counts.1.remove(pool);
            }
        }
    }
}

/// Lambda's throttle: HTTP 429 with the reason in the body.
fn throttled(reason: &str) -> ServiceError {
    ServiceError::from(LambdaError::TooManyRequestsException("Rate Exceeded.".into()))
        .with_field("Reason", reason)
        .with_field("Type", "User")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provisioned {
    pub requested: i32,
    pub last_modified: String,
}

/// Put and Get answer with the fields of the listed item.
macro_rules! from_provisioned_item {
    ($($response:ident),*) => {$(
        impl From<ProvisionedConcurrencyConfigListItem> for $response {
            fn from(item: ProvisionedConcurrencyConfigListItem) -> Self {
                $response {
                    requested_provisioned_concurrent_executions: item.requested_provisioned_concurrent_executions,
                    allocated_provisioned_concurrent_executions: item.allocated_provisioned_concurrent_executions,
                    available_provisioned_concurrent_executions: item.available_provisioned_concurrent_executions,
                    status: item.status,
                    status_reason: None,
                    last_modified: item.last_modified,
                }
            }
        }
    )*};
}
from_provisioned_item!(PutProvisionedConcurrencyConfigResponse, GetProvisionedConcurrencyConfigResponse);

impl Provisioned {
    fn item(&self, arn: String) -> ProvisionedConcurrencyConfigListItem {
        ProvisionedConcurrencyConfigListItem {
            function_arn: Some(arn),
            requested_provisioned_concurrent_executions: Some(self.requested),
            available_provisioned_concurrent_executions: Some(self.requested),
            allocated_provisioned_concurrent_executions: Some(self.requested),
            status: Some("READY".into()),
            status_reason: None,
            last_modified: Some(self.last_modified.clone()),
        }
    }
}

fn account_region(ctx_account: &str, region: &str) -> String {
    format!("{ctx_account}/{region}/")
}

const UNPUBLISHED: &str = "Provisioned Concurrency Configs cannot be applied to unpublished function versions.";
const NOT_A_VERSION: &str = "The function resource provided must be an alias or a published version.";

fn provisioned_not_found() -> ServiceError {
    LambdaError::ProvisionedConcurrencyConfigNotFoundException("No Provisioned Concurrency Config found for this function".into()).into()
}

impl Lambda {
    /// Reserved concurrency of every function of an (account, region) but `except`.
    fn reserved_total(&self, account: &str, region: &str, except: Option<&str>) -> i32 {
        self.control
            .reserved
            .under(&account_region(account, region))
            .into_iter()
            .filter(|(k, _)| Some(k.as_str()) != except)
            .map(|(_, n)| n)
            .sum()
    }

    /// Counts an invocation of `f` in, or throttles it as Lambda does.
    pub fn enter(&self, f: &Function) -> Result<Running<'_>, ServiceError> {
        let key = f.key();
        let reserved = self.control.reserved.get(&key);
        let unreserved = ACCOUNT_CONCURRENCY - self.reserved_total(&f.account, &f.region, None);
        self.control.in_flight.enter(key, account_region(&f.account, &f.region), reserved, unreserved)
    }

    /// Concurrency.ReservedConcurrentExecutions for GetFunction.
    pub fn reserved_concurrency(&self, f: &Function) -> Option<i32> {
        self.control.reserved.get(&f.key())
    }

    pub async fn put_function_concurrency(&self, ctx: &RequestContext, input: PutFunctionConcurrencyRequest) -> Result<Concurrency, ServiceError> {
        let n = input.reserved_concurrent_executions;
        if n < 0 {
            return Err(crate::errors::validation(&format!(
                "Value '{n}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"
            )));
        }
        let f = self.control_function(ctx, &input.function_name)?;
        let key = f.key();
        let others = self.reserved_total(&f.account, &f.region, Some(&key));
        if ACCOUNT_CONCURRENCY - others - n < MIN_UNRESERVED {
            return Err(LambdaError::InvalidParameterValueException(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            ))
            .into());
        }
        self.control.reserved.put(&key, n).await?;
        Ok(Concurrency { reserved_concurrent_executions: Some(n) })
    }

    pub fn get_function_concurrency(&self, ctx: &RequestContext, input: GetFunctionConcurrencyRequest) -> Result<GetFunctionConcurrencyResponse, ServiceError> {
        let f = self.control_function(ctx, &input.function_name)?;
        Ok(GetFunctionConcurrencyResponse { reserved_concurrent_executions: self.reserved_concurrency(&f) })
    }

    pub async fn delete_function_concurrency(&self, ctx: &RequestContext, input: DeleteFunctionConcurrencyRequest) -> Result<(), ServiceError> {
        let f = self.control_function(ctx, &input.function_name)?;
        self.control.reserved.change(&f.key(), |_| Ok((None, ()))).await
    }

    pub fn get_account_settings(&self, ctx: &RequestContext) -> Result<GetAccountSettingsResponse, ServiceError> {
        let prefix = account_region(&ctx.account_id, &ctx.region);
        let under = |map: &std::collections::BTreeMap<String, std::sync::Arc<Function>>| -> Vec<i64> {
            map.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(_, f)| f.code_size).collect()
        };
        let latest = under(&self.functions.read());
        // Published versions keep their packages: they count towards the storage used.
        let versions = under(&self.versions.read());
        let count = i64::try_from(latest.len()).unwrap_or(i64::MAX);
        let size = latest.iter().chain(&versions).sum::<i64>();
        Ok(GetAccountSettingsResponse {
            account_limit: Some(AccountLimit {
                total_code_size: Some(TOTAL_CODE_SIZE),
                code_size_unzipped: Some(CODE_SIZE_UNZIPPED),
                code_size_zipped: Some(CODE_SIZE_ZIPPED),
                concurrent_executions: Some(ACCOUNT_CONCURRENCY),
                unreserved_concurrent_executions: Some(ACCOUNT_CONCURRENCY - self.reserved_total(&ctx.account_id, &ctx.region, None)),
            }),
            account_usage: Some(AccountUsage { total_code_size: Some(size), function_count: Some(count) }),
        })
    }

    /// A version or alias: `latest_error` is what Lambda answers for $LATEST.
    fn provisioned_target(&self, ctx: &RequestContext, function_name: &str, qualifier: &str, latest_error: &str) -> Result<crate::control::Target, ServiceError> {
        let target = self.control_target(ctx, function_name, Some(qualifier).filter(|q| !q.is_empty()));
        if qualifier == LATEST || target.as_ref().is_ok_and(|t| t.qualifier.as_deref().is_none_or(|q| q == LATEST)) {
            return Err(LambdaError::InvalidParameterValueException(latest_error.into()).into());
        }
        target
    }

    pub async fn put_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: PutProvisionedConcurrencyConfigRequest,
    ) -> Result<PutProvisionedConcurrencyConfigResponse, ServiceError> {
        let n = input.provisioned_concurrent_executions;
        if n < 1 {
            return Err(crate::errors::validation(&format!(
                "Value '{n}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
        let target = self.provisioned_target(ctx, &input.function_name, &input.qualifier, UNPUBLISHED)?;
        if let Some(reserved) = self.control.reserved.get(&target.key())
            && n > reserved
        {
            return Err(LambdaError::InvalidParameterValueException(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function".into(),
            )
            .into());
        }
        let config = Provisioned { requested: n, last_modified: last_modified_seconds() };
        self.control.provisioned.put(&target.qualified_key(), config.clone()).await?;
        let item = config.item(target.arn());
        Ok(item.into())
    }

    pub fn get_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: GetProvisionedConcurrencyConfigRequest,
    ) -> Result<GetProvisionedConcurrencyConfigResponse, ServiceError> {
        let target = self.provisioned_target(ctx, &input.function_name, &input.qualifier, NOT_A_VERSION)?;
        let item = self.control.provisioned.get(&target.qualified_key()).ok_or_else(provisioned_not_found)?.item(target.arn());
        Ok(item.into())
    }

    pub async fn delete_provisioned_concurrency_config(
        &self,
        ctx: &RequestContext,
        input: DeleteProvisionedConcurrencyConfigRequest,
    ) -> Result<(), ServiceError> {
        let target = self.provisioned_target(ctx, &input.function_name, &input.qualifier, NOT_A_VERSION)?;
        self.control
            .provisioned
            .change(&target.qualified_key(), |_| Ok((None, ())))
            .await
    }

    pub fn list_provisioned_concurrency_configs(
        &self,
        ctx: &RequestContext,
        input: ListProvisionedConcurrencyConfigsRequest,
    ) -> Result<ListProvisionedConcurrencyConfigsResponse, ServiceError> {
        let max = crate::paging::max_items(input.max_items, 50, MAX_PROVISIONED_ITEMS)?;
        let f = self.control_function(ctx, &input.function_name)?;
        let prefix = format!("{}:", f.key());
        let items: Vec<(String, ProvisionedConcurrencyConfigListItem)> = self
            .control
            .provisioned
            .under(&prefix)
            .into_iter()
            .map(|(k, p)| {
                let q = k.get(prefix.len()..).unwrap_or_default().to_string();
                let item = p.item(format!("{}:{q}", f.arn()));
                (q, item)
            })
            .collect();
        let (page, next_marker) = crate::paging::page(items, input.marker.as_deref(), max);
        Ok(ListProvisionedConcurrencyConfigsResponse { provisioned_concurrency_configs: Some(page), next_marker })
    }
}

/// Provisioned concurrency's LastModified: `2024-01-01T00:00:00+0000`, to the second.
fn last_modified_seconds() -> String {
    let millis = last_modified(clock::now_millis());
    match millis.split_once('.') {
        Some((seconds, _)) => format!("{seconds}+0000"),
        None => millis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enter<'a>(f: &'a InFlight, name: &str, reserved: Option<i32>, unreserved: i32) -> Result<Running<'a>, String> {
        f.enter(format!("a/r/{name}"), "a/r/".into(), reserved, unreserved).map_err(|e| {
            let reason = e.fields.iter().find(|(k, _)| k == "Reason").map(|(_, v)| format!("{v:?}")).unwrap_or_default();
            format!("{} {} {reason}", e.status, e.message)
        })
    }

    #[test]
    fn a_reservation_caps_its_function_until_an_invocation_ends() {
        let f = InFlight::default();
        let first = enter(&f, "x", Some(1), 1000).unwrap();
        let refused = enter(&f, "x", Some(1), 1000).err().unwrap();
        assert!(refused.starts_with("429 Rate Exceeded.") && refused.contains("ReservedFunctionConcurrentInvocationLimitExceeded"));
        drop(first);
        assert!(enter(&f, "x", Some(1), 1000).is_ok());
        assert!(enter(&f, "zero", Some(0), 1000).is_err());
    }

    #[test]
    fn unreserved_functions_share_the_rest_of_the_account() {
        let f = InFlight::default();
        let a = enter(&f, "a", None, 2).unwrap();
        let _b = enter(&f, "b", None, 2).unwrap();
        // A reserved function does not draw on the shared pool.
        let _r = enter(&f, "r", Some(5), 2).unwrap();
        let refused = enter(&f, "c", None, 2).err().unwrap();
        assert!(refused.contains("ConcurrentInvocationLimitExceeded") && !refused.contains("Reserved"));
        drop(a);
        assert!(enter(&f, "c", None, 2).is_ok());
    }
}
