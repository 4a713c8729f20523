//! Buckets: names global across accounts (as AWS's are), each recording its owner
//! account and region, each holding the metadata of its objects.

use crate::blobs::Blobs;
use crate::errors::*;
use crate::generated::*;
use crate::names::{LocationError, check_location, is_valid_bucket_name};
use crate::config_store;
use crate::persistence::{self, BucketRecord, ObjectRecord};
use crate::versions::{ObjectVersions, Versioning};
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, Store, StoreError, Timestamp, Value, clock};
use md5::{Digest, Md5};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// ListBuckets pages hold at most this many (AWS: MaxBuckets 1..=10000).
const MAX_BUCKETS_PER_PAGE: usize = 10_000;

pub struct Bucket {
    pub record: BucketRecord,
    /// Keys in UTF-8 byte order, which is the order S3 lists them in.
    pub objects: BTreeMap<String, ObjectVersions>,
    /// Configuration documents by name (`Cors`, `Website`, `Lifecycle`, `Tagging`, ...),
    /// each the `Value` of its typed shape; see `config_store.rs`.
    pub config: BTreeMap<String, Value>,
    /// In-progress multipart uploads by upload id.
    pub uploads: BTreeMap<String, crate::multipart::Upload>,
}

impl Bucket {
    fn new(record: BucketRecord) -> Bucket {
        Bucket {
            record,
            objects: BTreeMap::new(),
            config: BTreeMap::new(),
            uploads: BTreeMap::new(),
        }
    }

    pub fn versioning(&self) -> Versioning {
        Versioning::of(self.record.versioning.as_deref())
    }

    /// Writes `record` as the newest version of its key under the bucket's versioning
    /// state. Returns the store ops to commit, the body files to remove once they are
    /// committed, and the version as stored (with its version id).
    pub fn write_version(&mut self, record: ObjectRecord, seq: u64) -> VersionWrite {
        self.write_version_with(record, seq, |_, stored| stored.clone())
    }

    /// `write_version`, answering with what `f` reads from the version as stored
    /// instead of a copy of it: PutObject's answer needs a few of its fields.
    pub fn write_version_with<R>(
        &mut self,
        mut record: ObjectRecord,
        seq: u64,
        f: impl FnOnce(&Bucket, &ObjectRecord) -> R,
    ) -> VersionWrite<R> {
        record.seq = seq;
        let versioning = self.versioning();
        let key = record.key.clone();
        let versions = self.objects.entry(key.clone()).or_default();
        let displaced = versions.push(record, versioning);
        // An ephemeral store discards its records: none are built for it.
        let durable = crate::blobs::durable_writes();
        let mut ops = Vec::with_capacity(if durable { 2 } else { 0 });
        let mut orphaned = Vec::new();
        if let Some(old) = displaced {
            if durable {
                ops.push(StoreOp::delete(
                    persistence::OBJECTS,
                    persistence::object_key(&old.bucket, &old.key, old.version_id.as_deref()),
                ));
            }
            if !old.file.is_empty() {
                orphaned.push(old.file);
            }
        }
        let default = ObjectRecord::default();
        // Found again (the version just pushed) so that `f` may read the bucket too.
        let stored = self
            .objects
            .get(&key)
            .and_then(ObjectVersions::latest)
            .unwrap_or(&default);
        if durable {
            ops.push(StoreOp::put_json(
                persistence::OBJECTS,
                persistence::object_key(&stored.bucket, &stored.key, stored.version_id.as_deref()),
                stored,
            ));
        }
        VersionWrite {
            ops,
            orphaned,
            stored: f(self, stored),
        }
    }

    /// Removes one version for good; the caller commits the ops, then removes the files.
    pub fn remove_version(&mut self, key: &str, version_id: &str) -> Option<VersionWrite> {
        let versions = self.objects.get_mut(key)?;
        let removed = versions.remove(version_id)?;
        if versions.is_empty() {
            self.objects.remove(key);
        }
        let ops = vec![StoreOp::delete(
            persistence::OBJECTS,
            persistence::object_key(&removed.bucket, &removed.key, removed.version_id.as_deref()),
        )];
        let orphaned = if removed.file.is_empty() {
            Vec::new()
        } else {
            vec![removed.file.clone()]
        };
        Some(VersionWrite {
            ops,
            orphaned,
            stored: removed,
        })
    }

    /// Persists a changed version in place (tags, retention, legal hold, ACL).
    pub fn update_version_op(record: &ObjectRecord) -> StoreOp {
        StoreOp::put_json(
            persistence::OBJECTS,
            persistence::object_key(&record.bucket, &record.key, record.version_id.as_deref()),
            record,
        )
    }
}

/// The outcome of a change to an object's versions.
pub struct VersionWrite<R = ObjectRecord> {
    pub ops: Vec<StoreOp>,
    /// Body files no version refers to any more: removed after the commit.
    pub orphaned: Vec<String>,
    /// The version written, or the one removed (or what was read from it).
    pub stored: R,
}

pub struct S3 {
    pub(crate) buckets: RwLock<BTreeMap<String, Bucket>>,
    pub(crate) store: Store,
    pub(crate) blobs: Blobs,
    /// Orders versions of a key across restarts.
    seq: AtomicU64,
}

impl S3 {
    pub fn new(store: Store) -> Result<S3, StoreError> {
        let blobs = Blobs::open(store.dir())
            .map_err(|e| StoreError::Io(format!("S3 body directory: {e}")))?;
        let mut buckets = BTreeMap::new();
        for (_, record) in store.scan_json::<BucketRecord>(persistence::BUCKETS)? {
            buckets.insert(record.name.clone(), Bucket::new(record));
        }
        let mut referenced = HashSet::new();
        let mut max_seq = 0;
        for (_, object) in store.scan_json::<ObjectRecord>(persistence::OBJECTS)? {
            if let Some(b) = buckets.get_mut(&object.bucket) {
                referenced.insert(object.file.clone());
                max_seq = max_seq.max(object.seq);
                b.objects
                    .entry(object.key.clone())
                    .or_default()
                    .versions
                    .push(object);
            }
        }
        for bucket in buckets.values_mut() {
            for versions in bucket.objects.values_mut() {
                versions.versions.sort_by_key(|r| r.seq);
            }
        }
        for (key, json) in store.scan_json::<serde_json::Value>(persistence::BUCKET_CONFIG)? {
            if let Some((bucket, name)) = config_store::split_config_key(&key)
                && let Some(b) = buckets.get_mut(bucket)
            {
                b.config.insert(name.to_string(), config_store::from_json(&json));
            }
        }
        crate::multipart::load(&store, &mut buckets, &mut referenced)?;
        blobs
            .sweep_orphans(&referenced)
            .map_err(|e| StoreError::Io(format!("S3 body directory: {e}")))?;
        Ok(S3 {
            buckets: RwLock::new(buckets),
            store,
            blobs,
            seq: AtomicU64::new(max_seq + 1),
        })
    }

    pub fn reset(&self) {
        self.buckets.write().clear();
        let ops = persistence::TABLES
            .iter()
            .map(|t| StoreOp::delete_prefix(t, ""))
            .collect();
        drop(self.store.submit(ops));
        self.blobs.clear();
    }

    /// The next version sequence number.
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits for `commit`, then removes the body files it orphaned.
    pub(crate) async fn finish(&self, commit: Commit, orphaned: Vec<String>) -> Result<(), ServiceError> {
        commit.wait().await.map_err(store_error)?;
        for file in orphaned {
            self.blobs.remove(&file);
        }
        Ok(())
    }

    /// Runs `f` on the caller's bucket, for writing: NoSuchBucket when it does not
    /// exist, AccessDenied when another account owns it. `f` returns the store ops of
    /// its change (submitted while the lock is held, so the log orders like memory) and
    /// files to remove after they commit.
    pub(crate) async fn with_bucket_mut<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&mut Bucket) -> Result<(T, Vec<StoreOp>, Vec<String>), ServiceError>,
    ) -> Result<T, ServiceError> {
        let (value, commit, orphaned) = {
            let mut buckets = self.buckets.write();
            let bucket = buckets.get_mut(name).ok_or_else(|| no_such_bucket(name))?;
            if bucket.record.account != ctx.account_id {
                return Err(access_denied());
            }
            let (value, ops, orphaned) = f(bucket)?;
            // Ephemeral writes build no ops, yet may still leave files to remove.
            let commit = if ops.is_empty() && orphaned.is_empty() {
                None
            } else {
                Some(self.store.submit(ops))
            };
            (value, commit, orphaned)
        };
        if let Some(commit) = commit {
            self.finish(commit, orphaned).await?;
        }
        Ok(value)
    }

    /// A bucket configuration document, or `None` when the bucket has none.
    pub(crate) fn bucket_config(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        name: &str,
    ) -> Result<Option<Value>, ServiceError> {
        self.with_bucket(ctx, bucket, |b| Ok(b.config.get(name).cloned()))
    }

    /// Sets (`Some`) or deletes (`None`) a bucket configuration document, durably.
    pub(crate) async fn set_bucket_config(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        name: &str,
        value: Option<Value>,
    ) -> Result<(), ServiceError> {
        self.with_bucket_mut(ctx, bucket, |b| {
            let key = config_store::config_key(bucket, name);
            let op = match value {
                Some(v) => {
                    let op = StoreOp::put_json(
                        persistence::BUCKET_CONFIG,
                        key,
                        &config_store::to_json(&v),
                    );
                    b.config.insert(name.to_string(), v);
                    op
                }
                None => {
                    b.config.remove(name);
                    StoreOp::delete(persistence::BUCKET_CONFIG, key)
                }
            };
            Ok(((), vec![op], Vec::new()))
        })
        .await
    }

    /// Persists the bucket record after a change to it (versioning, object lock).
    pub(crate) fn bucket_record_op(record: &BucketRecord) -> StoreOp {
        StoreOp::put_json(persistence::BUCKETS, record.name.clone(), record)
    }

    /// Runs `f` on the caller's bucket: NoSuchBucket when it does not exist,
    /// AccessDenied when another account owns it.
    pub(crate) fn with_bucket<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&Bucket) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let buckets = self.buckets.read();
        let bucket = buckets.get(name).ok_or_else(|| no_such_bucket(name))?;
        if bucket.record.account != ctx.account_id {
            return Err(access_denied());
        }
        f(bucket)
    }

    pub async fn create_bucket(
        &self,
        ctx: &RequestContext,
        input: CreateBucketRequest,
    ) -> Result<CreateBucketOutput, ServiceError> {
        // Ownership and ACL headers are checked after the name and the location.
        let config = crate::bucket_config::acl::create_bucket_config(&input, &canonical_user_id(&ctx.account_id));
        let name = input.bucket;
        if !is_valid_bucket_name(&name) {
            return Err(invalid_bucket_name(&name));
        }
        let constraint = input
            .create_bucket_configuration
            .and_then(|c| c.location_constraint);
        match check_location(&ctx.region, constraint.as_deref()) {
            Ok(()) => {}
            Err(LocationError::Invalid) => {
                return Err(invalid_location_constraint(
                    constraint.as_deref().unwrap_or_default(),
                ));
            }
            Err(LocationError::Illegal(c)) => {
                return Err(illegal_location_constraint(c.as_deref()));
            }
        }
        let config = config?;
        let output = CreateBucketOutput {
            location: Some(format!("/{name}")),
            bucket_arn: Some(bucket_arn(&name)),
        };
        let commit = {
            let mut buckets = self.buckets.write();
            if let Some(existing) = buckets.get(&name) {
                if existing.record.account != ctx.account_id {
                    return Err(bucket_already_exists(&name));
                }
                // us-east-1 answers a repeated create of one's own bucket there with success.
                if ctx.region == "us-east-1" && existing.record.region == "us-east-1" {
                    return Ok(output);
                }
                return Err(bucket_already_owned_by_you(&name));
            }
            let object_lock = input.object_lock_enabled_for_bucket == Some(true);
            let record = BucketRecord {
                name: name.clone(),
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                created: clock::now_millis(),
                // Object Lock needs versioning, and turns it on for good.
                versioning: object_lock.then(|| "Enabled".to_string()),
                mfa_delete: None,
                object_lock_enabled: object_lock,
            };
            let mut ops = vec![StoreOp::put_json(persistence::BUCKETS, name.clone(), &record)];
            let mut bucket = Bucket::new(record);
            for (config_name, value) in config {
                ops.push(StoreOp::put_json(
                    persistence::BUCKET_CONFIG,
                    config_store::config_key(&name, config_name),
                    &config_store::to_json(&value),
                ));
                bucket.config.insert(config_name.to_string(), value);
            }
            buckets.insert(name, bucket);
            self.store.submit(ops)
        };
        commit.wait().await.map_err(store_error)?;
        Ok(output)
    }

    pub fn head_bucket(
        &self,
        ctx: &RequestContext,
        input: &HeadBucketRequest,
    ) -> Result<HeadBucketOutput, ServiceError> {
        let buckets = self.buckets.read();
        let bucket = buckets.get(&input.bucket).ok_or_else(not_found)?;
        if bucket.record.account != ctx.account_id {
            return Err(ServiceError::new("Forbidden", 403, "Forbidden"));
        }
        Ok(HeadBucketOutput {
            bucket_region: Some(bucket.record.region.clone()),
            access_point_alias: Some(false),
            bucket_arn: Some(bucket_arn(&bucket.record.name)),
            ..Default::default()
        })
    }

    pub fn list_buckets(
        &self,
        ctx: &RequestContext,
        input: &ListBucketsRequest,
    ) -> ListBucketsOutput {
        let limit = input
            .max_buckets
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(MAX_BUCKETS_PER_PAGE)
            .clamp(1, MAX_BUCKETS_PER_PAGE);
        let buckets = self.buckets.read();
        let mut page: Vec<Bucket_> = Vec::new();
        let mut continuation_token = None;
        let mine = buckets.values().map(|b| &b.record).filter(|r| {
            r.account == ctx.account_id
                && input
                    .prefix
                    .as_deref()
                    .is_none_or(|p| r.name.starts_with(p))
                && input
                    .bucket_region
                    .as_deref()
                    .is_none_or(|reg| r.region == reg)
                && input
                    .continuation_token
                    .as_deref()
                    .is_none_or(|t| r.name.as_str() > t)
        });
        for r in mine {
            if page.len() == limit {
                continuation_token = page.last().and_then(|b| b.name.clone());
                break;
            }
            page.push(Bucket_ {
                name: Some(r.name.clone()),
                creation_date: Some(Timestamp::from_millis(r.created)),
                bucket_region: Some(r.region.clone()),
                bucket_arn: Some(bucket_arn(&r.name)),
            });
        }
        ListBucketsOutput {
            buckets: Some(page),
            owner: Some(Owner {
                display_name: None,
                id: Some(canonical_user_id(&ctx.account_id)),
            }),
            continuation_token,
            prefix: input.prefix.clone(),
        }
    }

    pub async fn delete_bucket(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketRequest,
    ) -> Result<(), ServiceError> {
        let (commit, files) = {
            let mut buckets = self.buckets.write();
            let bucket = buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if bucket.record.account != ctx.account_id {
                return Err(access_denied());
            }
            // Delete markers and old versions count: a versioned bucket is empty only
            // when no version of anything is left.
            if !bucket.objects.is_empty() {
                return Err(bucket_not_empty(&input.bucket));
            }
            let prefix = persistence::bucket_prefix(&input.bucket);
            let files: Vec<String> = bucket
                .uploads
                .values()
                .flat_map(crate::multipart::Upload::files)
                .collect();
            buckets.remove(&input.bucket);
            let commit = self.store.submit(vec![
                StoreOp::delete(persistence::BUCKETS, input.bucket.clone()),
                StoreOp::delete_prefix(persistence::BUCKET_CONFIG, prefix.clone()),
                StoreOp::delete_prefix(persistence::UPLOADS, prefix),
            ]);
            (commit, files)
        };
        self.finish(commit, files).await
    }

    pub fn get_bucket_location(
        &self,
        ctx: &RequestContext,
        input: &GetBucketLocationRequest,
    ) -> Result<GetBucketLocationOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |b| {
            // Buckets in us-east-1 report an empty constraint (botocore reads it as None).
            let region = &b.record.region;
            Ok(GetBucketLocationOutput {
                location_constraint: Some(if region == "us-east-1" {
                    String::new()
                } else {
                    region.clone()
                }),
            })
        })
    }
}

type Bucket_ = crate::generated::Bucket;

pub fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

/// The 64-hex-digit canonical user ID S3 shows as owner, stable per account.
pub fn canonical_user_id(account: &str) -> String {
    // Every write resolves its ACL owner: the two digests are computed once per account.
    static KNOWN: std::sync::LazyLock<parking_lot::Mutex<HashMap<String, String>>> =
        std::sync::LazyLock::new(Default::default);
    /// Accounts remembered at most; past that the cache starts over.
    const KNOWN_MAX: usize = 1024;
    if let Some(id) = KNOWN.lock().get(account) {
        return id.clone();
    }
    let first = Md5::digest(format!("kagami-canonical-user:{account}").as_bytes());
    let second = Md5::digest(first);
    let id = format!("{}{}", hex::encode(first), hex::encode(second));
    let mut known = KNOWN.lock();
    if known.len() >= KNOWN_MAX {
        known.clear();
    }
    known.insert(account.to_string(), id.clone());
    id
}

pub fn store_error(e: StoreError) -> ServiceError {
    tracing::error!(error = %e, "S3 store write failed");
    ServiceError::internal(format!("could not persist the change: {e}"))
}
