//! Buckets: names global across accounts (as AWS's are), each recording its owner
//! account and region, each holding the metadata of its objects.

use crate::blobs::Blobs;
use crate::errors::*;
use crate::generated::*;
use crate::names::{LocationError, check_location, is_valid_bucket_name};
use crate::persistence::{self, BucketRecord, ObjectRecord};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Store, StoreError, Timestamp, clock};
use md5::{Digest, Md5};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashSet};

/// ListBuckets pages hold at most this many (AWS: MaxBuckets 1..=10000).
const MAX_BUCKETS_PER_PAGE: usize = 10_000;

pub struct Bucket {
    pub record: BucketRecord,
    pub objects: BTreeMap<String, ObjectRecord>,
}

pub struct S3 {
    pub(crate) buckets: RwLock<BTreeMap<String, Bucket>>,
    pub(crate) store: Store,
    pub(crate) blobs: Blobs,
}

impl S3 {
    pub fn new(store: Store) -> Result<S3, StoreError> {
        let blobs = Blobs::open(store.dir())
            .map_err(|e| StoreError::Io(format!("S3 body directory: {e}")))?;
        let mut buckets = BTreeMap::new();
        for (_, record) in store.scan_json::<BucketRecord>(persistence::BUCKETS)? {
            buckets.insert(
                record.name.clone(),
                Bucket {
                    record,
                    objects: BTreeMap::new(),
                },
            );
        }
        let mut referenced = HashSet::new();
        for (_, object) in store.scan_json::<ObjectRecord>(persistence::OBJECTS)? {
            if let Some(b) = buckets.get_mut(&object.bucket) {
                referenced.insert(object.file.clone());
                b.objects.insert(object.key.clone(), object);
            }
        }
        blobs
            .sweep_orphans(&referenced)
            .map_err(|e| StoreError::Io(format!("S3 body directory: {e}")))?;
        Ok(S3 {
            buckets: RwLock::new(buckets),
            store,
            blobs,
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
            let record = BucketRecord {
                name: name.clone(),
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                created: clock::now_millis(),
            };
            let op = StoreOp::put_json(persistence::BUCKETS, name.clone(), &record);
            buckets.insert(
                name,
                Bucket {
                    record,
                    objects: BTreeMap::new(),
                },
            );
            self.store.submit(vec![op])
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
        let commit = {
            let mut buckets = self.buckets.write();
            let bucket = buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if bucket.record.account != ctx.account_id {
                return Err(access_denied());
            }
            if !bucket.objects.is_empty() {
                return Err(bucket_not_empty(&input.bucket));
            }
            buckets.remove(&input.bucket);
            self.store.submit(vec![StoreOp::delete(
                persistence::BUCKETS,
                input.bucket.clone(),
            )])
        };
        commit.wait().await.map_err(store_error)
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
    let first = Md5::digest(format!("kagami-canonical-user:{account}").as_bytes());
    let second = Md5::digest(first);
    format!("{}{}", hex::encode(first), hex::encode(second))
}

pub fn store_error(e: StoreError) -> ServiceError {
    tracing::error!(error = %e, "S3 store write failed");
    ServiceError::internal(format!("could not persist the change: {e}"))
}
