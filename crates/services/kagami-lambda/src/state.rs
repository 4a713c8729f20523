//! Functions of every (account, region), their packages, and their warm environments.
//! Control-plane operations live here; invocation in `invoke.rs`.

use crate::code::{CodeStore, digests};
use crate::environment::{Pool, start_reaper};
use crate::alias::Alias;
use crate::function::{Function, LATEST, last_modified, record_key};
use crate::generated::*;
use crate::{runtimes, validate, zip};
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store, StoreError, clock};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const FUNCTIONS: &str = "lambda/functions";
/// Published versions: immutable snapshots of a function, keyed `account/region/name/NNN`.
pub const VERSIONS: &str = "lambda/versions";
/// Aliases, keyed `account/region/name/alias`.
pub const ALIASES: &str = "lambda/aliases";


pub struct Lambda {
    pub(crate) store: Store,
    /// Keyed by `account/region/name`: sorted, which is the order ListFunctions pages in.
    /// Lock order: `functions`, then `versions`, then `aliases`.
    pub(crate) functions: RwLock<BTreeMap<String, Arc<Function>>>,
    /// Keyed by `version_key`: a function's versions sort by number after its prefix.
    pub(crate) versions: RwLock<BTreeMap<String, Arc<Function>>>,
    pub(crate) aliases: RwLock<BTreeMap<String, Arc<Alias>>>,
    pub code: CodeStore,
    /// Layer versions and their archives (`layers.rs`).
    pub layers: crate::layers::Layers,
    /// Other services (code read from S3, logs, destinations) and the gateway's address.
    pub peers: kagami_core::Peers,
    pub pool: Arc<Pool>,
    /// Where `code_server` listens, once started.
    pub code_server: tokio::sync::OnceCell<std::net::SocketAddr>,
    /// Policies, concurrency, code signing and other per-function settings (`control.rs`).
    pub control: crate::control::Control,
    /// Event invoke configurations; asynchronous events run in `async_invoke.rs`.
    pub asynchronous: crate::async_invoke::Asynchronous,
}

impl Lambda {
    pub fn new(env: &ServiceEnv) -> Result<Lambda, StoreError> {
        let code = CodeStore::open(env.store.dir()).map_err(|e| StoreError::Io(format!("lambda packages: {e}")))?;
        let mut functions = BTreeMap::new();
        for (key, f) in env.store.scan_json::<Function>(FUNCTIONS)? {
            functions.insert(key, Arc::new(f));
        }
        let versions: BTreeMap<String, Arc<Function>> =
            env.store.scan_json::<Function>(VERSIONS)?.into_iter().map(|(k, f)| (k, Arc::new(f))).collect();
        let aliases = env.store.scan_json::<Alias>(ALIASES)?.into_iter().map(|(k, a)| (k, Arc::new(a))).collect();
        code.sweep(&functions.values().chain(versions.values()).map(|f| f.code_hex.as_str()).collect());
        let layers = crate::layers::Layers::open(&env.store, functions.values().chain(versions.values()).flat_map(|f| f.layers.iter()))?;
        let pool = Arc::new(Pool::default());
        start_reaper(&pool);
        Ok(Lambda {
            store: env.store.clone(),
            functions: RwLock::new(functions),
            versions: RwLock::new(versions),
            aliases: RwLock::new(aliases),
            code,
            layers,
            peers: env.peers.clone(),
            pool,
            code_server: tokio::sync::OnceCell::new(),
            control: crate::control::Control::load(&env.store)?,
            asynchronous: crate::async_invoke::Asynchronous::load(&env.store)?,
        })
    }

    pub fn reset(&self) {
        self.functions.write().clear();
        self.versions.write().clear();
        self.aliases.write().clear();
        self.pool.clear();
        self.code.clear();
        self.layers.reset();
        self.control.reset();
        self.asynchronous.reset();
        drop(self.store.submit(vec![
            StoreOp::delete_prefix(FUNCTIONS, ""),
            StoreOp::delete_prefix(VERSIONS, ""),
            StoreOp::delete_prefix(ALIASES, ""),
        ]));
    }

    /// Queues records while the lock that ordered the in-memory change is held, so that
    /// concurrent changes of one record reach the disk in that order; `settle` after.
    pub(crate) fn submit(&self, ops: Vec<StoreOp>) -> Commit {
        self.store.submit(ops)
    }

    pub(crate) async fn settle(pending: Commit, what: &str) -> Result<(), ServiceError> {
        pending.wait().await.map_err(|e| ServiceError::internal(format!("saving function {what}: {e}")))
    }

    /// Whether any function or version still runs the package `hex`.
    pub(crate) fn code_in_use(&self, hex: &str) -> bool {
        self.functions.read().values().any(|f| f.code_hex == hex) || self.versions.read().values().any(|f| f.code_hex == hex)
    }

    /// The function a `FunctionName` (name, partial or full ARN) names, with its qualifier:
    /// `$LATEST`, a published version, or the version an alias points to.
    pub fn function(&self, ctx: &RequestContext, name: &str, qualifier: Option<&str>) -> Result<Arc<Function>, ServiceError> {
        Ok(self.resolve(ctx, name, qualifier)?.function)
    }

    /// Whether `f` is still the function's current revision (a version: still published).
    pub fn is_current(&self, f: &Function) -> bool {
        let same = |c: &Arc<Function>| c.revision_id == f.revision_id;
        if f.is_latest() {
            self.functions.read().get(&f.key()).is_some_and(same)
        } else {
            self.versions.read().get(&f.record_key()).is_some_and(same)
        }
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
        crate::interpreters::prewarm(&runtime);
        validate::handler(&handler)?;
        validate::environment(input.environment.as_ref().and_then(|e| e.variables.as_ref()))?;
        if let Some(target) = input.dead_letter_config.as_ref().and_then(|d| d.target_arn.as_deref()) {
            validate::dead_letter_target(target, &ctx.region)?;
        }
        let timeout = validate::timeout(input.timeout)?;
        let memory_size = validate::memory_size(input.memory_size)?;
        let layers = self.resolve_function_layers(ctx, input.layers.as_deref().unwrap_or_default())?;
        let c = &input.code;
        let location = crate::s3_code::S3Location { bucket: c.s3_bucket.as_deref(), key: c.s3_key.as_deref(), version: c.s3_object_version.as_deref() };
        let zip_bytes = self.package_source(ctx, c.zip_file.as_ref(), location).await?;
        let key = record_key(&ctx.account_id, &ctx.region, name);
        if self.functions.read().contains_key(&key) {
            return Err(LambdaError::ResourceConflictException(format!("Function already exist: {name}")).into());
        }
        self.check_unzipped_total(Some(&zip_bytes), "", &layers)?;
        let (code_sha256, code_hex, code_size) = self.put_code(&zip_bytes)?;
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
            version: LATEST.to_string(),
            last_version: 0,
            published_revision: None,
            layers,
            dead_letter_target: input.dead_letter_config.and_then(|d| d.target_arn).filter(|t| !t.is_empty()),
        };
        let pending = {
            let mut functions = self.functions.write();
            if functions.contains_key(&key) {
                return Err(LambdaError::ResourceConflictException(format!("Function already exist: {name}")).into());
            }
            functions.insert(key, Arc::new(f.clone()));
            self.submit(vec![StoreOp::put_json(FUNCTIONS, f.key(), &f)])
        };
        Self::settle(pending, &f.name).await?;
        if input.publish == Some(true) {
            return Ok(self.publish(ctx, name, None, None, None).await?.configuration());
        }
        Ok(f.configuration())
    }

    pub async fn get_function(self: &Arc<Self>, ctx: &RequestContext, input: GetFunctionRequest) -> Result<GetFunctionResponse, ServiceError> {
        let resolved = self.resolve(ctx, &input.function_name, input.qualifier.as_deref())?;
        let f = &resolved.function;
        let server = crate::code_server::address(self)
            .await
            .ok_or_else(|| ServiceError::internal("cannot start the package server"))?;
        // Tags belong to the function, not to a version.
        let tags = self.functions.read().get(&f.key()).map(|l| l.tags.clone()).unwrap_or_default();
        Ok(GetFunctionResponse {
            configuration: Some(resolved.configuration()),
            code: Some(FunctionCodeLocation {
                repository_type: Some("S3".into()),
                location: Some(format!(
                    "http://{server}{}{}/{}/{}/{}",
                    crate::code_server::PATH_PREFIX,
                    f.account,
                    f.region,
                    f.name,
                    f.version.replace('$', "%24")
                )),
                ..Default::default()
            }),
            tags: (!tags.is_empty()).then_some(tags),
            ..Default::default()
        })
    }

    pub fn get_function_configuration(
        &self,
        ctx: &RequestContext,
        input: GetFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ServiceError> {
        Ok(self.resolve(ctx, &input.function_name, input.qualifier.as_deref())?.configuration())
    }

    pub async fn delete_function(&self, ctx: &RequestContext, input: DeleteFunctionRequest) -> Result<(), ServiceError> {
        let (name, in_name) = validate::function_name(&input.function_name)?;
        let qualifier = crate::versions::qualifier(in_name, input.qualifier.as_deref())?;
        let f = self.latest(ctx, name)?;
        match qualifier {
            Some(LATEST) => {
                return Err(LambdaError::InvalidParameterValueException(
                    "$LATEST version cannot be deleted without deleting the function.".into(),
                )
                .into());
            }
            Some(q) => return self.delete_version(&f, q).await,
            None => {}
        }
        let key = f.key();
        let below = crate::function::children_prefix(&key);
        let (versions, pending) = {
            let mut functions = self.functions.write();
            functions.remove(&key);
            let mut versions = self.versions.write();
            let keys: Vec<String> = versions.range(below.clone()..).take_while(|(k, _)| k.starts_with(&below)).map(|(k, _)| k.clone()).collect();
            let gone: Vec<Arc<Function>> = keys.iter().filter_map(|k| versions.remove(k)).collect();
            self.aliases.write().retain(|k, _| !k.starts_with(&below));
            let pending = self.submit(vec![
                StoreOp::delete(FUNCTIONS, key.clone()),
                StoreOp::delete_prefix(VERSIONS, below.clone()),
                StoreOp::delete_prefix(ALIASES, below),
            ]);
            (gone, pending)
        };
        self.pool.retire(&key);
        Self::settle(pending, &f.name).await?;
        for hex in std::iter::once(&f.code_hex).chain(versions.iter().map(|v| &v.code_hex)) {
            if !self.code_in_use(hex) {
                self.code.remove(hex);
            }
        }
        Ok(())
    }

    /// A function's `$LATEST` by bare name; a qualifier in `name` is ignored.
    pub(crate) fn latest(&self, ctx: &RequestContext, name: &str) -> Result<Arc<Function>, ServiceError> {
        let (name, _) = validate::function_name(name)?;
        self.functions
            .read()
            .get(&record_key(&ctx.account_id, &ctx.region, name))
            .cloned()
            .ok_or_else(|| crate::errors::not_found(&crate::function::function_arn(&ctx.region, &ctx.account_id, name)))
    }

    /// Applies a change to a function (new revision), saving it and retiring warm environments.
    async fn update(
        &self,
        ctx: &RequestContext,
        name: &str,
        revision_id: Option<&str>,
        change: impl FnOnce(&mut Function),
    ) -> Result<Function, ServiceError> {
        let latest = self.latest(ctx, name)?;
        let key = latest.key();
        // Read, change and write under one lock: a concurrent PublishVersion must not
        // lose its version counter to this update.
        let (f, old_hex, pending) = {
            let mut functions = self.functions.write();
            let current = functions
                .get(&key)
                .cloned()
                .ok_or_else(|| crate::errors::not_found(&latest.arn()))?;
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
            functions.insert(key, Arc::new(f.clone()));
            let pending = self.submit(vec![StoreOp::put_json(FUNCTIONS, f.key(), &f)]);
            (f, current.code_hex.clone(), pending)
        };
        self.pool.retire(&format!("{}#{LATEST}", f.key()));
        Self::settle(pending, &f.name).await?;
        if old_hex != f.code_hex && !self.code_in_use(&old_hex) {
            self.code.remove(&old_hex);
        }
        Ok(f)
    }

    pub async fn update_function_code(&self, ctx: &RequestContext, input: UpdateFunctionCodeRequest) -> Result<FunctionConfiguration, ServiceError> {
        let current = self.latest(ctx, &input.function_name)?;
        let location = crate::s3_code::S3Location { bucket: input.s3_bucket.as_deref(), key: input.s3_key.as_deref(), version: input.s3_object_version.as_deref() };
        let zip_bytes = self.package_source(ctx, input.zip_file.as_ref(), location).await?;
        self.check_unzipped_total(Some(&zip_bytes), "", &current.layers)?;
        let (sha, hex, size) = self.put_code(&zip_bytes)?;
        if input.dry_run == Some(true) {
            let mut c = self.latest(ctx, &input.function_name)?.configuration();
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
        if input.publish == Some(true) {
            return Ok(self.publish(ctx, &f.name, None, None, None).await?.configuration());
        }
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
        if let Some(target) = input.dead_letter_config.as_ref().and_then(|d| d.target_arn.as_deref()) {
            validate::dead_letter_target(target, &ctx.region)?;
        }
        let timeout = input.timeout.map(|t| validate::timeout(Some(t))).transpose()?;
        let memory = input.memory_size.map(|m| validate::memory_size(Some(m))).transpose()?;
        let layers = input.layers.as_deref().map(|l| self.resolve_function_layers(ctx, l)).transpose()?;
        if let Some(l) = &layers {
            self.check_unzipped_total(None, &self.latest(ctx, &input.function_name)?.code_hex, l)?;
        }
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
                if let Some(d) = input.dead_letter_config {
                    f.dead_letter_target = d.target_arn.filter(|t| !t.is_empty());
                }
                if let Some(l) = layers {
                    f.layers = l;
                }
            })
            .await?;
        Ok(f.configuration())
    }

    /// The package of a function, for its Code.Location.
    /// The package of a function's `$LATEST` (no version, or `$LATEST`) or of a version.
    pub fn package(&self, account: &str, region: &str, name: &str, version: Option<&str>) -> Option<Vec<u8>> {
        let key = record_key(account, region, name);
        let f = match version.map(|v| v.replace("%24", "$")) {
            Some(v) if v != LATEST => self.versions.read().get(&crate::function::version_key(&key, v.parse().ok()?)).cloned()?,
            _ => self.functions.read().get(&key).cloned()?,
        };
        self.code.get(&f.code_hex).ok()
    }

    pub fn runtimes(&self) -> serde_json::Value {
        runtimes::describe()
    }
}
