//! Published versions and qualifier resolution: which record (`$LATEST`, a version, the
//! version behind an alias) a FunctionName and Qualifier address.

use crate::alias::{Alias, is_version_number};
use crate::errors::{not_found, validation};
use crate::function::{Function, LATEST, children_prefix, function_arn, record_key, version_key};
use crate::generated::*;
use crate::state::{FUNCTIONS, Lambda, VERSIONS};
use crate::validate;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, ids};
use std::sync::Arc;

/// ListVersionsByFunction page size when MaxItems is absent, and its ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html
const MAX_ITEMS: usize = 50;
/// https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_RequestSyntax
const MAX_QUALIFIER: usize = 128;

const REVISION_MISMATCH: &str =
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id";

/// What a FunctionName and Qualifier resolved to.
pub struct Resolved {
    /// The record a read reports and an unrouted invoke runs (an alias's primary version).
    pub function: Arc<Function>,
    pub alias: Option<Arc<Alias>>,
    /// The qualifier the caller named, in FunctionName or Qualifier.
    pub qualifier: Option<String>,
}

impl Resolved {
    /// The ARN the caller addressed: qualified whenever a qualifier was named.
    pub fn arn(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function.arn()),
            None => self.function.arn(),
        }
    }

    /// The configuration, with FunctionArn as the caller addressed the function (an
    /// alias reports its own ARN and the version it points to).
    pub fn configuration(&self) -> FunctionConfiguration {
        let mut c = self.function.configuration();
        c.function_arn = Some(self.arn());
        c
    }
}

/// The qualifier of a request: the one in FunctionName and the Qualifier parameter must
/// agree. An empty Qualifier is none.
pub fn qualifier<'a>(in_name: Option<&'a str>, param: Option<&'a str>) -> Result<Option<&'a str>, ServiceError> {
    let param = param.filter(|q| !q.is_empty());
    if let Some(q) = param {
        if q.len() > MAX_QUALIFIER {
            return Err(validation(&format!(
                "Value '{q}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to {MAX_QUALIFIER}"
            )));
        }
        if !q.chars().all(|c| c.is_ascii_alphanumeric() || "$_-".contains(c)) {
            return Err(validation(&format!(
                "Value '{q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
            )));
        }
    }
    match (in_name, param) {
        (Some(a), Some(b)) if a != b => Err(LambdaError::InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier.".into(),
        )
        .into()),
        (a, b) => Ok(b.or(a)),
    }
}

pub fn alias_key(function_key: &str, alias: &str) -> String {
    format!("{}{alias}", children_prefix(function_key))
}

impl Lambda {
    /// Resolves `$LATEST`, a version number or an alias, given in FunctionName (name,
    /// partial or full ARN, `:qualifier`) or as Qualifier.
    pub fn resolve(&self, ctx: &RequestContext, name: &str, param: Option<&str>) -> Result<Resolved, ServiceError> {
        let (name, in_name) = validate::function_name(name)?;
        let q = qualifier(in_name, param)?;
        let key = record_key(&ctx.account_id, &ctx.region, name);
        let arn = function_arn(&ctx.region, &ctx.account_id, name);
        let missing = || not_found(&q.map_or_else(|| arn.clone(), |q| format!("{arn}:{q}")));
        let latest = self.functions.read().get(&key).cloned().ok_or_else(missing)?;
        let (function, alias) = match q {
            None | Some(LATEST) => (latest, None),
            Some(v) if is_version_number(v) => (self.version(&key, v).ok_or_else(missing)?, None),
            Some(a) => {
                let alias = self.aliases.read().get(&alias_key(&key, a)).cloned().ok_or_else(missing)?;
                (self.version_or_latest(&latest, &alias.function_version).ok_or_else(missing)?, Some(alias))
            }
        };
        Ok(Resolved { function, alias, qualifier: q.map(str::to_string) })
    }

    /// A published version by its number as text.
    pub(crate) fn version(&self, function_key: &str, v: &str) -> Option<Arc<Function>> {
        let n = v.parse::<u64>().ok()?;
        self.versions.read().get(&version_key(function_key, n)).filter(|f| f.version == v).cloned()
    }

    pub(crate) fn version_or_latest(&self, latest: &Arc<Function>, v: &str) -> Option<Arc<Function>> {
        if v == LATEST { Some(Arc::clone(latest)) } else { self.version(&latest.key(), v) }
    }

    pub async fn publish_version(&self, ctx: &RequestContext, input: PublishVersionRequest) -> Result<FunctionConfiguration, ServiceError> {
        let (name, _) = validate::function_name(&input.function_name)?;
        let v = self
            .publish(ctx, name, input.description, input.code_sha256.as_deref(), input.revision_id.as_deref())
            .await?;
        Ok(v.configuration())
    }

    /// Snapshots `$LATEST` as the next version, unless nothing changed since the last
    /// one: then that version is the answer.
    pub(crate) async fn publish(
        &self,
        ctx: &RequestContext,
        name: &str,
        description: Option<String>,
        code_sha256: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<Arc<Function>, ServiceError> {
        let (version, pending) = {
            let mut functions = self.functions.write();
            let key = record_key(&ctx.account_id, &ctx.region, name);
            let latest = functions
                .get(&key)
                .cloned()
                .ok_or_else(|| not_found(&function_arn(&ctx.region, &ctx.account_id, name)))?;
            if revision_id.is_some_and(|r| r != latest.revision_id) {
                return Err(LambdaError::PreconditionFailedException(REVISION_MISMATCH.into()).into());
            }
            if let Some(sha) = code_sha256.filter(|s| *s != latest.code_sha256) {
                return Err(LambdaError::InvalidParameterValueException(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    latest.code_sha256
                ))
                .into());
            }
            if latest.published_revision.as_deref() == Some(latest.revision_id.as_str())
                && let Some(v) = self.version(&key, &latest.last_version.to_string())
            {
                return Ok(v);
            }
            let number = latest.last_version + 1;
            let mut version = (*latest).clone();
            version.version = number.to_string();
            version.description = description.unwrap_or_else(|| latest.description.clone());
            version.revision_id = ids::uuid_v4();
            version.last_version = 0;
            version.published_revision = None;
            // Publishing is a change of $LATEST too: it gets a new RevisionId.
            let mut next = (*latest).clone();
            next.last_version = number;
            next.revision_id = ids::uuid_v4();
            next.published_revision = Some(next.revision_id.clone());
            let (version, next) = (Arc::new(version), Arc::new(next));
            functions.insert(key.clone(), Arc::clone(&next));
            self.versions.write().insert(version_key(&key, number), Arc::clone(&version));
            let pending = self.submit(vec![
                StoreOp::put_json(FUNCTIONS, next.key(), &*next),
                StoreOp::put_json(VERSIONS, version.record_key(), &*version),
            ]);
            (version, pending)
        };
        self.pool.retire(&format!("{}#{LATEST}", version.key()));
        Self::settle(pending, name).await?;
        Ok(version)
    }

    pub fn list_versions_by_function(
        &self,
        ctx: &RequestContext,
        input: ListVersionsByFunctionRequest,
    ) -> Result<ListVersionsByFunctionResponse, ServiceError> {
        let max = max_items(input.max_items, MAX_ITEMS)?;
        let latest = self.latest(ctx, &input.function_name)?;
        let below = children_prefix(&latest.key());
        let mut all: Vec<Arc<Function>> = vec![Arc::clone(&latest)];
        all.extend(self.versions.read().range(below.clone()..).take_while(|(k, _)| k.starts_with(&below)).map(|(_, v)| Arc::clone(v)));
        let start = match input.marker.as_deref() {
            None | Some("") => 0,
            Some(m) => all.iter().position(|f| f.version == m).map_or(all.len(), |i| i + 1),
        };
        let page: Vec<&Arc<Function>> = all.iter().skip(start).take(max).collect();
        let next_marker = (start + page.len() < all.len()).then(|| page.last().map(|f| f.version.clone())).flatten();
        let versions = page
            .into_iter()
            .map(|f| {
                let mut c = f.configuration();
                // Listed, $LATEST is qualified too.
                c.function_arn = Some(format!("{}:{}", f.arn(), f.version));
                c
            })
            .collect();
        Ok(ListVersionsByFunctionResponse { next_marker, versions: Some(versions) })
    }

    /// DeleteFunction with a version number: removes that version unless an alias uses it.
    /// A version that does not exist is no error, as in Lambda.
    pub(crate) async fn delete_version(&self, latest: &Function, q: &str) -> Result<(), ServiceError> {
        if !is_version_number(q) {
            return Err(LambdaError::InvalidParameterValueException("Deletion of aliases is not currently supported.".into()).into());
        }
        let key = latest.key();
        let gone = {
            let mut versions = self.versions.write();
            let Ok(n) = q.parse::<u64>() else { return Ok(()) };
            let Some(v) = versions.get(&version_key(&key, n)).filter(|v| v.version == q).cloned() else { return Ok(()) };
            let below = children_prefix(&key);
            let users: Vec<String> = self
                .aliases
                .read()
                .range(below.clone()..)
                .take_while(|(k, _)| k.starts_with(&below))
                .filter(|(_, a)| a.references(q))
                .map(|(_, a)| a.name.clone())
                .collect();
            if !users.is_empty() {
                return Err(LambdaError::ResourceConflictException(format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    users.join(", ")
                ))
                .into());
            }
            versions.remove(&v.record_key());
            let pending = self.submit(vec![StoreOp::delete(VERSIONS, v.record_key())]);
            (v, pending)
        };
        let (gone, pending) = gone;
        self.pool.retire(&format!("{key}#{q}"));
        Self::settle(pending, &latest.name).await?;
        if !self.code_in_use(&gone.code_hex) {
            self.code.remove(&gone.code_hex);
        }
        Ok(())
    }
}

/// A MaxItems parameter (1..=10000), capped at the operation's page size.
/// MaxItems of ListVersionsByFunction and ListAliases (model range 1..=10000).
pub fn max_items(n: Option<i32>, page: usize) -> Result<usize, ServiceError> {
    crate::paging::max_items(n, 10_000, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_must_agree() {
        assert_eq!(qualifier(Some("1"), None).unwrap(), Some("1"));
        assert_eq!(qualifier(None, Some("prod")).unwrap(), Some("prod"));
        assert_eq!(qualifier(Some("1"), Some("1")).unwrap(), Some("1"));
        assert_eq!(qualifier(None, Some("")).unwrap(), None);
        assert_eq!(qualifier(Some("1"), Some("2")).unwrap_err().code, "InvalidParameterValueException");
        assert_eq!(qualifier(None, Some("a:b")).unwrap_err().code, "ValidationException");
    }
}
