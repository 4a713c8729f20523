//! Amazon S3, first slice: buckets (create with AWS's naming and LocationConstraint
//! rules, head, list, delete, location) and objects (put, get, head, delete) with
//! bodies streamed to and from files, aws-chunked uploads decoded on the fly.
//! Bucket names are global across accounts, as in AWS.
//!
//! The provider below is the generated `S3Api` trait: one method per operation, each
//! handing the typed request to the domain model (`state.rs`, `objects.rs`).

// The provider's methods return the generated trait's `ServiceError`; its size is the
// protocol crate's choice, and errors are the rare path.
#![allow(clippy::result_large_err)]

pub mod generated;

mod blobs;
mod body;
mod chunked;
mod config_store;
mod errors;
mod multipart;
mod names;
mod objects;
mod persistence;
mod state;
mod versions;
// mod: multipart-checksums
// mod: listing
// mod: object-reads
// mod: versions-tags-lock
// mod: bucket-config
// mod: http-surface

use crate::generated::*;
use crate::state::S3;
use kagami_core::{
    BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value,
};
use kagami_protocol::shapes::ShapeError;
use std::sync::{Arc, LazyLock};

/// Bucket operations of `state.rs` that behave as AWS documents.
const BUCKET_OPERATIONS: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "GetBucketLocation",
    "HeadBucket",
    "ListBuckets",
];

/// Each module's list of the operations it implements as AWS documents; every other
/// operation answers NotImplemented.
const MODULE_OPERATIONS: &[&[&str]] = &[
    BUCKET_OPERATIONS,
    objects::OPERATIONS,
    multipart::OPERATIONS,
    // operations: multipart-checksums
    // operations: listing
    // operations: object-reads
    // operations: versions-tags-lock
    // operations: bucket-config
    // operations: http-surface
];

/// The operations that behave as AWS documents, sorted.
pub static IMPLEMENTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut all: Vec<&'static str> = MODULE_OPERATIONS.iter().flat_map(|m| m.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
});

/// The S3 provider.
pub struct S3Provider {
    s3: Arc<S3>,
}

impl S3Api for S3Provider {
    async fn create_bucket(
        &self,
        ctx: &RequestContext,
        input: CreateBucketRequest,
    ) -> Result<CreateBucketOutput, ServiceError> {
        self.s3.create_bucket(ctx, input).await
    }

    async fn delete_bucket(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket(ctx, &input).await
    }

    async fn delete_object(
        &self,
        ctx: &RequestContext,
        input: DeleteObjectRequest,
    ) -> Result<DeleteObjectOutput, ServiceError> {
        self.s3.delete_object(ctx, &input).await
    }

    async fn get_bucket_location(
        &self,
        ctx: &RequestContext,
        input: GetBucketLocationRequest,
    ) -> Result<GetBucketLocationOutput, ServiceError> {
        self.s3.get_bucket_location(ctx, &input)
    }

    async fn get_object(
        &self,
        ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<GetObjectOutput, ServiceError> {
        self.s3.get_object(ctx, input).await
    }

    async fn head_bucket(
        &self,
        ctx: &RequestContext,
        input: HeadBucketRequest,
    ) -> Result<HeadBucketOutput, ServiceError> {
        self.s3.head_bucket(ctx, &input)
    }

    async fn head_object(
        &self,
        ctx: &RequestContext,
        input: HeadObjectRequest,
    ) -> Result<HeadObjectOutput, ServiceError> {
        self.s3.head_object(ctx, &input)
    }

    async fn list_buckets(
        &self,
        ctx: &RequestContext,
        input: ListBucketsRequest,
    ) -> Result<ListBucketsOutput, ServiceError> {
        Ok(self.s3.list_buckets(ctx, &input))
    }

    async fn put_object(
        &self,
        ctx: &RequestContext,
        input: PutObjectRequest,
    ) -> Result<PutObjectOutput, ServiceError> {
        self.s3.put_object(ctx, input).await
    }

    // methods: multipart-checksums

    // methods: listing

    // methods: object-reads

    // methods: versions-tags-lock

    // methods: bucket-config

    // methods: http-surface

    /// S3 reports malformed requests as InvalidArgument / InvalidRequest.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        match error {
            ShapeError::Missing { member } => ServiceError::new(
                "InvalidRequest",
                400,
                format!("Missing required parameter {member}"),
            ),
            ShapeError::Invalid { member, detail } => ServiceError::new(
                "InvalidArgument",
                400,
                format!("Invalid value for {member}: {detail}"),
            )
            .with_field("ArgumentName", member),
        }
    }
}

/// The S3 service as the gateway sees it.
pub struct S3Service {
    provider: S3Provider,
}

impl Service for S3Service {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED.as_slice()
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.s3.reset();
    }
}

/// Builds the S3 service, loading buckets and object metadata from a durable store and
/// sweeping body files a crash left behind.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(S3Service {
        provider: S3Provider {
            s3: Arc::new(S3::new(env.store.clone())?),
        },
    }))
}
