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
mod incoming;
mod chunked;
mod config_store;
mod errors;
mod multipart;
mod names;
mod new_object_headers;
mod objects;
mod persistence;
mod state;
mod versions;
// mod: multipart-checksums
mod checksums;
// mod: listing
mod listing;
// mod: object-reads
mod attributes;
mod conditions;
mod copy;
mod ranges;
mod sse;
// mod: versions-tags-lock
mod delete_objects;
mod object_acl;
mod object_lock;
mod object_tagging;
mod versioning;
mod write_settings;
// mod: bucket-config
mod bucket_config;
// mod: http-surface
mod http;
// mod: fidelity
mod restore;

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
    listing::OPERATIONS,
    // operations: object-reads
    copy::OPERATIONS,
    attributes::OPERATIONS,
    // operations: versions-tags-lock
    versioning::OPERATIONS,
    delete_objects::OPERATIONS,
    object_tagging::OPERATIONS,
    object_acl::OPERATIONS,
    object_lock::OPERATIONS,
    // operations: bucket-config
    bucket_config::acl::OPERATIONS,
    bucket_config::analytics_metrics_inventory::OPERATIONS,
    bucket_config::encryption::OPERATIONS,
    bucket_config::lifecycle::OPERATIONS,
    bucket_config::logging::OPERATIONS,
    bucket_config::notification::OPERATIONS,
    bucket_config::ownership::OPERATIONS,
    bucket_config::policy::OPERATIONS,
    bucket_config::public_access_block::OPERATIONS,
    bucket_config::replication::OPERATIONS,
    bucket_config::simple::OPERATIONS,
    bucket_config::tagging::OPERATIONS,
    // operations: http-surface
    http::OPERATIONS,
    // operations: fidelity
    restore::OPERATIONS,
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

    async fn abort_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: AbortMultipartUploadRequest,
    ) -> Result<AbortMultipartUploadOutput, ServiceError> {
        self.s3.abort_multipart_upload(ctx, &input).await
    }

    async fn complete_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: CompleteMultipartUploadRequest,
    ) -> Result<CompleteMultipartUploadOutput, ServiceError> {
        self.s3.complete_multipart_upload(ctx, input).await
    }

    async fn create_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: CreateMultipartUploadRequest,
    ) -> Result<CreateMultipartUploadOutput, ServiceError> {
        self.s3.create_multipart_upload(ctx, input).await
    }

    async fn list_multipart_uploads(
        &self,
        ctx: &RequestContext,
        input: ListMultipartUploadsRequest,
    ) -> Result<ListMultipartUploadsOutput, ServiceError> {
        self.s3.list_multipart_uploads(ctx, &input)
    }

    async fn list_parts(
        &self,
        ctx: &RequestContext,
        input: ListPartsRequest,
    ) -> Result<ListPartsOutput, ServiceError> {
        self.s3.list_parts(ctx, &input)
    }

    async fn upload_part(
        &self,
        ctx: &RequestContext,
        input: UploadPartRequest,
    ) -> Result<UploadPartOutput, ServiceError> {
        self.s3.upload_part(ctx, input).await
    }

    async fn upload_part_copy(
        &self,
        ctx: &RequestContext,
        input: UploadPartCopyRequest,
    ) -> Result<UploadPartCopyOutput, ServiceError> {
        self.s3.upload_part_copy(ctx, input).await
    }

    // methods: listing
    async fn list_objects_v2(
        &self,
        ctx: &RequestContext,
        input: ListObjectsV2Request,
    ) -> Result<ListObjectsV2Output, ServiceError> {
        self.s3.list_objects_v2(ctx, &input)
    }

    async fn list_objects(
        &self,
        ctx: &RequestContext,
        input: ListObjectsRequest,
    ) -> Result<ListObjectsOutput, ServiceError> {
        self.s3.list_objects(ctx, &input)
    }

    async fn list_object_versions(
        &self,
        ctx: &RequestContext,
        input: ListObjectVersionsRequest,
    ) -> Result<ListObjectVersionsOutput, ServiceError> {
        self.s3.list_object_versions(ctx, &input)
    }

    // methods: object-reads
    async fn copy_object(
        &self,
        ctx: &RequestContext,
        input: CopyObjectRequest,
    ) -> Result<CopyObjectOutput, ServiceError> {
        self.s3.copy_object(ctx, input).await
    }

    async fn get_object_attributes(
        &self,
        ctx: &RequestContext,
        input: GetObjectAttributesRequest,
    ) -> Result<GetObjectAttributesOutput, ServiceError> {
        self.s3.get_object_attributes(ctx, &input)
    }

    // methods: versions-tags-lock
    async fn put_bucket_versioning(
        &self,
        ctx: &RequestContext,
        input: PutBucketVersioningRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_versioning(ctx, input).await
    }

    async fn get_bucket_versioning(
        &self,
        ctx: &RequestContext,
        input: GetBucketVersioningRequest,
    ) -> Result<GetBucketVersioningOutput, ServiceError> {
        self.s3.get_bucket_versioning(ctx, &input)
    }

    async fn delete_objects(
        &self,
        ctx: &RequestContext,
        input: DeleteObjectsRequest,
    ) -> Result<DeleteObjectsOutput, ServiceError> {
        self.s3.delete_objects(ctx, input).await
    }

    async fn put_object_tagging(
        &self,
        ctx: &RequestContext,
        input: PutObjectTaggingRequest,
    ) -> Result<PutObjectTaggingOutput, ServiceError> {
        self.s3.put_object_tagging(ctx, input).await
    }

    async fn get_object_tagging(
        &self,
        ctx: &RequestContext,
        input: GetObjectTaggingRequest,
    ) -> Result<GetObjectTaggingOutput, ServiceError> {
        self.s3.get_object_tagging(ctx, &input)
    }

    async fn delete_object_tagging(
        &self,
        ctx: &RequestContext,
        input: DeleteObjectTaggingRequest,
    ) -> Result<DeleteObjectTaggingOutput, ServiceError> {
        self.s3.delete_object_tagging(ctx, &input).await
    }

    async fn put_object_acl(
        &self,
        ctx: &RequestContext,
        input: PutObjectAclRequest,
    ) -> Result<PutObjectAclOutput, ServiceError> {
        self.s3.put_object_acl(ctx, input).await
    }

    async fn get_object_acl(
        &self,
        ctx: &RequestContext,
        input: GetObjectAclRequest,
    ) -> Result<GetObjectAclOutput, ServiceError> {
        self.s3.get_object_acl(ctx, &input)
    }

    async fn put_object_lock_configuration(
        &self,
        ctx: &RequestContext,
        input: PutObjectLockConfigurationRequest,
    ) -> Result<PutObjectLockConfigurationOutput, ServiceError> {
        self.s3.put_object_lock_configuration(ctx, input).await
    }

    async fn get_object_lock_configuration(
        &self,
        ctx: &RequestContext,
        input: GetObjectLockConfigurationRequest,
    ) -> Result<GetObjectLockConfigurationOutput, ServiceError> {
        self.s3.get_object_lock_configuration(ctx, &input)
    }

    async fn put_object_retention(
        &self,
        ctx: &RequestContext,
        input: PutObjectRetentionRequest,
    ) -> Result<PutObjectRetentionOutput, ServiceError> {
        self.s3.put_object_retention(ctx, input).await
    }

    async fn get_object_retention(
        &self,
        ctx: &RequestContext,
        input: GetObjectRetentionRequest,
    ) -> Result<GetObjectRetentionOutput, ServiceError> {
        self.s3.get_object_retention(ctx, &input)
    }

    async fn put_object_legal_hold(
        &self,
        ctx: &RequestContext,
        input: PutObjectLegalHoldRequest,
    ) -> Result<PutObjectLegalHoldOutput, ServiceError> {
        self.s3.put_object_legal_hold(ctx, input).await
    }

    async fn get_object_legal_hold(
        &self,
        ctx: &RequestContext,
        input: GetObjectLegalHoldRequest,
    ) -> Result<GetObjectLegalHoldOutput, ServiceError> {
        self.s3.get_object_legal_hold(ctx, &input)
    }

    // methods: bucket-config
    async fn put_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: PutBucketTaggingRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_tagging(ctx, input).await
    }

    async fn get_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: GetBucketTaggingRequest,
    ) -> Result<GetBucketTaggingOutput, ServiceError> {
        self.s3.get_bucket_tagging(ctx, &input)
    }

    async fn delete_bucket_tagging(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketTaggingRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_tagging(ctx, &input).await
    }

    async fn put_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: PutBucketPolicyRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_policy(ctx, input).await
    }

    async fn get_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: GetBucketPolicyRequest,
    ) -> Result<GetBucketPolicyOutput, ServiceError> {
        self.s3.get_bucket_policy(ctx, &input)
    }

    async fn get_bucket_policy_status(
        &self,
        ctx: &RequestContext,
        input: GetBucketPolicyStatusRequest,
    ) -> Result<GetBucketPolicyStatusOutput, ServiceError> {
        self.s3.get_bucket_policy_status(ctx, &input)
    }

    async fn delete_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketPolicyRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_policy(ctx, &input).await
    }

    async fn put_bucket_acl(
        &self,
        ctx: &RequestContext,
        input: PutBucketAclRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_acl(ctx, input).await
    }

    async fn get_bucket_acl(
        &self,
        ctx: &RequestContext,
        input: GetBucketAclRequest,
    ) -> Result<GetBucketAclOutput, ServiceError> {
        self.s3.get_bucket_acl(ctx, &input)
    }

    async fn put_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: PutBucketOwnershipControlsRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_ownership_controls(ctx, input).await
    }

    async fn get_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: GetBucketOwnershipControlsRequest,
    ) -> Result<GetBucketOwnershipControlsOutput, ServiceError> {
        self.s3.get_bucket_ownership_controls(ctx, &input)
    }

    async fn delete_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketOwnershipControlsRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_ownership_controls(ctx, &input).await
    }

    async fn put_public_access_block(
        &self,
        ctx: &RequestContext,
        input: PutPublicAccessBlockRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_public_access_block(ctx, input).await
    }

    async fn get_public_access_block(
        &self,
        ctx: &RequestContext,
        input: GetPublicAccessBlockRequest,
    ) -> Result<GetPublicAccessBlockOutput, ServiceError> {
        self.s3.get_public_access_block(ctx, &input)
    }

    async fn delete_public_access_block(
        &self,
        ctx: &RequestContext,
        input: DeletePublicAccessBlockRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_public_access_block(ctx, &input).await
    }

    async fn put_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: PutBucketEncryptionRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_encryption(ctx, input).await
    }

    async fn get_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: GetBucketEncryptionRequest,
    ) -> Result<GetBucketEncryptionOutput, ServiceError> {
        self.s3.get_bucket_encryption(ctx, &input)
    }

    async fn delete_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketEncryptionRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_encryption(ctx, &input).await
    }

    async fn put_bucket_logging(
        &self,
        ctx: &RequestContext,
        input: PutBucketLoggingRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_logging(ctx, input).await
    }

    async fn get_bucket_logging(
        &self,
        ctx: &RequestContext,
        input: GetBucketLoggingRequest,
    ) -> Result<GetBucketLoggingOutput, ServiceError> {
        self.s3.get_bucket_logging(ctx, &input)
    }

    async fn put_bucket_request_payment(
        &self,
        ctx: &RequestContext,
        input: PutBucketRequestPaymentRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_request_payment(ctx, input).await
    }

    async fn get_bucket_request_payment(
        &self,
        ctx: &RequestContext,
        input: GetBucketRequestPaymentRequest,
    ) -> Result<GetBucketRequestPaymentOutput, ServiceError> {
        self.s3.get_bucket_request_payment(ctx, &input)
    }

    async fn put_bucket_abac(&self, ctx: &RequestContext, input: PutBucketAbacRequest) -> Result<(), ServiceError> {
        self.s3.put_bucket_abac(ctx, input).await
    }

    async fn get_bucket_abac(
        &self,
        ctx: &RequestContext,
        input: GetBucketAbacRequest,
    ) -> Result<GetBucketAbacOutput, ServiceError> {
        self.s3.get_bucket_abac(ctx, &input)
    }

    async fn put_bucket_accelerate_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketAccelerateConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_accelerate_configuration(ctx, input).await
    }

    async fn get_bucket_accelerate_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketAccelerateConfigurationRequest,
    ) -> Result<GetBucketAccelerateConfigurationOutput, ServiceError> {
        self.s3.get_bucket_accelerate_configuration(ctx, &input)
    }

    async fn put_bucket_replication(
        &self,
        ctx: &RequestContext,
        input: PutBucketReplicationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_replication(ctx, input).await
    }

    async fn get_bucket_replication(
        &self,
        ctx: &RequestContext,
        input: GetBucketReplicationRequest,
    ) -> Result<GetBucketReplicationOutput, ServiceError> {
        self.s3.get_bucket_replication(ctx, &input)
    }

    async fn delete_bucket_replication(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketReplicationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_replication(ctx, &input).await
    }

    async fn put_bucket_notification_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketNotificationConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_notification_configuration(ctx, input).await
    }

    async fn get_bucket_notification_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketNotificationConfigurationRequest,
    ) -> Result<NotificationConfiguration, ServiceError> {
        self.s3.get_bucket_notification_configuration(ctx, &input)
    }

    async fn put_bucket_notification(
        &self,
        ctx: &RequestContext,
        input: PutBucketNotificationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_notification(ctx, input).await
    }

    async fn get_bucket_notification(
        &self,
        ctx: &RequestContext,
        input: GetBucketNotificationConfigurationRequest,
    ) -> Result<NotificationConfigurationDeprecated, ServiceError> {
        self.s3.get_bucket_notification(ctx, &input)
    }

    async fn put_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketAnalyticsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_analytics_configuration(ctx, input).await
    }

    async fn get_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketAnalyticsConfigurationRequest,
    ) -> Result<GetBucketAnalyticsConfigurationOutput, ServiceError> {
        self.s3.get_bucket_analytics_configuration(ctx, &input)
    }

    async fn delete_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketAnalyticsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_analytics_configuration(ctx, &input).await
    }

    async fn list_bucket_analytics_configurations(
        &self,
        ctx: &RequestContext,
        input: ListBucketAnalyticsConfigurationsRequest,
    ) -> Result<ListBucketAnalyticsConfigurationsOutput, ServiceError> {
        self.s3.list_bucket_analytics_configurations(ctx, &input)
    }

    async fn put_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketMetricsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_metrics_configuration(ctx, input).await
    }

    async fn get_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketMetricsConfigurationRequest,
    ) -> Result<GetBucketMetricsConfigurationOutput, ServiceError> {
        self.s3.get_bucket_metrics_configuration(ctx, &input)
    }

    async fn delete_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketMetricsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_metrics_configuration(ctx, &input).await
    }

    async fn list_bucket_metrics_configurations(
        &self,
        ctx: &RequestContext,
        input: ListBucketMetricsConfigurationsRequest,
    ) -> Result<ListBucketMetricsConfigurationsOutput, ServiceError> {
        self.s3.list_bucket_metrics_configurations(ctx, &input)
    }

    async fn put_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketInventoryConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_inventory_configuration(ctx, input).await
    }

    async fn get_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketInventoryConfigurationRequest,
    ) -> Result<GetBucketInventoryConfigurationOutput, ServiceError> {
        self.s3.get_bucket_inventory_configuration(ctx, &input)
    }

    async fn delete_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketInventoryConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_inventory_configuration(ctx, &input).await
    }

    async fn list_bucket_inventory_configurations(
        &self,
        ctx: &RequestContext,
        input: ListBucketInventoryConfigurationsRequest,
    ) -> Result<ListBucketInventoryConfigurationsOutput, ServiceError> {
        self.s3.list_bucket_inventory_configurations(ctx, &input)
    }

    async fn put_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketIntelligentTieringConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_intelligent_tiering_configuration(ctx, input).await
    }

    async fn get_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketIntelligentTieringConfigurationRequest,
    ) -> Result<GetBucketIntelligentTieringConfigurationOutput, ServiceError> {
        self.s3.get_bucket_intelligent_tiering_configuration(ctx, &input)
    }

    async fn delete_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketIntelligentTieringConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_intelligent_tiering_configuration(ctx, &input).await
    }

    async fn list_bucket_intelligent_tiering_configurations(
        &self,
        ctx: &RequestContext,
        input: ListBucketIntelligentTieringConfigurationsRequest,
    ) -> Result<ListBucketIntelligentTieringConfigurationsOutput, ServiceError> {
        self.s3.list_bucket_intelligent_tiering_configurations(ctx, &input)
    }

    async fn put_bucket_lifecycle_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketLifecycleConfigurationRequest,
    ) -> Result<PutBucketLifecycleConfigurationOutput, ServiceError> {
        self.s3.put_bucket_lifecycle_configuration(ctx, input).await
    }

    async fn get_bucket_lifecycle_configuration(
        &self,
        ctx: &RequestContext,
        input: GetBucketLifecycleConfigurationRequest,
    ) -> Result<GetBucketLifecycleConfigurationOutput, ServiceError> {
        self.s3.get_bucket_lifecycle_configuration(ctx, &input)
    }

    async fn delete_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: DeleteBucketLifecycleRequest,
    ) -> Result<(), ServiceError> {
        self.s3.delete_bucket_lifecycle(ctx, &input).await
    }

    async fn put_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: PutBucketLifecycleRequest,
    ) -> Result<(), ServiceError> {
        self.s3.put_bucket_lifecycle(ctx, input).await
    }

    async fn get_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: GetBucketLifecycleRequest,
    ) -> Result<GetBucketLifecycleOutput, ServiceError> {
        self.s3.get_bucket_lifecycle(ctx, &input)
    }


    // methods: http-surface

    async fn put_bucket_cors(&self, ctx: &RequestContext, input: PutBucketCorsRequest) -> Result<(), ServiceError> {
        self.s3.put_bucket_cors(ctx, input).await
    }

    async fn get_bucket_cors(&self, ctx: &RequestContext, input: GetBucketCorsRequest) -> Result<GetBucketCorsOutput, ServiceError> {
        self.s3.get_bucket_cors(ctx, &input)
    }

    async fn delete_bucket_cors(&self, ctx: &RequestContext, input: DeleteBucketCorsRequest) -> Result<(), ServiceError> {
        self.s3.delete_bucket_cors(ctx, &input).await
    }

    async fn put_bucket_website(&self, ctx: &RequestContext, input: PutBucketWebsiteRequest) -> Result<(), ServiceError> {
        self.s3.put_bucket_website(ctx, input).await
    }

    async fn get_bucket_website(&self, ctx: &RequestContext, input: GetBucketWebsiteRequest) -> Result<GetBucketWebsiteOutput, ServiceError> {
        self.s3.get_bucket_website(ctx, &input)
    }

    async fn delete_bucket_website(&self, ctx: &RequestContext, input: DeleteBucketWebsiteRequest) -> Result<(), ServiceError> {
        self.s3.delete_bucket_website(ctx, &input).await
    }

    /// S3 reports malformed requests as InvalidArgument / InvalidRequest, and an XML
    /// body that lacks a required element or does not fit the schema as MalformedXML.
    fn input_error(&self, operation: &str, error: ShapeError) -> ServiceError {
        if xml_payload_member(operation)
            .is_some_and(|p| error.member() == p || error.member().strip_prefix(p).is_some_and(|r| r.starts_with('.')))
        {
            return errors::malformed_xml();
        }
        if let ShapeError::Invalid { member, detail } = &error
            && let Some(wire) = integer_query_parameter(operation, member)
        {
            // An integer the protocol read but that does not fit 32 bits (`max-keys=99999999999`).
            let value = detail.split_whitespace().next().unwrap_or_default();
            return ServiceError::new(
                "InvalidArgument",
                400,
                format!("Provided {wire} not an integer or within integer range"),
            )
            .with_field("ArgumentName", wire)
            .with_field("ArgumentValue", value);
        }
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

/// The member of `operation`'s input that is its XML body, when the body is an XML
/// document (not a blob such as PutObject's).
fn xml_payload_member(operation: &str) -> Option<&'static str> {
    static PAYLOADS: LazyLock<std::collections::HashMap<&'static str, &'static str>> = LazyLock::new(|| {
        let Some(model) = kagami_model::service("s3").map(|s| s.model()) else { return Default::default() };
        model
            .operations
            .iter()
            .filter_map(|(name, op)| {
                let input = model.shapes.get(&op.input.as_ref()?.shape)?;
                let payload = input.payload.as_deref()?;
                let target = model.shapes.get(&input.members.get(payload)?.shape)?;
                (target.shape_type == kagami_model::ShapeType::Structure).then_some((name.as_str(), payload))
            })
            .collect()
    });
    PAYLOADS.get(operation).copied()
}

/// The query parameter name of `member` of `operation`'s input when it is an integer
/// bound to the query string (`MaxKeys` is `max-keys`).
fn integer_query_parameter(operation: &str, member: &str) -> Option<&'static str> {
    let model = kagami_model::service("s3")?.model();
    let input = model.shapes.get(&model.operations.get(operation)?.input.as_ref()?.shape)?;
    let r = input.members.get(member)?;
    let target = model.shapes.get(&r.shape)?;
    (r.location.as_deref() == Some("querystring") && target.shape_type == kagami_model::ShapeType::Integer)
        .then_some(r.location_name.as_deref()?)
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
        Box::pin(async move {
            if operation == "ListObjectVersions" {
                return self.list_object_versions(ctx, input);
            }
            if operation == "RestoreObject" {
                return self.restore_object(ctx, input).await;
            }
            // S3 insists on an integrity check of a multi-object delete's body (botocore
            // always sends one).
            if operation == "DeleteObjects"
                && input.get(kagami_protocol::INTEGRITY_MEMBER) == Some(&Value::Bool(false))
            {
                return Err(errors::missing_content_md5());
            }
            // Every operation on one version of an object refuses an id S3 could not
            // have issued before it looks for the bucket or the object.
            if let Some(Value::Str(id)) = input.get("VersionId")
                && !id.is_empty()
                && !versions::is_well_formed_version_id(id)
            {
                return Err(errors::invalid_version_id(id));
            }
            let output = generated::dispatch(&self.provider, ctx, operation, input).await?;
            Ok(ranges::partial_content_status(operation, output))
        })
    }

    fn reset(&self) {
        self.provider.s3.reset();
    }

    fn http_surface<'a>(
        &'a self,
        ctx: &'a RequestContext,
        req: kagami_core::service::HttpSurfaceRequest,
    ) -> BoxFuture<'a, Option<Result<kagami_protocol::HttpResponse, ServiceError>>> {
        Box::pin(http::answer(&self.provider.s3, ctx, req))
    }
}

impl S3Service {
    /// RestoreObject answers 202 when it starts a restore, 200 when it extends one.
    async fn restore_object(&self, ctx: &RequestContext, input: Value) -> Result<Value, ServiceError> {
        use kagami_protocol::{FromValue, IntoValue};
        let input = RestoreObjectRequest::from_value(input).map_err(|e| self.provider.input_error("RestoreObject", e))?;
        let restored = self.provider.s3.restore_object(ctx, input).await?;
        let mut value = restored.output.into_value();
        if let Value::Map(map) = &mut value {
            let status = if restored.started { 202 } else { 200 };
            map.insert(kagami_protocol::STATUS_MEMBER.to_string(), Value::Int(status));
        }
        Ok(value)
    }

    /// ListObjectVersions with the protocol engine told how to interleave its
    /// `<Version>` and `<DeleteMarker>` elements.
    fn list_object_versions(&self, ctx: &RequestContext, input: Value) -> Result<Value, ServiceError> {
        use kagami_protocol::{FromValue, IntoValue};
        let input = ListObjectVersionsRequest::from_value(input)
            .map_err(|e| self.provider.input_error("ListObjectVersions", e))?;
        let (output, order) = self.provider.s3.list_object_versions_in_order(ctx, &input)?;
        let mut value = output.into_value();
        if let Value::Map(map) = &mut value {
            let order = order.into_iter().map(|m| Value::Str(m.to_string())).collect();
            map.insert(kagami_protocol::XML_ORDER_MEMBER.to_string(), Value::List(order));
        }
        Ok(value)
    }
}

/// Builds the S3 service, loading buckets and object metadata from a durable store and
/// sweeping body files a crash left behind, and starts the lifecycle runner.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    let s3 = Arc::new(S3::new(env.store.clone())?);
    bucket_config::lifecycle_runner::start(&s3);
    Ok(Arc::new(S3Service {
        provider: S3Provider { s3 },
    }))
}
