//! ListFunctions: every function of the account and region, by name, with
//! `FunctionVersion=ALL` each function's `$LATEST` followed by its published versions,
//! and `MasterRegion` (Lambda@Edge replicas, which kagami never has) validated.
//! https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html

use crate::function::{Function, children_prefix};
use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError};
use std::sync::Arc;

/// Page size when MaxItems is absent, and its ceiling.
const MAX_ITEMS: usize = 50;
/// The model's pattern for MasterRegion.
const MASTER_REGION_PATTERN: &str = r"ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}";

/// `ALL`, or a region name such as `us-east-1` / `us-gov-west-1`.
fn is_master_region(v: &str) -> bool {
    if v == "ALL" {
        return true;
    }
    let parts: Vec<&str> = v.split('-').collect();
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    // `[a-z]{2}` then `-[a-z]+-\d`, with or without `-gov` between.
    let tail = |rest: &[&str]| matches!(rest, [name, n] if lower(name) && n.len() == 1 && n.bytes().all(|b| b.is_ascii_digit()));
    match parts.as_slice() {
        [area, rest @ ..] if area.len() == 2 && lower(area) => tail(rest) || rest.split_first().is_some_and(|(g, r)| *g == "gov" && tail(r)),
        _ => false,
    }
}

/// Where an entry sorts: the function's name, then 0 for `$LATEST` and n for version n.
fn position(f: &Function) -> (String, u64) {
    (f.name.clone(), f.version.parse::<u64>().unwrap_or(0))
}

/// A marker is `name` (after every entry of that function) or `name:n` (after one).
fn parse_marker(marker: &str) -> (String, u64) {
    match marker.split_once(':') {
        Some((name, n)) => (name.to_string(), n.parse().unwrap_or(u64::MAX)),
        None => (marker.to_string(), u64::MAX),
    }
}

impl Lambda {
    pub fn list_functions(&self, ctx: &RequestContext, input: ListFunctionsRequest) -> Result<ListFunctionsResponse, ServiceError> {
        let max = crate::versions::max_items(input.max_items, MAX_ITEMS)?;
        let all = match input.function_version.as_deref() {
            None => false,
            Some("ALL") => true,
            Some(other) => {
                return Err(crate::errors::validation(&format!(
                    "Value '{other}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
                )));
            }
        };
        if let Some(region) = input.master_region.as_deref() {
            if !is_master_region(region) {
                return Err(crate::errors::validation(&format!(
                    "Value '{region}' at 'masterRegion' failed to satisfy constraint: Member must satisfy regular expression pattern: {MASTER_REGION_PATTERN}"
                )));
            }
            if !all {
                return Err(LambdaError::InvalidParameterValueException(format!(
                    "The combination MasterArn={region} and FunctionVersion=NULL is not supported. Please see our documentation for valid combinations of ListFunctions options."
                ))
                .into());
            }
            // Only Lambda@Edge replicas of functions in that region are listed.
            return Ok(ListFunctionsResponse { next_marker: None, functions: Some(Vec::new()) });
        }
        let after = input.marker.as_deref().filter(|m| !m.is_empty()).map(parse_marker);
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let functions = self.functions.read();
        let versions = self.versions.read();
        let mut page: Vec<Arc<Function>> = Vec::new();
        let mut more = false;
        'functions: for (key, latest) in functions.range(prefix.clone()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            let below = children_prefix(key);
            let published = versions.range(below.clone()..).take_while(|(k, _)| k.starts_with(&below)).map(|(_, v)| v);
            let entries = std::iter::once(latest).chain(published.filter(|_| all));
            for f in entries {
                if after.as_ref().is_some_and(|a| position(f) <= *a) {
                    continue;
                }
                if page.len() == max {
                    more = true;
                    break 'functions;
                }
                page.push(Arc::clone(f));
            }
        }
        let next_marker = more
            .then(|| page.last().map(|f| if all { format!("{}:{}", f.name, position(f).1) } else { f.name.clone() }))
            .flatten();
        Ok(ListFunctionsResponse { next_marker, functions: Some(page.iter().map(|f| f.configuration()).collect()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_regions_follow_the_model_pattern() {
        for ok in ["ALL", "us-east-1", "us-gov-west-1", "eu-central-2", "us-gov-1"] {
            assert!(is_master_region(ok), "{ok}");
        }
        for bad in ["all", "us-east", "us-east-12", "use-east-1", "US-east-1", "us--1", ""] {
            assert!(!is_master_region(bad), "{bad}");
        }
    }

    #[test]
    fn markers_point_after_an_entry_or_a_whole_function() {
        assert_eq!(parse_marker("f:3"), ("f".to_string(), 3));
        assert_eq!(parse_marker("f"), ("f".to_string(), u64::MAX));
    }
}
