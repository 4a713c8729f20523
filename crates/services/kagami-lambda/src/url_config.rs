//! Function URL configurations: Create/Get/Update/Delete/ListFunctionUrlConfigs. A
//! function has at most one URL for `$LATEST` (no qualifier) and one per alias; each
//! URL has a random url-id that names it in its host (`url_invoke.rs` serves it).
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html

use crate::errors::validation;
use crate::function::{Function, LATEST, function_arn};
use crate::generated::*;
use crate::state::Lambda;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store, StoreError, clock};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const URLS: &str = "lambda/function-urls";

/// ListFunctionUrlConfigs page size when MaxItems is absent, and its ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctionUrlConfigs.html
const MAX_ITEMS: i32 = 50;
/// Length of a url-id: 32 lowercase letters and digits, as AWS and LocalStack make them.
const URL_ID_LEN: usize = 32;
/// The domain of function URLs when no external host is configured (LocalStack's).
const DEFAULT_DOMAIN: &str = "localhost.localstack.cloud";
const DEFAULT_PORT: &str = "4566";

const AUTH_TYPES: &[&str] = &["AWS_IAM", "NONE"];
const INVOKE_MODES: &[&str] = &["RESPONSE_STREAM", "BUFFERED"];

/// One function URL, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UrlConfig {
    pub account: String,
    pub region: String,
    pub function_name: String,
    /// The alias the URL invokes; `None` for the unqualified function (`$LATEST`).
    pub qualifier: Option<String>,
    pub url_id: String,
    pub function_url: String,
    pub auth_type: String,
    pub cors: Option<CorsRules>,
    pub invoke_mode: String,
    pub creation_time: String,
    pub last_modified_time: String,
}

/// `Cors` of a URL, in a form the store keeps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CorsRules {
    pub allow_credentials: Option<bool>,
    pub allow_headers: Option<Vec<String>>,
    pub allow_methods: Option<Vec<String>>,
    pub allow_origins: Option<Vec<String>>,
    pub expose_headers: Option<Vec<String>>,
    pub max_age: Option<i32>,
}

impl From<Cors> for CorsRules {
    fn from(c: Cors) -> Self {
        CorsRules {
            allow_credentials: c.allow_credentials,
            allow_headers: c.allow_headers,
            allow_methods: c.allow_methods,
            allow_origins: c.allow_origins,
            expose_headers: c.expose_headers,
            max_age: c.max_age,
        }
    }
}

impl From<CorsRules> for Cors {
    fn from(c: CorsRules) -> Self {
        Cors {
            allow_credentials: c.allow_credentials,
            allow_headers: c.allow_headers,
            allow_methods: c.allow_methods,
            allow_origins: c.allow_origins,
            expose_headers: c.expose_headers,
            max_age: c.max_age,
        }
    }
}

/// Get and Update answer with the fields of the listed `FunctionUrlConfig`.
macro_rules! from_url_config {
    ($($response:ident),*) => {$(
        impl From<FunctionUrlConfig> for $response {
            fn from(c: FunctionUrlConfig) -> Self {
                $response {
                    function_url: c.function_url,
                    function_arn: c.function_arn,
                    auth_type: c.auth_type,
                    cors: c.cors,
                    creation_time: c.creation_time,
                    last_modified_time: c.last_modified_time,
                    invoke_mode: c.invoke_mode,
                }
            }
        }
    )*};
}
from_url_config!(GetFunctionUrlConfigResponse, UpdateFunctionUrlConfigResponse);

impl UrlConfig {
    pub fn function_arn(&self) -> String {
        let arn = function_arn(&self.region, &self.account, &self.function_name);
        match &self.qualifier {
            Some(q) => format!("{arn}:{q}"),
            None => arn,
        }
    }

    fn key(&self) -> String {
        url_key(&self.account, &self.region, &self.function_name, self.qualifier.as_deref())
    }

    fn output(&self) -> FunctionUrlConfig {
        FunctionUrlConfig {
            function_url: self.function_url.clone(),
            function_arn: self.function_arn(),
            creation_time: self.creation_time.clone(),
            last_modified_time: self.last_modified_time.clone(),
            cors: self.cors.clone().map(Cors::from),
            auth_type: self.auth_type.clone(),
            invoke_mode: Some(self.invoke_mode.clone()),
        }
    }
}

/// `account/region/name#qualifier`: a function's URLs sort together, `$LATEST` first.
fn url_key(account: &str, region: &str, name: &str, qualifier: Option<&str>) -> String {
    format!("{}#{}", function_prefix(account, region, name), qualifier.unwrap_or(LATEST))
}

fn function_prefix(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

#[derive(Default)]
struct Index {
    by_key: BTreeMap<String, Arc<UrlConfig>>,
    /// url-id -> key.
    by_id: HashMap<String, String>,
}

impl Index {
    fn insert(&mut self, c: Arc<UrlConfig>) {
        self.by_id.insert(c.url_id.clone(), c.key());
        self.by_key.insert(c.key(), c);
    }

    fn remove(&mut self, key: &str) -> Option<Arc<UrlConfig>> {
        let c = self.by_key.remove(key)?;
        self.by_id.remove(&c.url_id);
        Some(c)
    }
}

/// Every function URL of every account and region.
pub struct FunctionUrls {
    store: Store,
    external_host: Option<String>,
    index: RwLock<Index>,
}

impl FunctionUrls {
    pub fn new(env: &ServiceEnv) -> Result<FunctionUrls, StoreError> {
        let mut index = Index::default();
        for (_, c) in env.store.scan_json::<UrlConfig>(URLS)? {
            index.insert(Arc::new(c));
        }
        Ok(FunctionUrls { store: env.store.clone(), external_host: env.external_host.clone(), index: RwLock::new(index) })
    }

    pub fn reset(&self) {
        *self.index.write() = Index::default();
        drop(self.store.submit(vec![StoreOp::delete_prefix(URLS, "")]));
    }

    /// The URL a url-id names.
    pub fn by_id(&self, url_id: &str) -> Option<Arc<UrlConfig>> {
        let index = self.index.read();
        index.by_id.get(url_id).and_then(|k| index.by_key.get(k)).cloned()
    }

    /// Forgets the URLs of a deleted function.
    pub async fn forget_function(&self, account: &str, region: &str, name: &str) {
        let prefix = format!("{}#", function_prefix(account, region, name));
        let commit = {
            let mut index = self.index.write();
            let keys: Vec<String> = index.by_key.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k.clone()).collect();
            let gone = keys.into_iter().filter(|k| index.remove(k).is_some()).map(|k| StoreOp::delete(URLS, k)).collect();
            self.store.submit(gone)
        };
        if let Err(e) = commit.wait().await {
            tracing::warn!("forgetting the function URLs of {name}: {e}");
        }
    }

    /// Forgets the URL of a deleted alias.
    pub async fn forget_alias(&self, account: &str, region: &str, name: &str, alias: &str) {
        let key = url_key(account, region, name, Some(alias));
        let commit = {
            let mut index = self.index.write();
            index.remove(&key).map(|_| self.store.submit(vec![StoreOp::delete(URLS, key)]))
        };
        if let Some(commit) = commit
            && let Err(e) = durable(commit, "deleting a function URL").await
        {
            tracing::warn!("forgetting the function URL of {name}:{alias}: {e}", e = e.message);
        }
    }

    /// `http://<url-id>.lambda-url.<region>.<domain>:<port>/`: the external host when one
    /// is configured, else LocalStack's domain on the port the client called.
    fn url(&self, ctx: &RequestContext, url_id: &str) -> String {
        let host = match &self.external_host {
            Some(h) => h.clone(),
            None => {
                let port = ctx.host.rsplit_once(':').map(|(_, p)| p).filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                format!("{DEFAULT_DOMAIN}:{}", port.unwrap_or(DEFAULT_PORT))
            }
        };
        format!("http://{url_id}.lambda-url.{}.{host}/", ctx.region)
    }

    pub async fn create(&self, lambda: &Lambda, ctx: &RequestContext, input: CreateFunctionUrlConfigRequest) -> Result<CreateFunctionUrlConfigResponse, ServiceError> {
        let (f, qualifier) = target(lambda, ctx, &input.function_name, input.qualifier.as_deref(), "Function does not exist")?;
        check_auth_type(&input.auth_type)?;
        check_invoke_mode(input.invoke_mode.as_deref())?;
        let key = url_key(&f.account, &f.region, &f.name, qualifier.as_deref());
        let conflict = |arn: String| -> ServiceError {
            LambdaError::ResourceConflictException(format!(
                "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
            ))
            .into()
        };
        if let Some(c) = self.index.read().by_key.get(&key) {
            return Err(conflict(c.function_arn()));
        }
        let now = creation_time();
        let url_id = url_id();
        let c = UrlConfig {
            account: f.account.clone(),
            region: f.region.clone(),
            function_name: f.name.clone(),
            qualifier,
            function_url: self.url(ctx, &url_id),
            url_id,
            auth_type: input.auth_type,
            cors: input.cors.map(CorsRules::from),
            invoke_mode: input.invoke_mode.unwrap_or_else(|| "BUFFERED".into()),
            creation_time: now.clone(),
            last_modified_time: now,
        };
        let commit = {
            let mut index = self.index.write();
            if let Some(existing) = index.by_key.get(&key) {
                return Err(conflict(existing.function_arn()));
            }
            index.insert(Arc::new(c.clone()));
            self.store.submit(vec![StoreOp::put_json(URLS, c.key(), &c)])
        };
        durable(commit, "saving a function URL").await?;
        let out = c.output();
        Ok(CreateFunctionUrlConfigResponse {
            function_url: out.function_url,
            function_arn: out.function_arn,
            auth_type: out.auth_type,
            cors: out.cors,
            creation_time: out.creation_time,
            invoke_mode: out.invoke_mode,
        })
    }

    /// The URL of a function (or alias); AWS's texts for a missing function or URL.
    fn existing(&self, lambda: &Lambda, ctx: &RequestContext, name: &str, qualifier: Option<&str>, missing_function: &str) -> Result<Arc<UrlConfig>, ServiceError> {
        let (f, qualifier) = target(lambda, ctx, name, qualifier, missing_function)?;
        self.index.read().by_key.get(&url_key(&f.account, &f.region, &f.name, qualifier.as_deref())).cloned().ok_or_else(no_such_resource)
    }

    pub fn get(&self, lambda: &Lambda, ctx: &RequestContext, input: GetFunctionUrlConfigRequest) -> Result<GetFunctionUrlConfigResponse, ServiceError> {
        let out = self.existing(lambda, ctx, &input.function_name, input.qualifier.as_deref(), NO_SUCH_RESOURCE)?.output();
        Ok(out.into())
    }

    pub async fn update(&self, lambda: &Lambda, ctx: &RequestContext, input: UpdateFunctionUrlConfigRequest) -> Result<UpdateFunctionUrlConfigResponse, ServiceError> {
        let current = self.existing(lambda, ctx, &input.function_name, input.qualifier.as_deref(), "Function does not exist")?;
        if let Some(a) = &input.auth_type {
            check_auth_type(a)?;
        }
        check_invoke_mode(input.invoke_mode.as_deref())?;
        let mut c = (*current).clone();
        if let Some(a) = input.auth_type {
            c.auth_type = a;
        }
        if let Some(cors) = input.cors {
            c.cors = Some(cors.into());
        }
        if let Some(m) = input.invoke_mode {
            c.invoke_mode = m;
        }
        c.last_modified_time = creation_time();
        let commit = {
            let mut index = self.index.write();
            index.insert(Arc::new(c.clone()));
            self.store.submit(vec![StoreOp::put_json(URLS, c.key(), &c)])
        };
        durable(commit, "saving a function URL").await?;
        let out = c.output();
        Ok(out.into())
    }

    pub async fn delete(&self, lambda: &Lambda, ctx: &RequestContext, input: DeleteFunctionUrlConfigRequest) -> Result<(), ServiceError> {
        let c = self.existing(lambda, ctx, &input.function_name, input.qualifier.as_deref(), "Function does not exist")?;
        let key = c.key();
        let commit = {
            let mut index = self.index.write();
            index.remove(&key);
            self.store.submit(vec![StoreOp::delete(URLS, key)])
        };
        durable(commit, "deleting a function URL").await
    }

    pub fn list(&self, lambda: &Lambda, ctx: &RequestContext, input: ListFunctionUrlConfigsRequest) -> Result<ListFunctionUrlConfigsResponse, ServiceError> {
        let max = crate::paging::max_items(input.max_items, MAX_ITEMS, MAX_ITEMS as usize)?;
        let (name, _) = crate::validate::function_name(&input.function_name)?;
        let f = lambda.function(ctx, name, None).map_err(|_| function_does_not_exist())?;
        let prefix = format!("{}#", function_prefix(&f.account, &f.region, &f.name));
        let start = input.marker.as_deref().map(|m| format!("{prefix}{m}"));
        let index = self.index.read();
        let mut page = Vec::new();
        let mut last = None;
        let mut next_marker = None;
        for (key, c) in index.by_key.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)) {
            if start.as_ref().is_some_and(|s| key <= s) {
                continue;
            }
            if page.len() == max {
                next_marker = last.map(|k: &String| k.trim_start_matches(&prefix).to_string());
                break;
            }
            page.push(c.output());
            last = Some(key);
        }
        Ok(ListFunctionUrlConfigsResponse { function_url_configs: page, next_marker })
    }
}

const NO_SUCH_RESOURCE: &str = "The resource you requested does not exist.";

fn no_such_resource() -> ServiceError {
    LambdaError::ResourceNotFoundException(NO_SUCH_RESOURCE.into()).into()
}

fn function_does_not_exist() -> ServiceError {
    LambdaError::ResourceNotFoundException("Function does not exist".into()).into()
}

/// The function a URL request names and its qualifier (an alias, or none for
/// `$LATEST`). A URL cannot point at `$LATEST` by name nor at a version.
fn target(lambda: &Lambda, ctx: &RequestContext, name: &str, qualifier: Option<&str>, missing_function: &str) -> Result<(Arc<Function>, Option<String>), ServiceError> {
    let (bare, in_name) = crate::validate::function_name(name)?;
    let qualifier = qualifier.or(in_name);
    if let Some(q) = qualifier
        && (q == LATEST || q.bytes().all(|b| b.is_ascii_digit()) || !q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(validation(&format!(
            "Value '{q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"
        )));
    }
    let missing = || ServiceError::from(LambdaError::ResourceNotFoundException(missing_function.into()));
    let f = lambda.function(ctx, bare, None).map_err(|_| missing())?;
    if let Some(q) = qualifier {
        lambda.function(ctx, bare, Some(q)).map_err(|_| function_does_not_exist())?;
    }
    Ok((f, qualifier.map(str::to_string)))
}

fn check_auth_type(auth_type: &str) -> Result<(), ServiceError> {
    if AUTH_TYPES.contains(&auth_type) {
        return Ok(());
    }
    Err(validation(&format!("Value '{auth_type}' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]")))
}

fn check_invoke_mode(mode: Option<&str>) -> Result<(), ServiceError> {
    match mode {
        Some(m) if !INVOKE_MODES.contains(&m) => Err(validation(&format!(
            "Value '{m}' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]"
        ))),
        _ => Ok(()),
    }
}

/// `2024-01-31T12:00:00.123000Z`: ISO 8601 with microseconds, as AWS reports URL times.
/// Awaits a record submitted under the index lock.
async fn durable(commit: Commit, what: &str) -> Result<(), ServiceError> {
    commit.wait().await.map_err(|e| ServiceError::internal(format!("{what}: {e}")))
}

fn creation_time() -> String {
    let iso = clock::now().to_iso8601_millis();
    format!("{}000Z", iso.trim_end_matches('Z'))
}

/// 32 random lowercase letters and digits.
fn url_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..URL_ID_LEN).map(|_| ALPHABET.get(fastrand::usize(..ALPHABET.len())).map_or('a', |b| char::from(*b))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_ids_are_32_lowercase_alphanumerics() {
        let a = url_id();
        assert_eq!(a.len(), URL_ID_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{a}");
        assert_ne!(a, url_id());
    }
}
