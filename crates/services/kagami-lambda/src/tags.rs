//! TagResource, UntagResource, ListTags on function and code signing config ARNs.
//! A function's tags live in its record (`Function::tags`), a code signing config's in
//! its own; both are checked against the same limits.

use crate::generated::*;
use crate::state::Lambda;
use indexmap::IndexMap;
use crate::state::FUNCTIONS;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError};
use std::sync::Arc;

/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html
pub const MAX_TAGS: usize = 50;
pub const MAX_KEY: usize = 128;
pub const MAX_VALUE: usize = 256;

/// What a taggable ARN names.
enum Resource {
    Function(String),
    CodeSigningConfig(String),
}

fn invalid(message: &str) -> ServiceError {
    LambdaError::InvalidParameterValueException(message.into()).into()
}

fn resource(ctx: &RequestContext, arn: &str) -> Result<Resource, ServiceError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let pattern_error = || {
        crate::errors::validation(&format!(
            "Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{{17}}|event-source-mapping:[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}|capacity-provider:[a-zA-Z0-9-_]+)"
        ))
    };
    let (region, account, rest) = match parts.as_slice() {
        ["arn", partition, "lambda", region, account, rest @ ..] if partition.starts_with("aws") => (*region, *account, rest),
        _ => return Err(pattern_error()),
    };
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(pattern_error());
    }
    let foreign = account != ctx.account_id || region != ctx.region;
    match rest {
        ["function", name] => {
            if foreign {
                return Err(crate::errors::not_found(arn));
            }
            Ok(Resource::Function((*name).to_string()))
        }
        ["function", _, _] => Err(invalid("Tags on function aliases and versions are not supported. Please specify a function ARN.")),
        ["code-signing-config", id] if id.starts_with("csc-") => {
            if foreign {
                return Err(crate::code_signing::not_found(arn));
            }
            Ok(Resource::CodeSigningConfig(arn.to_string()))
        }
        _ => Err(pattern_error()),
    }
}

/// Tag keys and values within AWS's limits, and no key in the reserved `aws:` namespace.
pub fn check(tags: &IndexMap<String, String>) -> Result<(), ServiceError> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_KEY {
            return Err(invalid(&format!("Tag key must be between 1 and {MAX_KEY} characters: {k}")));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(&format!("Tag keys with the prefix 'aws:' are reserved for AWS use: {k}")));
        }
        if v.chars().count() > MAX_VALUE {
            return Err(invalid(&format!("Tag value must be at most {MAX_VALUE} characters, for key {k}")));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(invalid("Number of tags exceeds resource tag limit."));
    }
    Ok(())
}

/// Adds `new` to `tags`, checking the limits on the result.
fn merged(tags: &IndexMap<String, String>, new: &IndexMap<String, String>) -> Result<IndexMap<String, String>, ServiceError> {
    let mut out = tags.clone();
    out.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    check(&out)?;
    Ok(out)
}

impl Lambda {
    /// Rewrites a function's tags in its `$LATEST` record. Not a new revision: warm
    /// environments stay, as tags do not reach the function.
    async fn change_tags(
        &self,
        ctx: &RequestContext,
        name: &str,
        change: impl FnOnce(&IndexMap<String, String>) -> Result<IndexMap<String, String>, ServiceError>,
    ) -> Result<(), ServiceError> {
        let key = self.latest(ctx, name)?.key();
        let pending = {
            let mut functions = self.functions.write();
            // Looked up again under the write lock: a concurrent delete wins.
            let current = functions.get(&key).cloned().ok_or_else(|| crate::errors::not_found(&crate::function::function_arn(&ctx.region, &ctx.account_id, name)))?;
            let mut f = (*current).clone();
            f.tags = change(&current.tags)?;
            let pending = self.submit(vec![StoreOp::put_json(FUNCTIONS, f.key(), &f)]);
            functions.insert(f.key(), Arc::new(f));
            pending
        };
        Self::settle(pending, name).await
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<(), ServiceError> {
        check(&input.tags)?;
        match resource(ctx, &input.resource)? {
            Resource::Function(name) => self.change_tags(ctx, &name, |tags| merged(tags, &input.tags)).await,
            Resource::CodeSigningConfig(arn) => self.change_code_signing_tags(ctx, &arn, |tags| merged(tags, &input.tags)).await,
        }
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<(), ServiceError> {
        let without = |tags: &IndexMap<String, String>| -> Result<IndexMap<String, String>, ServiceError> {
            Ok(tags.iter().filter(|(k, _)| !input.tag_keys.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        };
        match resource(ctx, &input.resource)? {
            Resource::Function(name) => self.change_tags(ctx, &name, without).await,
            Resource::CodeSigningConfig(arn) => self.change_code_signing_tags(ctx, &arn, without).await,
        }
    }

    pub fn list_tags(&self, ctx: &RequestContext, input: ListTagsRequest) -> Result<ListTagsResponse, ServiceError> {
        let tags = match resource(ctx, &input.resource)? {
            Resource::Function(name) => self.function(ctx, &name, None)?.tags.clone(),
            Resource::CodeSigningConfig(arn) => self.code_signing_config_record(ctx, &arn)?.tags,
        };
        Ok(ListTagsResponse { tags: Some(tags) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> IndexMap<String, String> {
        (0..n).map(|i| (format!("k{i}"), "v".to_string())).collect()
    }

    #[test]
    fn limits_are_aws_limits() {
        assert!(check(&tags(50)).is_ok());
        assert!(check(&tags(51)).is_err());
        assert!(merged(&tags(49), &tags(50)).is_ok());
        let mut t = IndexMap::new();
        t.insert("aws:x".to_string(), "v".to_string());
        assert!(check(&t).is_err());
        let mut t = IndexMap::new();
        t.insert("k".repeat(129), "v".to_string());
        assert!(check(&t).is_err());
        let mut t = IndexMap::new();
        t.insert("k".to_string(), "v".repeat(257));
        assert!(check(&t).is_err());
    }
}
