//! PutPublicAccessBlock, GetPublicAccessBlock, DeletePublicAccessBlock.
//!
//! Since April 2023 AWS creates every bucket with all four settings on, so a new bucket
//! answers GetPublicAccessBlock with them; only after DeletePublicAccessBlock is there
//! no configuration (NoSuchPublicAccessBlockConfiguration). The settings are acted on:
//! `BlockPublicAcls` refuses public ACLs (`acl.rs`), `BlockPublicPolicy` public bucket
//! policies (`policy.rs`).

use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::shapes::FromValue;

pub const OPERATIONS: &[&str] = &[
    "DeletePublicAccessBlock",
    "GetPublicAccessBlock",
    "PutPublicAccessBlock",
];

const CONFIG: &str = "PublicAccessBlock";

/// What AWS applies to new buckets (S3 User Guide, "Blocking public access").
fn new_bucket_default() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration {
        block_public_acls: Some(true),
        ignore_public_acls: Some(true),
        block_public_policy: Some(true),
        restrict_public_buckets: Some(true),
    }
}

/// The bucket's settings in force: the new-bucket default until one is put or deleted.
pub fn public_access_block(bucket: &Bucket) -> Option<PublicAccessBlockConfiguration> {
    match bucket.config.get(CONFIG) {
        None => Some(new_bucket_default()),
        // Deleted: stored as an explicit null, so the default does not come back.
        Some(Value::Null) => None,
        Some(v) => PublicAccessBlockConfiguration::from_value(v.clone()).ok(),
    }
}

pub fn blocks_public_acls(bucket: &Bucket) -> bool {
    public_access_block(bucket).is_some_and(|c| c.block_public_acls == Some(true))
}

pub fn blocks_public_policy(bucket: &Bucket) -> bool {
    public_access_block(bucket).is_some_and(|c| c.block_public_policy == Some(true))
}

impl S3 {
    pub async fn put_public_access_block(
        &self,
        ctx: &RequestContext,
        input: PutPublicAccessBlockRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let c = &input.public_access_block_configuration;
        if c.block_public_acls.is_none()
            && c.ignore_public_acls.is_none()
            && c.block_public_policy.is_none()
            && c.restrict_public_buckets.is_none()
        {
            return Err(invalid_request("Must specify at least one configuration."));
        }
        // Unset members read as false, and GetPublicAccessBlock reports all four.
        let stored = PublicAccessBlockConfiguration {
            block_public_acls: Some(c.block_public_acls.unwrap_or(false)),
            ignore_public_acls: Some(c.ignore_public_acls.unwrap_or(false)),
            block_public_policy: Some(c.block_public_policy.unwrap_or(false)),
            restrict_public_buckets: Some(c.restrict_public_buckets.unwrap_or(false)),
        };
        self.put_config(ctx, &input.bucket, CONFIG, stored).await
    }

    pub fn get_public_access_block(
        &self,
        ctx: &RequestContext,
        input: &GetPublicAccessBlockRequest,
    ) -> Result<GetPublicAccessBlockOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config = self.with_bucket(ctx, &input.bucket, |b| Ok(public_access_block(b)))?;
        let config = config.ok_or_else(|| {
            configuration_not_found(
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
                &input.bucket,
            )
        })?;
        Ok(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(config),
        })
    }

    pub async fn delete_public_access_block(
        &self,
        ctx: &RequestContext,
        input: &DeletePublicAccessBlockRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.set_bucket_config(ctx, &input.bucket, CONFIG, Some(Value::Null))
            .await
    }
}
