//! PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption.
//!
//! Since January 2023 every bucket encrypts new objects with SSE-S3 by default, so a
//! bucket without an explicit configuration reports the AES256 rule (BucketKeyEnabled
//! false) and DeleteBucketEncryption returns it to that. Object writes without SSE
//! headers apply the stored configuration (`sse.rs` reads it).

use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError};

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketEncryption",
    "GetBucketEncryption",
    "PutBucketEncryption",
];

const CONFIG: &str = "Encryption";

const SSE_ALGORITHMS: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

/// The SSE-S3 rule AWS applies to buckets without a configuration of their own.
fn sse_s3_default() -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration {
        rules: vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                sse_algorithm: "AES256".to_string(),
                kms_master_key_id: None,
            }),
            bucket_key_enabled: Some(false),
            blocked_encryption_types: None,
        }],
    }
}

/// The bucket's encryption configuration in force.
pub fn bucket_encryption(bucket: &Bucket) -> ServerSideEncryptionConfiguration {
    super::config_in(bucket, CONFIG)
        .ok()
        .flatten()
        .unwrap_or_else(sse_s3_default)
}

fn validate(config: &ServerSideEncryptionConfiguration) -> Result<(), ServiceError> {
    if config.rules.is_empty() {
        return Err(malformed_xml());
    }
    for rule in &config.rules {
        let Some(by_default) = &rule.apply_server_side_encryption_by_default else {
            continue;
        };
        if !SSE_ALGORITHMS.contains(&by_default.sse_algorithm.as_str()) {
            return Err(malformed_xml());
        }
        if by_default.sse_algorithm == "AES256" && by_default.kms_master_key_id.is_some() {
            return Err(invalid_argument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                "ApplyServerSideEncryptionByDefault",
                "",
            ));
        }
    }
    Ok(())
}

impl S3 {
    pub async fn put_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: PutBucketEncryptionRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        validate(&input.server_side_encryption_configuration)?;
        self.put_config(
            ctx,
            &input.bucket,
            CONFIG,
            input.server_side_encryption_configuration,
        )
        .await
    }

    pub fn get_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: &GetBucketEncryptionRequest,
    ) -> Result<GetBucketEncryptionOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config = self.with_bucket(ctx, &input.bucket, |b| Ok(bucket_encryption(b)))?;
        Ok(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(config),
        })
    }

    pub async fn delete_bucket_encryption(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketEncryptionRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_config(ctx, &input.bucket, CONFIG).await
    }
}
