//! Functions of every (account, region), their packages, and their warm environments.
//! Control-plane operations live here; invocation in `invoke.rs`.

use crate::code::{CodeStore, digests};
use crate::environment::{Pool, start_reaper};
use crate::errors::not_found;
use crate::function::{Function, function_arn, last_modified, record_key};
use crate::generated::*;
use crate::{runtimes, validate, zip};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store, StoreError, clock};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const FUNCTIONS: &str = "lambda/functions";

/// ListFunctions page size when MaxItems is absent, and its ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html
const MAX_ITEMS: usize = 50;

pub struct Lambda {
    store: Store,
    /// Keyed by `account/region/name`: sorted, which is the order ListFunctions pages in.
    functions: RwLock<BTreeMap<String, Arc<Function>>>,
    pub code: CodeStore,
    pub pool: Arc<Pool>,
    pub external_host: Option<String>,
    /// Where `code_server` listens, once started.
    pub code_server: tokio::sync::OnceCell<std::net::SocketAddr>,
}

impl Lambda {
    pub fn new(env: &ServiceEnv) -> Result<Lambda, StoreError> {
        let code = CodeStore::open(env.store.dir()).map_err(|e| StoreError::Io(format!("lambda packages: {e}")))?;
        let mut functions = BTreeMap::new();
        for (key, f) in env.store.scan_json::<Function>(FUNCTIONS)? {
            functions.insert(key, Arc::new(f));
        }
        code.sweep(&functions.values().map(|f| f.code_hex.as_str()).collect());
        let pool = Arc::new(Pool::default());
        start_reaper(&pool);
        Ok(Lambda { store: env.store.clone(), functions: RwLock::new(functions), code, pool, external_host: env.external_host.clone(), code_server: tokio::sync::OnceCell::new() })
    }

    pub fn reset(&self) {
        self.functions.write().clear();
        self.pool.clear();
        self.code.clear();
        drop(self.store.submit(vec![StoreOp::delete_prefix(FUNCTIONS, "")]));
    }

    async fn save(&self, f: &Function) -> Result<(), ServiceError> {
        if self.store.is_durable() {
            self.store
                .commit(vec![StoreOp::put_json(FUNCTIONS, f.key(), f)])
                .await
                .map_err(|e| ServiceError::internal(format!("saving function {}: {e}", f.name)))?;
        }
        Ok(())
    }

    /// The function a `FunctionName` (name, partial or full ARN) names, with its qualifier.
    pub fn function(&self, ctx: &RequestContext, name: &str, qualifier: Option<&str>) -> Result<Arc<Function>, ServiceError> {
        let (name, q) = validate::function_name(name)?;
        let arn = || match qualifier.or(q) {
            Some(q) => format!("{}:{q}", function_arn(&ctx.region, &ctx.account_id, name)),
            None => function_arn(&ctx.region, &ctx.account_id, name),
        };
        // Only $LATEST exists until versions are published.
        if qualifier.or(q).is_some_and(|q| q != crate::function::LATEST) {
            return Err(not_found(&arn()));
        }
        self.functions
            .read()
            .get(&record_key(&ctx.account_id, &ctx.region, name))
            .cloned()
            .ok_or_else(|| not_found(&arn()))
    }

    /// Whether `f` is still the function's current revision.
    pub fn is_current(&self, f: &Function) -> bool {
        self.functions.read().get(&f.key()).is_some_and(|c| c.revision_id == f.revision_id)
    }

    /// Checks a package and stores it; returns (base64 sha, hex sha, size).
    fn put_code(&self, zip_bytes: &[u8]) -> Result<(String, String, i64), ServiceError> {
        zip::validate(zip_bytes).map_err(|e| LambdaError::InvalidParameterValueException(e.to_string()))?;
        let d = digests(zip_bytes);
        self.code.put(&d.hex, zip_bytes).map_err(|e| ServiceError::internal(format!("storing the package: {e}")))?;
        Ok((d.base64, d.hex, i64::try_from(zip_bytes.len()).unwrap_or(i64::MAX)))
    }

    pub async fn create_function(&self, ctx: &RequestContext, input: CreateFunctionRequest) -> Result<FunctionConfiguration, ServiceError> {
        let (name, _) = validate::function_name(&input.function_name)?;
        validate::role(&input.role)?;
        if input.package_type.as_deref() == Some("Image") {
            return Err(LambdaError::InvalidParameterValueException(
                "PackageType Image is not supported by kagami: functions run as local processes, without a container runtime. Use a zip package.".into(),
            )
            .into());
        }
        let (Some(runtime), Some(handler)) = (input.runtime.clone(), input.handler.clone()) else {
            return Err(LambdaError::InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.".into(),
            )
            .into());
        };
        validate::runtime(&runtime)?;
        validate::handler(&handler)?;
        validate::environment(input.environment.as_ref().and_then(|e| e.variables.as_ref()))?;
        let timeout = validate::timeout(input.timeout)?;
        let memory_size = validate::memory_size(input.memory_size)?;
        let Some(zip_bytes) = input.code.zip_file.as_deref() else {
            return Err(LambdaError::InvalidParameterValueException(
                "kagami takes function code as ZipFile; S3 locations are not supported yet.".into(),
            )
            .into());
        };
        let key = record_key(&ctx.account_id, &ctx.region, name);
        if self.functions.read().contains_key(&key) {
            return Err(LambdaError::ResourceConflictException(format!("Function already exist: {name}")).into());
        }
        let (code_sha256, code_hex, code_size) = self.put_code(zip_bytes)?;
        let f = Function {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: name.to_string(),
            runtime,
            role: input.role,
            handler,
            description: input.description.unwrap_or_default(),
            timeout,
            memory_size,
            environment: input.environment.and_then(|e| e.variables),
            tags: input.tags.unwrap_or_default(),
            code_sha256,
            code_hex,
            code_size,
            last_modified: last_modified(clock::now_millis()),
            revision_id: kagami_core::ids::uuid_v4(),
        };
        {
            let mut functions = self.functions.write();
            if functions.contains_key(&key) {
                return Err(LambdaError::ResourceConflictException(format!("Function already exist: {name}")).into());
            }
            functions.insert(key, Arc::new(f.clone()));
        }
        self.save(&f).await?;
        Ok(f.configuration())
    }

    pub async fn get_function(self: &Arc<Self>, ctx: &RequestContext, input: GetFunctionRequest) -> Result<GetFunctionResponse, ServiceError> {
        let f = self.function(ctx, &input.function_name, input.qualifier.as_deref())?;
        let server = crate::code_server::address(self)
            .await
            .ok_or_else(|| ServiceError::internal("cannot start the package server"))?;
        Ok(GetFunctionResponse {
            configuration: Some(f.configuration()),
            code: Some(FunctionCodeLocation {
                repository_type: Some("S3".into()),
                location: Some(format!("http://{server}{}{}/{}/{}", crate::code_server::PATH_PREFIX, f.account, f.region, f.name)),
                ..Default::default()
            }),
            tags: (!f.tags.is_empty()).then(|| f.tags.clone()),
            ..Default::default()
        })
    }

    pub fn get_function_configuration(
        &self,
        ctx: &RequestContext,
        input: GetFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ServiceError> {
        Ok(self.function(ctx, &input.function_name, input.qualifier.as_deref())?.configuration())
    }

    pub fn list_functions(&self, ctx: &RequestContext, input: ListFunctionsRequest) -> Result<ListFunctionsResponse, ServiceError> {
        let max = match input.max_items {
            None => MAX_ITEMS,
            Some(n) if (1..=10_000).contains(&n) => usize::try_from(n).unwrap_or(MAX_ITEMS).min(MAX_ITEMS),
            Some(n) => {
                return Err(crate::errors::validation(&format!(
                    "Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value {}",
                    if n < 1 { "greater than or equal to 1" } else { "less than or equal to 10000" }
                )));
            }
        };
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let functions = self.functions.read();
        let mut page: Vec<FunctionConfiguration> = Vec::new();
        let mut next_marker = None;
        let start = input.marker.map(|m| format!("{prefix}{m}"));
        for (key, f) in functions.range(prefix.clone()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            if start.as_ref().is_some_and(|s| key <= s) {
                continue;
            }
            if page.len() == max {
                next_marker = page.last().and_then(|c| c.function_name.clone());
                break;
            }
            page.push(f.configuration());
        }
        Ok(ListFunctionsResponse { next_marker, functions: Some(page) })
    }

    pub async fn delete_function(&self, ctx: &RequestContext, input: DeleteFunctionRequest) -> Result<(), ServiceError> {
        let f = self.function(ctx, &input.function_name, input.qualifier.as_deref())?;
        if input.qualifier.as_deref() == Some(crate::function::LATEST) {
            return Err(LambdaError::InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            )
            .into());
        }
        let shared = {
            let mut functions = self.functions.write();
            functions.remove(&f.key());
            functions.values().any(|o| o.code_hex == f.code_hex)
        };
        self.pool.retire(&f.key());
        if self.store.is_durable() {
            self.store
                .commit(vec![StoreOp::delete(FUNCTIONS, f.key())])
                .await
                .map_err(|e| ServiceError::internal(format!("deleting function {}: {e}", f.name)))?;
        }
        if !shared {
            self.code.remove(&f.code_hex);
        }
        Ok(())
    }

    /// Applies a change to a function (new revision), saving it and retiring warm environments.
    async fn update(
        &self,
        ctx: &RequestContext,
        name: &str,
        revision_id: Option<&str>,
        change: impl FnOnce(&mut Function),
    ) -> Result<Function, ServiceError> {
        let current = self.function(ctx, name, None)?;
        if revision_id.is_some_and(|r| r != current.revision_id) {
            return Err(LambdaError::PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )
            .into());
        }
        let mut f = (*current).clone();
        change(&mut f);
        f.last_modified = last_modified(clock::now_millis());
        f.revision_id = kagami_core::ids::uuid_v4();
        let old_hex = current.code_hex.clone();
        self.functions.write().insert(f.key(), Arc::new(f.clone()));
        self.pool.retire(&f.key());
        self.save(&f).await?;
        if old_hex != f.code_hex && !self.functions.read().values().any(|o| o.code_hex == old_hex) {
            self.code.remove(&old_hex);
        }
        Ok(f)
    }

    pub async fn update_function_code(&self, ctx: &RequestContext, input: UpdateFunctionCodeRequest) -> Result<FunctionConfiguration, ServiceError> {
        self.function(ctx, &input.function_name, None)?;
        let Some(zip_bytes) = input.zip_file.as_deref() else {
            return Err(LambdaError::InvalidParameterValueException(
                "kagami takes function code as ZipFile; S3 locations are not supported yet.".into(),
            )
            .into());
        };
        let (sha, hex, size) = self.put_code(zip_bytes)?;
        if input.dry_run == Some(true) {
            let mut c = self.function(ctx, &input.function_name, None)?.configuration();
            c.code_sha256 = Some(sha);
            c.code_size = Some(size);
            return Ok(c);
        }
        let f = self
            .update(ctx, &input.function_name, input.revision_id.as_deref(), |f| {
                f.code_sha256 = sha;
                f.code_hex = hex;
                f.code_size = size;
            })
            .await?;
        Ok(f.configuration())
    }

    pub async fn update_function_configuration(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ServiceError> {
        if let Some(r) = &input.role {
            validate::role(r)?;
        }
        if let Some(r) = &input.runtime {
            validate::runtime(r)?;
        }
        if let Some(h) = &input.handler {
            validate::handler(h)?;
        }
        validate::environment(input.environment.as_ref().and_then(|e| e.variables.as_ref()))?;
        let timeout = input.timeout.map(|t| validate::timeout(Some(t))).transpose()?;
        let memory = input.memory_size.map(|m| validate::memory_size(Some(m))).transpose()?;
        let f = self
            .update(ctx, &input.function_name, input.revision_id.as_deref(), |f| {
                if let Some(r) = input.role {
                    f.role = r;
                }
                if let Some(r) = input.runtime {
                    f.runtime = r;
                }
                if let Some(h) = input.handler {
                    f.handler = h;
                }
                if let Some(d) = input.description {
                    f.description = d;
                }
                if let Some(t) = timeout {
                    f.timeout = t;
                }
                if let Some(m) = memory {
                    f.memory_size = m;
                }
                if let Some(e) = input.environment {
                    f.environment = e.variables;
                }
            })
            .await?;
        Ok(f.configuration())
    }

    /// The package of a function, for its Code.Location.
    pub fn package(&self, account: &str, region: &str, name: &str) -> Option<Vec<u8>> {
        let f = self.functions.read().get(&record_key(account, region, name)).cloned()?;
        self.code.get(&f.code_hex).ok()
    }

    pub fn runtimes(&self) -> serde_json::Value {
        runtimes::describe()
    }
}
