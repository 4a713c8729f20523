//! Lambda layers: versions published per (account, region, layer name), numbered from 1
//! and never reused, each an archive that functions unpack into their `/opt`.
//!
//! A deleted version disappears from the API at once, but its archive stays while a
//! function names it, as in Lambda; archives nothing names are swept at start.

use crate::code::{CodeStore, digests};
use crate::function::last_modified;
use crate::generated::*;
use crate::s3_code::{self, S3Location};
use crate::state::Lambda;
use crate::validate::validation;
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Store, StoreError, clock};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Per layer name: the last version number handed out, so numbers are never reused.
const LAYERS: &str = "lambda/layers";
const VERSIONS: &str = "lambda/layer-versions";

/// ListLayers / ListLayerVersions page size when MaxItems is absent, and its ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListLayers.html
const MAX_ITEMS: usize = 50;
/// https://docs.aws.amazon.com/lambda/latest/api/API_PublishLayerVersion.html
const MAX_COMPATIBLE_RUNTIMES: usize = 15;
const MAX_LAYER_NAME: usize = 140;
const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];
const LAYER_NAME_PATTERN: &str = "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";

/// One published version of a layer, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerVersion {
    pub account: String,
    pub region: String,
    pub name: String,
    pub version: i64,
    pub description: String,
    pub license_info: Option<String>,
    pub compatible_runtimes: Option<Vec<String>>,
    pub compatible_architectures: Option<Vec<String>>,
    pub created: String,
    pub code_sha256: String,
    pub code_hex: String,
    pub code_size: i64,
    #[serde(default)]
    pub unzipped_size: u64,
    #[serde(default)]
    pub policy: Option<crate::layer_policy::Policy>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct LayerRecord {
    latest: i64,
}

#[derive(Default)]
struct LayerEntry {
    latest: i64,
    versions: BTreeMap<i64, Arc<LayerVersion>>,
}

/// A layer as a function uses it: enough to unpack it even after the version is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionLayer {
    pub arn: String,
    pub code_size: i64,
    pub code_hex: String,
    #[serde(default)]
    pub unzipped_size: u64,
}

impl FunctionLayer {
    pub fn shape(&self) -> Layer {
        Layer { arn: Some(self.arn.clone()), code_size: Some(self.code_size), ..Default::default() }
    }
}

pub fn layer_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:layer:{name}")
}

fn entry_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

fn version_key(account: &str, region: &str, name: &str, version: i64) -> String {
    format!("{account}/{region}/{name}/{version:010}")
}

impl LayerVersion {
    pub fn layer_arn(&self) -> String {
        layer_arn(&self.region, &self.account, &self.name)
    }

    pub fn arn(&self) -> String {
        format!("{}:{}", self.layer_arn(), self.version)
    }

    fn key(&self) -> String {
        version_key(&self.account, &self.region, &self.name, self.version)
    }

    fn list_item(&self) -> LayerVersionsListItem {
        LayerVersionsListItem {
            layer_version_arn: Some(self.arn()),
            version: Some(self.version),
            description: Some(self.description.clone()),
            created_date: Some(self.created.clone()),
            compatible_architectures: self.compatible_architectures.clone(),
            compatible_runtimes: self.compatible_runtimes.clone(),
            license_info: self.license_info.clone(),
        }
    }

    fn matches(&self, runtime: Option<&str>, architecture: Option<&str>) -> bool {
        let has = |list: &Option<Vec<String>>, want: Option<&str>| want.is_none_or(|w| list.iter().flatten().any(|v| v == w));
        has(&self.compatible_runtimes, runtime) && has(&self.compatible_architectures, architecture)
    }

    fn response(&self, location: String) -> GetLayerVersionResponse {
        GetLayerVersionResponse {
            content: Some(LayerVersionContentOutput {
                location: Some(location),
                code_sha256: Some(self.code_sha256.clone()),
                code_size: Some(self.code_size),
                ..Default::default()
            }),
            layer_arn: Some(self.layer_arn()),
            layer_version_arn: Some(self.arn()),
            description: Some(self.description.clone()),
            created_date: Some(self.created.clone()),
            version: Some(self.version),
            compatible_architectures: self.compatible_architectures.clone(),
            compatible_runtimes: self.compatible_runtimes.clone(),
            license_info: self.license_info.clone(),
        }
    }
}

/// Every layer of every (account, region), and their archives.
pub struct Layers {
    store: Store,
    entries: RwLock<BTreeMap<String, LayerEntry>>,
    pub files: CodeStore,
}

impl Layers {
    /// Loads the layers and sweeps archives that neither a version nor a function names.
    pub fn open<'a>(store: &Store, used_by_functions: impl Iterator<Item = &'a FunctionLayer>) -> Result<Layers, StoreError> {
        let files = CodeStore::open_named(store.dir(), "lambda/layers", "kagami-lambda-layers-")
            .map_err(|e| StoreError::Io(format!("lambda layers: {e}")))?;
        let mut entries: BTreeMap<String, LayerEntry> = BTreeMap::new();
        for (key, r) in store.scan_json::<LayerRecord>(LAYERS)? {
            entries.entry(key).or_default().latest = r.latest;
        }
        for (_, v) in store.scan_json::<LayerVersion>(VERSIONS)? {
            let e = entries.entry(entry_key(&v.account, &v.region, &v.name)).or_default();
            e.latest = e.latest.max(v.version);
            e.versions.insert(v.version, Arc::new(v));
        }
        let mut referenced: HashSet<&str> = used_by_functions.map(|l| l.code_hex.as_str()).collect();
        for e in entries.values() {
            referenced.extend(e.versions.values().map(|v| v.code_hex.as_str()));
        }
        files.sweep(&referenced);
        Ok(Layers { store: store.clone(), entries: RwLock::new(entries), files })
    }

    pub fn reset(&self) {
        self.entries.write().clear();
        self.files.clear();
        drop(self.store.submit(vec![StoreOp::delete_prefix(LAYERS, ""), StoreOp::delete_prefix(VERSIONS, "")]));
    }

    pub fn version(&self, account: &str, region: &str, name: &str, version: i64) -> Option<Arc<LayerVersion>> {
        self.entries.read().get(&entry_key(account, region, name))?.versions.get(&version).cloned()
    }

    /// The archive of a version, for its Content.Location.
    pub fn package(&self, account: &str, region: &str, name: &str, version: i64) -> Option<Vec<u8>> {
        let v = self.version(account, region, name, version)?;
        self.files.get(&v.code_hex).ok()
    }

    /// Replaces a version's record (its policy changed).
    pub async fn replace(&self, v: LayerVersion) -> Result<(), ServiceError> {
        let key = entry_key(&v.account, &v.region, &v.name);
        let commit = {
            let mut entries = self.entries.write();
            let Some(e) = entries.get_mut(&key).filter(|e| e.versions.contains_key(&v.version)) else {
                return Err(not_found());
            };
            let commit = self.store.submit(vec![StoreOp::put_json(VERSIONS, v.key(), &v)]);
            e.versions.insert(v.version, Arc::new(v));
            commit
        };
        commit.wait().await.map_err(|e| ServiceError::internal(format!("saving a layer version: {e}")))
    }
}

/// `The resource you requested does not exist.`
pub fn not_found() -> ServiceError {
    LambdaError::ResourceNotFoundException("The resource you requested does not exist.".into()).into()
}

/// The (account, region, name) a LayerName (name or layer ARN) designates.
pub fn parse_layer_name<'a>(ctx: &'a RequestContext, input: &'a str) -> Result<(&'a str, &'a str, &'a str), ServiceError> {
    let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let parsed = match input.split(':').collect::<Vec<_>>().as_slice() {
        [name] if name_ok(name) => Some((ctx.account_id.as_str(), ctx.region.as_str(), *name)),
        ["arn", _, "lambda", region, account, "layer", name]
            if !region.is_empty() && account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && name_ok(name) =>
        {
            Some((*account, *region, *name))
        }
        _ => None,
    };
    match parsed {
        Some(p) if input.len() <= MAX_LAYER_NAME => Ok(p),
        _ => Err(validation(&format!(
            "Value '{input}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}"
        ))),
    }
}

fn check_version_number(n: i64) -> Result<(), ServiceError> {
    if n < 1 {
        return Err(LambdaError::InvalidParameterValueException("Layer Version Cannot be less than 1".into()).into());
    }
    Ok(())
}

fn check_compatibility(runtimes: Option<&[String]>, architectures: Option<&[String]>, single: bool) -> Result<(), ServiceError> {
    let (runtime_member, arch_member) = if single { ("compatibleRuntime", "compatibleArchitecture") } else { ("compatibleRuntimes", "compatibleArchitectures") };
    if let Some(r) = runtimes.filter(|r| r.len() > MAX_COMPATIBLE_RUNTIMES) {
        return Err(validation(&format!(
            "Value '[{}]' at '{runtime_member}' failed to satisfy constraint: Member must have length less than or equal to {MAX_COMPATIBLE_RUNTIMES}",
            r.join(", ")
        )));
    }
    if let Some(a) = architectures.filter(|a| a.len() > ARCHITECTURES.len() || a.iter().any(|x| !ARCHITECTURES.contains(&x.as_str()))) {
        let value = if single { a.join(", ") } else { format!("[{}]", a.join(", ")) };
        return Err(validation(&format!(
            "Value '{value}' at '{arch_member}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
        )));
    }
    Ok(())
}

fn page_size(max_items: Option<i32>) -> Result<usize, ServiceError> {
    crate::paging::max_items(max_items, MAX_ITEMS as i32, MAX_ITEMS)
}

impl Lambda {
    /// Where GetLayerVersion's Content.Location downloads the archive.
    async fn layer_location(self: &Arc<Self>, v: &LayerVersion) -> Result<String, ServiceError> {
        let server = crate::code_server::address(self)
            .await
            .ok_or_else(|| ServiceError::internal("cannot start the package server"))?;
        Ok(format!("http://{server}{LAYER_PATH_PREFIX}{}/{}/{}/{}", v.account, v.region, v.name, v.version))
    }

    /// A package given inline or as an S3 location (exactly one of them).
    pub async fn package_source(&self, ctx: &RequestContext, zip: Option<&bytes::Bytes>, s3: S3Location<'_>) -> Result<bytes::Bytes, ServiceError> {
        match (zip, s3.is_given()) {
            (Some(_), true) => Err(LambdaError::InvalidParameterValueException(
                "Please do not provide other FunctionCode parameters when providing a ZipFile.".into(),
            )
            .into()),
            (Some(z), false) if z.len().div_ceil(3) * 4 > MAX_DIRECT_REQUEST => Err(ServiceError::new(
                "RequestEntityTooLargeException",
                413,
                format!("Request must be smaller than {MAX_DIRECT_REQUEST} bytes for the {} operation", ctx.operation),
            )),
            (Some(z), false) => Ok(z.clone()),
            (None, true) => s3_code::fetch(&self.peers, ctx, &s3).await,
            (None, false) => Err(LambdaError::InvalidParameterValueException("Please provide a source for function code.".into()).into()),
        }
    }

    pub async fn publish_layer_version(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: PublishLayerVersionRequest,
    ) -> Result<PublishLayerVersionResponse, ServiceError> {
        let (account, region, name) = parse_layer_name(ctx, &input.layer_name)?;
        if account != ctx.account_id || region != ctx.region {
            return Err(crate::layer_policy::access_denied(ctx, "PublishLayerVersion", &layer_arn(region, account, name)));
        }
        check_compatibility(input.compatible_runtimes.as_deref(), input.compatible_architectures.as_deref(), false)?;
        let c = &input.content;
        let location = S3Location { bucket: c.s3_bucket.as_deref(), key: c.s3_key.as_deref(), version: c.s3_object_version.as_deref() };
        let zip = self.package_source(ctx, c.zip_file.as_ref(), location).await?;
        crate::zip::validate(&zip).map_err(|e| LambdaError::InvalidParameterValueException(e.to_string()))?;
        let d = digests(&zip);
        self.layers.files.put(&d.hex, &zip).map_err(|e| ServiceError::internal(format!("storing the layer archive: {e}")))?;
        let key = entry_key(account, region, name);
        let (v, commit) = {
            let mut entries = self.layers.entries.write();
            let e = entries.entry(key.clone()).or_default();
            e.latest += 1;
            let v = LayerVersion {
                account: account.to_string(),
                region: region.to_string(),
                name: name.to_string(),
                version: e.latest,
                description: input.description.unwrap_or_default(),
                license_info: input.license_info,
                compatible_runtimes: input.compatible_runtimes,
                compatible_architectures: input.compatible_architectures,
                created: last_modified(clock::now_millis()),
                code_sha256: d.base64,
                code_hex: d.hex,
                code_size: i64::try_from(zip.len()).unwrap_or(i64::MAX),
                unzipped_size: crate::zip::unzipped_size(&zip).unwrap_or_default(),
                policy: None,
            };
            let commit = self.layers.store.submit(vec![
                StoreOp::put_json(LAYERS, key, &LayerRecord { latest: e.latest }),
                StoreOp::put_json(VERSIONS, v.key(), &v),
            ]);
            e.versions.insert(v.version, Arc::new(v.clone()));
            (v, commit)
        };
        commit.wait().await.map_err(|e| ServiceError::internal(format!("saving layer {name}: {e}")))?;
        let r = v.response(self.layer_location(&v).await?);
        Ok(PublishLayerVersionResponse {
            content: r.content,
            layer_arn: r.layer_arn,
            layer_version_arn: r.layer_version_arn,
            description: r.description,
            created_date: r.created_date,
            version: r.version,
            compatible_architectures: r.compatible_architectures,
            compatible_runtimes: r.compatible_runtimes,
            license_info: r.license_info,
        })
    }

    /// A version the caller may read: its own, or another account's whose policy allows it.
    pub fn readable_layer_version(&self, ctx: &RequestContext, account: &str, region: &str, name: &str, version: i64) -> Result<Arc<LayerVersion>, ServiceError> {
        let v = self.layers.version(account, region, name, version);
        if account == ctx.account_id {
            return v.ok_or_else(not_found);
        }
        match v {
            Some(v) if crate::layer_policy::allows(&v, &ctx.account_id) => Ok(v),
            _ => Err(crate::layer_policy::access_denied(ctx, "GetLayerVersion", &format!("{}:{version}", layer_arn(region, account, name)))),
        }
    }

    pub async fn get_layer_version(self: &Arc<Self>, ctx: &RequestContext, input: GetLayerVersionRequest) -> Result<GetLayerVersionResponse, ServiceError> {
        let (account, region, name) = parse_layer_name(ctx, &input.layer_name)?;
        check_version_number(input.version_number)?;
        let v = self.readable_layer_version(ctx, account, region, name, input.version_number)?;
        Ok(v.response(self.layer_location(&v).await?))
    }

    pub async fn get_layer_version_by_arn(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: GetLayerVersionByArnRequest,
    ) -> Result<GetLayerVersionResponse, ServiceError> {
        let Some((account, region, name, version)) = parse_layer_version_arn(&input.arn) else {
            return Err(validation(&format!(
                "Value '{}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}",
                input.arn
            )));
        };
        let v = self.readable_layer_version(ctx, account, region, name, version)?;
        Ok(v.response(self.layer_location(&v).await?))
    }

    pub fn list_layers(&self, ctx: &RequestContext, input: ListLayersRequest) -> Result<ListLayersResponse, ServiceError> {
        let runtime = input.compatible_runtime.as_deref();
        let architecture = input.compatible_architecture.as_deref();
        check_compatibility(None, architecture.map(|a| vec![a.to_string()]).as_deref(), true)?;
        let max = page_size(input.max_items)?;
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let entries = self.layers.entries.read();
        let mut page = Vec::new();
        let mut next_marker = None;
        for (key, e) in entries.range(prefix.clone()..) {
            let Some(name) = key.strip_prefix(&prefix) else { break };
            if input.marker.as_deref().is_some_and(|m| name <= m) {
                continue;
            }
            let Some(latest) = e.versions.values().rev().find(|v| v.matches(runtime, architecture)) else { continue };
            if page.len() == max {
                next_marker = page.last().and_then(|l: &LayersListItem| l.layer_name.clone());
                break;
            }
            page.push(LayersListItem {
                layer_name: Some(name.to_string()),
                layer_arn: Some(latest.layer_arn()),
                latest_matching_version: Some(latest.list_item()),
            });
        }
        Ok(ListLayersResponse { next_marker, layers: Some(page) })
    }

    pub fn list_layer_versions(&self, ctx: &RequestContext, input: ListLayerVersionsRequest) -> Result<ListLayerVersionsResponse, ServiceError> {
        let (account, region, name) = parse_layer_name(ctx, &input.layer_name)?;
        let runtime = input.compatible_runtime.as_deref();
        let architecture = input.compatible_architecture.as_deref();
        check_compatibility(None, architecture.map(|a| vec![a.to_string()]).as_deref(), true)?;
        let max = page_size(input.max_items)?;
        let after: Option<i64> = match input.marker.as_deref() {
            None => None,
            Some(m) => Some(m.parse().map_err(|_| LambdaError::InvalidParameterValueException(format!("Invalid marker: {m}")))?),
        };
        let entries = self.layers.entries.read();
        let mut page = Vec::new();
        let mut next_marker = None;
        if let Some(e) = entries.get(&entry_key(account, region, name)) {
            for v in e.versions.values().rev() {
                if after.is_some_and(|a| v.version >= a) || !v.matches(runtime, architecture) {
                    continue;
                }
                if account != ctx.account_id && !crate::layer_policy::allows(v, &ctx.account_id) {
                    continue;
                }
                if page.len() == max {
                    next_marker = page.last().and_then(|l: &LayerVersionsListItem| l.version).map(|n| n.to_string());
                    break;
                }
                page.push(v.list_item());
            }
        }
        Ok(ListLayerVersionsResponse { next_marker, layer_versions: Some(page) })
    }

    /// Deleting a version that does not exist succeeds, as in Lambda.
    pub async fn delete_layer_version(&self, ctx: &RequestContext, input: DeleteLayerVersionRequest) -> Result<(), ServiceError> {
        let (account, region, name) = parse_layer_name(ctx, &input.layer_name)?;
        check_version_number(input.version_number)?;
        if account != ctx.account_id || region != ctx.region {
            return Err(crate::layer_policy::access_denied(
                ctx,
                "DeleteLayerVersion",
                &format!("{}:{}", layer_arn(region, account, name), input.version_number),
            ));
        }
        let commit = {
            let mut entries = self.layers.entries.write();
            let Some(e) = entries.get_mut(&entry_key(account, region, name)) else { return Ok(()) };
            if e.versions.remove(&input.version_number).is_none() {
                return Ok(());
            }
            self.layers.store.submit(vec![StoreOp::delete(VERSIONS, version_key(account, region, name, input.version_number))])
        };
        commit.wait().await.map_err(|e| ServiceError::internal(format!("deleting a layer version: {e}")))
    }

    /// Checks a function's `Layers` and resolves each to what the function keeps of it.
    /// https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html
    pub fn resolve_function_layers(&self, ctx: &RequestContext, arns: &[String]) -> Result<Vec<FunctionLayer>, ServiceError> {
        if arns.len() > MAX_FUNCTION_LAYERS {
            return Err(LambdaError::InvalidParameterValueException("Cannot reference more than 5 layers.".into()).into());
        }
        let mut seen: IndexMap<String, &str> = IndexMap::new();
        let mut out = Vec::with_capacity(arns.len());
        for arn in arns {
            let Some((account, region, name, version)) = parse_layer_version_arn(arn).filter(|_| arn.len() <= MAX_LAYER_NAME) else {
                return Err(validation(&format!(
                    "Value '[{}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to {MAX_LAYER_NAME}, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]",
                    arns.join(", ")
                )));
            };
            if region != ctx.region {
                return Err(LambdaError::InvalidParameterValueException(format!(
                    "Layers are not in the same region as the function. Layers are expected to be in region {}.",
                    ctx.region
                ))
                .into());
            }
            let v = match self.layers.version(account, region, name, version) {
                Some(v) if account == ctx.account_id || crate::layer_policy::allows(&v, &ctx.account_id) => v,
                None if account == ctx.account_id => {
                    return Err(LambdaError::InvalidParameterValueException(format!("Layer version {arn} does not exist.")).into());
                }
                _ => return Err(crate::layer_policy::access_denied(ctx, "GetLayerVersion", arn)),
            };
            let unversioned = layer_arn(region, account, name);
            if let Some(first) = seen.get(&unversioned) {
                return Err(LambdaError::InvalidParameterValueException(format!(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. {first} and {arn} are versions of the same layer."
                ))
                .into());
            }
            seen.insert(unversioned, arn);
            out.push(FunctionLayer { arn: v.arn(), code_size: v.code_size, code_hex: v.code_hex.clone(), unzipped_size: v.unzipped_size });
        }
        Ok(out)
    }

    /// A function's code and layers unpack to at most 250 MB together. `code` is the
    /// package, or `None` for the function's current one (`code_hex`).
    /// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    pub fn check_unzipped_total(&self, code: Option<&[u8]>, code_hex: &str, layers: &[FunctionLayer]) -> Result<(), ServiceError> {
        if layers.is_empty() {
            return Ok(());
        }
        let own = match code {
            Some(zip) => crate::zip::unzipped_size(zip).unwrap_or_default(),
            None => self.code.get(code_hex).ok().and_then(|zip| crate::zip::unzipped_size(&zip).ok()).unwrap_or_default(),
        };
        let total = layers.iter().map(|l| l.unzipped_size).fold(own, u64::saturating_add);
        let max = crate::zip::MAX_UNZIPPED as u64;
        if total > max {
            return Err(LambdaError::InvalidParameterValueException(format!(
                "Function code combined with layers exceeds the maximum allowed size of {max} bytes. The actual size is {total} bytes."
            ))
            .into());
        }
        Ok(())
    }

    /// The archive behind `/_kagami/lambda/layer/<account>/<region>/<name>/<version>`.
    pub fn layer_package(&self, path: &str) -> Option<Vec<u8>> {
        let mut parts = path.split('/');
        let (account, region, name, version) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?.parse().ok()?);
        self.layers.package(account, region, name, version)
    }

    /// The directory that plays `/opt` for a function's layers (none without layers).
    pub fn opt_root(&self, layers: &[FunctionLayer]) -> Result<Option<std::path::PathBuf>, String> {
        crate::layer_opt::unpack(&self.layers.files, layers)
    }
}

pub const LAYER_PATH_PREFIX: &str = "/_kagami/lambda/layer/";
/// A package uploaded in the request is at most 50 MB zipped, which Lambda checks as the
/// size of the request that carries it in base64.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const MAX_DIRECT_REQUEST: usize = 69_905_067;
/// A function references at most five layers.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const MAX_FUNCTION_LAYERS: usize = 5;
const LAYER_VERSION_ARN_PATTERN: &str =
    "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";

/// `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION` into its parts.
pub fn parse_layer_version_arn(arn: &str) -> Option<(&str, &str, &str, i64)> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "lambda", region, account, "layer", name, version]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            let v: i64 = version.parse().ok().filter(|_| version.chars().all(|c| c.is_ascii_digit()))?;
            Some((*account, *region, *name, v))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_version_arns_parse() {
        assert_eq!(
            parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3"),
            Some(("123456789012", "us-east-1", "my-layer", 3))
        );
        assert_eq!(parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer"), None);
        assert_eq!(parse_layer_version_arn("arn:aws:lambda:us-east-1:123:layer:l:1"), None);
        assert_eq!(parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:l:x"), None);
    }
}
